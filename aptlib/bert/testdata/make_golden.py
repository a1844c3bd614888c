#!/usr/bin/env python3
"""Golden values for the Go BERT encoder, computed by an independent reference.

The reference is PyTorch (Debian's python3-torch 1.13; HF transformers is not
installable on our machines) running a BertModel written here line by line after
transformers' modeling_bert.py (BertEmbeddings, BertSelfAttention, BertSelfOutput,
BertIntermediate, BertOutput, BertPooler). Nothing here is shared with the Go code.

It writes three tiny random checkpoints in the HuggingFace model-directory layout,
each exercising a different loading path, and golden.json with the inputs and the
expected sequence and pooled outputs of each:

  tiny-bert-prefixed  F32, names "bert.*", LayerNorm "gamma"/"beta", extra "cls.*"
                      tensors, hidden_act "gelu" (erf), layer_norm_eps 1e-12
  tiny-bert-plain     F16, names without prefix, LayerNorm "weight"/"bias",
                      hidden_act "gelu_new" (tanh), layer_norm_eps 1e-12
  tiny-bert-sharded   BF16 in two shards + model.safetensors.index.json,
                      hidden_act "gelu_pytorch_tanh", layer_norm_eps 1e-5

Weights are drawn N(0, 0.02) as BERT initialises them, so embedding sums are small and
a wrong LayerNorm epsilon moves the outputs far past 1e-4; query/key and intermediate
weights are drawn larger so that a wrong attention scale or GELU form shows too.
F16/BF16 checkpoints are evaluated with the rounded weights widened to F32, which is
what the Go loader does.

Run from this directory:  /usr/bin/python3 make_golden.py
"""
import json
import math
import os
import struct

import numpy as np
import torch

torch.manual_seed(0)
np.random.seed(0)

CFG = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
           intermediate_size=37, max_position_embeddings=64, type_vocab_size=2,
           hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
           initializer_range=0.02, model_type="bert", architectures=["BertModel"])


def make_weights(cfg, prefixed, gamma_beta):
    d, f, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    g = torch.Generator().manual_seed(1234)

    def rnd(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    def ln(name):
        w, b = ("gamma", "beta") if gamma_beta else ("weight", "bias")
        return {f"{name}.{w}": 1.0 + rnd(d, std=0.1), f"{name}.{b}": rnd(d, std=0.1)}

    w = {
        "embeddings.word_embeddings.weight": rnd(V, d),
        "embeddings.position_embeddings.weight": rnd(cfg["max_position_embeddings"], d),
        "embeddings.token_type_embeddings.weight": rnd(cfg["type_vocab_size"], d),
    }
    w.update(ln("embeddings.LayerNorm"))
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            # Larger query/key weights make the scores O(1), so a wrong 1/sqrt(d/n) shows.
            w[p + f"attention.self.{n}.weight"] = rnd(d, d, std=0.3 if n != "value" else 0.02)
            w[p + f"attention.self.{n}.bias"] = rnd(d)
        w[p + "attention.output.dense.weight"] = rnd(d, d)
        w[p + "attention.output.dense.bias"] = rnd(d)
        w.update(ln(p + "attention.output.LayerNorm"))
        # Pre-activations of O(1) make the erf and tanh GELU forms differ visibly.
        w[p + "intermediate.dense.weight"] = rnd(f, d, std=0.8)
        w[p + "intermediate.dense.bias"] = rnd(f)
        w[p + "output.dense.weight"] = rnd(d, f, std=0.2)
        w[p + "output.dense.bias"] = rnd(d)
        w.update(ln(p + "output.LayerNorm"))
    w["pooler.dense.weight"] = rnd(d, d)
    w["pooler.dense.bias"] = rnd(d)
    if prefixed:
        w = {"bert." + k: v for k, v in w.items()}
        # Extra heads of a BertForPreTraining checkpoint: the loader must ignore them.
        w["cls.predictions.bias"] = rnd(V)
        w["cls.predictions.transform.dense.weight"] = rnd(d, d)
    return w


# ---- safetensors writer, after the format description in huggingface/safetensors ----
DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (None, 2)}


