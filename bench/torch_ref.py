#!/usr/bin/env python3
"""PyTorch reference for apt-bench: the same model, shapes and step as the Go row.

A BertModel (modeling_bert.py's math, written out) with P-Tuning v2 prefixes and
APT's gates (docs/methods.md), a sequence-classification head on the pooler, and
one training step = forward, cross-entropy, backward, clip_grad_norm_, AdamW
(weight decay on matrices only). Random weights; fixed-length random batches.
Prints one JSON line. Needs Debian's python3-torch; with the reference BLAS
(libblas3) it is ~10x slower than with OpenBLAS (libopenblas0-pthread), so the
output reports the BLAS in use and a matmul GFLOP/s probe.
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, d, n, f):
        super().__init__()
        self.n, self.hd = n, d // n
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.i, self.out = nn.Linear(d, f), nn.Linear(f, d)

    def forward(self, x, bias, pk=None, pv=None):
        B, T, d = x.shape
        heads = lambda t: t.view(B, t.shape[1], self.n, self.hd).transpose(1, 2)
        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        if pk is not None:
            k = torch.cat([heads(pk), k], 2)
            v = torch.cat([heads(pv), v], 2)
        s = q @ k.transpose(-1, -2) / math.sqrt(self.hd) + bias
        a = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = self.ln1(self.o(a) + x)
        return self.ln2(self.out(F.gelu(self.i(x))) + x)


class Model(nn.Module):
    def __init__(self, a):
        super().__init__()
        d = a.hidden
        self.a = a
        self.we, self.pe, self.te = nn.Embedding(a.vocab, d), nn.Embedding(512, d), nn.Embedding(2, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(Layer(d, a.heads, a.intermediate) for _ in range(a.layers))
        self.pool = nn.Linear(d, d)
        self.head = nn.Linear(d, 2)
        p, L = a.prefix, a.layers
        if a.method in ("pt2", "apt") and p > 0:
            self.pk = nn.Parameter(torch.randn(L, p, d) * 0.02)
            self.pv = nn.Parameter(torch.randn(L, p, d) * 0.02)
        if a.method == "apt" and p > 0:
            self.gw = nn.Parameter(torch.randn(L, d, p) * 0.02)
            self.gb = nn.Parameter(torch.zeros(L, p))
            self.lam = nn.Parameter(torch.ones(L))
        if a.method != "ft":
            for name, prm in self.named_parameters():
                if not (name.startswith(("pk", "pv", "gw", "gb", "lam", "head"))):
                    prm.requires_grad_(False)

    def forward(self, ids, mask):
        B, T = ids.shape
        x = self.ln(self.we(ids) + self.pe(torch.arange(T))[None] + self.te(torch.zeros_like(ids)))
        m = mask.float()
        p = self.a.prefix if hasattr(self, "pk") else 0
        keymask = torch.cat([torch.ones(B, p), m], 1) if p else m
        bias = ((1 - keymask) * torch.finfo(torch.float32).min)[:, None, None, :]
        for i, layer in enumerate(self.layers):
            pk = pv = None
            if p:
                pk, pv = self.pk[i].expand(B, p, -1), self.pv[i].expand(B, p, -1)
                if hasattr(self, "gw"):
                    h = (x * m[..., None]).sum(1) / m.sum(1, keepdim=True)
                    g = (torch.sigmoid(h @ self.gw[i] + self.gb[i]) * self.lam[i])[..., None]
                    pk, pv = g * pk, g * pv
            x = layer(x, bias, pk, pv)
        return self.head(torch.tanh(self.pool(x[:, 0])))


def blas_probe():
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    a @ b
    t = time.perf_counter()
    for _ in range(5):
        a @ b
    return 2 * 512 ** 3 * 5 / (time.perf_counter() - t) / 1e9


def main():
    ap = argparse.ArgumentParser()
    for k, v in dict(layers=12, hidden=768, heads=12, intermediate=3072, vocab=30522, batch=8, seq=128,
                     prefix=16, threads=2, steps=3).items():
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--method", default="apt", choices=["ft", "pt2", "apt"])
    ap.add_argument("--mode", default="train", choices=["train", "infer"])
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Model(a)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 2, (a.batch,))
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.dim() >= 2]
    rest = [p for p in trainable if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)

    def step():
        if a.mode == "infer":
            model.eval()
            with torch.no_grad():
                model(ids, mask)
            return
        model.train()
        loss = F.cross_entropy(model(ids, mask), labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()

    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    print(json.dumps({
        "examples_per_s": a.batch / dt, "tokens_per_s": a.batch * a.seq / dt, "step_s": dt, "first_step_s": first,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "trainable": sum(p.numel() for p in trainable), "blas_gflops": blas_probe(),
    }))


if __name__ == "__main__":
    main()
