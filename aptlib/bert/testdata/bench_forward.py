#!/usr/bin/env python3
"""PyTorch side of BenchmarkForward: the same BERT forward (random weights, eval
mode, no grad) at the given size, on CPU with the given number of threads.
Prints one JSON line: {"tokens_per_s": ..., "seconds": ..., "peak_rss_mib": ...}.

The model is the reference BertModel of make_golden.py (modeling_bert.py's math).
"""
import argparse
import json
import resource
import time

import torch

from make_golden import bert_forward, make_weights, CFG


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--intermediate", type=int, default=3072)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = dict(CFG, vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers,
               num_attention_heads=a.heads, intermediate_size=a.intermediate,
               max_position_embeddings=max(512, a.seq), hidden_act="gelu", layer_norm_eps=1e-12)
    W = make_weights(cfg, prefixed=False, gamma_beta=False)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        bert_forward(W, cfg, ids, types, mask)  # warm-up
        t0 = time.perf_counter()
        for _ in range(a.iters):
            bert_forward(W, cfg, ids, types, mask)
        dt = (time.perf_counter() - t0) / a.iters
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_s": a.batch * a.seq / dt, "seconds": dt, "peak_rss_mib": rss}))


if __name__ == "__main__":
    main()