def to_bytes(t, dtype):
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, dtype, metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = to_bytes(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as fp:
        fp.write(struct.pack("<Q", len(h)))
        fp.write(h)
        for b in blobs:
            fp.write(b)


def rounded(tensors, dtype):
    tt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    return {k: v.to(tt).to(torch.float32) for k, v in tensors.items()}


# ---- the reference BertModel (eval mode: no dropout) ----
def gelu(x, act):
    if act == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if act in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    raise ValueError(act)


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def linear(x, w, b):
    return x @ w.T + b


def bert_forward(W, cfg, ids, types, mask, prefixes=None, offset=0):
    """BertModel's forward. prefixes (optional): per layer None or (key, value)
    [p_i, d], put in front of that layer's projected keys and values per head,
    as BertSelfAttention concatenates past_key_value, with the attention mask
    cat(1_p, mask) for that layer. offset: BertEmbeddings' past_key_values_length,
    position_ids[offset : offset + T] (make_golden_offset.py)."""
    def get(name):
        for cand in (name, name.replace(".weight", ".gamma").replace(".bias", ".beta")):
            for key in (cand, "bert." + cand):
                if key in W:
                    return W[key]
        raise KeyError(name)

    eps, act = cfg["layer_norm_eps"], cfg["hidden_act"]
    n, d = cfg["num_attention_heads"], cfg["hidden_size"]
    hd = d // n
    B, T = ids.shape
    pos = torch.arange(offset, offset + T).unsqueeze(0).expand(B, T)
    x = get("embeddings.word_embeddings.weight")[ids] + get("embeddings.position_embeddings.weight")[pos] \
        + get("embeddings.token_type_embeddings.weight")[types]
    x = layer_norm(x, get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"), eps)
    ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def heads(t):
            return t.view(B, t.shape[1], n, hd).permute(0, 2, 1, 3)

        q = heads(linear(x, get(p + "attention.self.query.weight"), get(p + "attention.self.query.bias")))
        k = heads(linear(x, get(p + "attention.self.key.weight"), get(p + "attention.self.key.bias")))
        v = heads(linear(x, get(p + "attention.self.value.weight"), get(p + "attention.self.value.bias")))
        layer_ext = ext
        if prefixes is not None and prefixes[i] is not None:
            pk, pv = prefixes[i]
            k = torch.cat([heads(pk.expand(B, -1, -1)), k], dim=2)
            v = torch.cat([heads(pv.expand(B, -1, -1)), v], dim=2)
            layer_ext = torch.cat([torch.zeros(B, 1, 1, pk.shape[0]), ext], dim=-1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + layer_ext
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, T, d)
        a = linear(ctx, get(p + "attention.output.dense.weight"), get(p + "attention.output.dense.bias"))
        x = layer_norm(a + x, get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias"), eps)
        h = gelu(linear(x, get(p + "intermediate.dense.weight"), get(p + "intermediate.dense.bias")), act)
        o = linear(h, get(p + "output.dense.weight"), get(p + "output.dense.bias"))
        x = layer_norm(o + x, get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias"), eps)
    pooled = torch.tanh(linear(x[:, 0], get("pooler.dense.weight"), get("pooler.dense.bias")))
    return x, pooled


def vocab_lines(V):
    special = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    # Index 0..5 as above (PAD=0, UNK=2, CLS=3, SEP=4, MASK=5: not bert-base's ids, on purpose).
    words = [f"w{i}" for i in range(V - len(special))]
    return special + words


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    # A padded batch with two segments: [CLS] a [SEP] b [SEP] [PAD]...
    ids = torch.tensor([
        [3, 10, 11, 12, 4, 20, 21, 4, 0, 0, 0, 0],
        [3, 30, 31, 32, 33, 34, 4, 40, 41, 42, 43, 4],
        [3, 50, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ])
    types = torch.tensor([
        [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ])
    mask = (torch.arange(12)[None, :] < torch.tensor([[8], [12], [3]])).to(torch.int64)

    variants = [
        ("tiny-bert-prefixed", "F32", True, True, "gelu", 1e-12, 1),
        ("tiny-bert-plain", "F16", False, False, "gelu_new", 1e-12, 1),
        ("tiny-bert-sharded", "BF16", False, True, "gelu_pytorch_tanh", 1e-5, 2),
    ]
    golden = {"input_ids": ids.tolist(), "token_type_ids": types.tolist(),
              "attention_mask": mask.tolist(), "variants": {}}
    for name, dtype, prefixed, gb, act, eps, shards in variants:
        cfg = dict(CFG, hidden_act=act, layer_norm_eps=eps, torch_dtype={"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype])
        W = make_weights(cfg, prefixed, gb)
        out = os.path.join(here, name)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as fp:
            json.dump(cfg, fp, indent=2, sort_keys=True)
        with open(os.path.join(out, "vocab.txt"), "w") as fp:
            fp.write("\n".join(vocab_lines(cfg["vocab_size"])) + "\n")
        if shards == 1:
            write_safetensors(os.path.join(out, "model.safetensors"), W, dtype, {"format": "pt"})
        else:
            names = sorted(W)
            half = len(names) // 2
            parts = [names[:half], names[half:]]
            weight_map = {}
            for j, part in enumerate(parts):
                fname = f"model-{j + 1:05d}-of-{len(parts):05d}.safetensors"
                write_safetensors(os.path.join(out, fname), {k: W[k] for k in part}, dtype, {"format": "pt"})
                weight_map.update({k: fname for k in part})
            with open(os.path.join(out, "model.safetensors.index.json"), "w") as fp:
                json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, fp, indent=2, sort_keys=True)
        with torch.no_grad():
            seq, pooled = bert_forward(rounded(W, dtype), cfg, ids, types, mask)
        golden["variants"][name] = {
            "sequence_output": np.round(seq.numpy().astype(np.float64), 8).tolist(),
            "pooled_output": np.round(pooled.numpy().astype(np.float64), 8).tolist(),
        }
    with open(os.path.join(here, "golden.json"), "w") as fp:
        json.dump(golden, fp)
    print("wrote", ", ".join(v[0] for v in variants), "and golden.json")


if __name__ == "__main__":
    main()
