#!/usr/bin/env python3
"""Golden values for the Go RoBERTa encoder, computed by an independent reference.

The reference is PyTorch (Debian's python3-torch 1.13; HF transformers is not
installable on our machines) running a RobertaModel written here line by line after
transformers' models/roberta/modeling_roberta.py: create_position_ids_from_input_ids,
RobertaEmbeddings, RobertaSelfAttention (BertSelfAttention with past_key_value),
RobertaSelfOutput, RobertaIntermediate, RobertaOutput, RobertaPooler. Nothing here is
shared with the Go code.

It writes three tiny random checkpoints in the HuggingFace model-directory layout and
golden.json with the inputs and the expected outputs:

  tiny-roberta-prefixed  F32, names "roberta.*" (RobertaForSequenceClassification /
                         RobertaForMaskedLM layout) with extra "lm_head.*" tensors,
                         with a pooler
  tiny-roberta-plain     F16, names without prefix (RobertaModel layout), with a pooler
  tiny-roberta-nopooler  BF16, names "roberta.*" plus "lm_head.*" and no pooler tensors,
                         as real roberta-base is saved (sequence output only)

Each checkpoint has its own configuration (hidden_act, layer_norm_eps) so the loading
paths differ. pad_token_id is 1 as in roberta-base, type_vocab_size 1, and
max_position_embeddings 40 = 38 tokens + pad + 1.

The batch is three RoBERTa pairs "<s> A </s></s> B </s>" (<s>=0, </s>=2, <pad>=1),
padded with <pad>; positions come from the ids, so padded tokens take position row
pad_token_id and real tokens pad+1, pad+2, ...

Prefix variants (tiny-roberta-prefixed's weights): fixed key/value slots of unequal
per-layer lengths (layer 1 has none) put in front of each layer's projected keys and
values as P-Tuning v2 does through past_key_values (K = [P^k ; X W_k + b_k], mask
cat(1_p, m)); "offset0" keeps the positions as they are (the workbench's default),
"offset_prefix" shifts them by layer 0's prefix length as HF RobertaModel does with
past_key_values_length (pos_t = pad + (sum_{u<=t} n_u + p) n_t).

Weights are drawn N(0, 0.02) except where a larger scale makes a numerical mistake
visible (query/key weights, the FFN); position embeddings are drawn N(0, 0.5) so a
position off by one row moves the outputs far past 1e-4. F16/BF16 checkpoints are
evaluated with the rounded weights widened to F32, which is what the Go loader does.

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

CFG = dict(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
           intermediate_size=37, max_position_embeddings=40, type_vocab_size=1,
           hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, pad_token_id=1,
           bos_token_id=0, eos_token_id=2, position_embedding_type="absolute",
           initializer_range=0.02, model_type="roberta", architectures=["RobertaModel"])

PREFIX_LENGTHS = [2, 0, 3]  # per layer; layer 1 has no prefix


def make_weights(cfg, prefixed, pooler, seed):
    d, f, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    def ln(name):
        return {f"{name}.weight": 1.0 + rnd(d, std=0.1), f"{name}.bias": rnd(d, std=0.1)}

    w = {
        "embeddings.word_embeddings.weight": rnd(V, d),
        # Large, so that a position taken one row off shows in every output.
        "embeddings.position_embeddings.weight": rnd(cfg["max_position_embeddings"], d, std=0.5),
        "embeddings.token_type_embeddings.weight": rnd(cfg["type_vocab_size"], d),
    }
    w.update(ln("embeddings.LayerNorm"))
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            w[p + f"attention.self.{n}.weight"] = rnd(d, d, std=0.3 if n != "value" else 0.05)
            w[p + f"attention.self.{n}.bias"] = rnd(d)
        w[p + "attention.output.dense.weight"] = rnd(d, d, std=0.05)
        w[p + "attention.output.dense.bias"] = rnd(d)
        w.update(ln(p + "attention.output.LayerNorm"))
        w[p + "intermediate.dense.weight"] = rnd(f, d, std=0.8)
        w[p + "intermediate.dense.bias"] = rnd(f)
        w[p + "output.dense.weight"] = rnd(d, f, std=0.2)
        w[p + "output.dense.bias"] = rnd(d)
        w.update(ln(p + "output.LayerNorm"))
    if pooler:
        w["pooler.dense.weight"] = rnd(d, d, std=0.2)
        w["pooler.dense.bias"] = rnd(d)
    if prefixed:
        w = {"roberta." + k: v for k, v in w.items()}
        # The masked-LM head of RobertaForMaskedLM: the loader must ignore it.
        w["lm_head.dense.weight"] = rnd(d, d)
        w["lm_head.dense.bias"] = rnd(d)
        w["lm_head.layer_norm.weight"] = rnd(d)
        w["lm_head.layer_norm.bias"] = rnd(d)
        w["lm_head.bias"] = rnd(V)
    return w


# ---- safetensors writer, after the format description in huggingface/safetensors ----
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


# ---- the reference RobertaModel (eval mode: no dropout) ----
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


def position_ids(ids, pad, past_len):
    """create_position_ids_from_input_ids: non-pad tokens count up from pad+1
    (+ past_key_values_length), pad tokens take pad."""
    m = ids.ne(pad).int()
    incremental = (torch.cumsum(m, dim=1).type_as(m) + past_len) * m
    return incremental.long() + pad


def roberta_forward(W, cfg, ids, prefix=None, past_len=0, prefix_fn=None):
    """RobertaModel (+ RobertaPooler when the checkpoint has one) on ids [B, T].

    Deep prefixes come either fixed, prefix[i] = (P^k, P^v) [p_i, d] or None,
    shared by the batch, or from prefix_fn(i, x, mask) -> (P^k, P^v) [B, p_i, d]
    or None, called with layer i's input x [B, T, d] (the embedding output for
    i = 0) and the float mask [B, T], so the slots may depend on the layer's
    input (APT's gates, ../../method/testdata/make_apt_golden_families.py).
    The computation runs in the dtype of W."""
    def get(name):
        for key in (name, "roberta." + name):
            if key in W:
                return W[key]
        raise KeyError(name)

    eps, act, pad = cfg["layer_norm_eps"], cfg["hidden_act"], cfg["pad_token_id"]
    n, d = cfg["num_attention_heads"], cfg["hidden_size"]
    hd = d // n
    B, T = ids.shape
    mask = ids.ne(pad).to(torch.float32)  # the tokenizer's attention mask
    pos = position_ids(ids, pad, past_len)
    types = torch.zeros_like(ids)  # RobertaEmbeddings' token_type_ids buffer: all 0
    x = get("embeddings.word_embeddings.weight")[ids] + get("embeddings.token_type_embeddings.weight")[types]
    x = x + get("embeddings.position_embeddings.weight")[pos]
    x = layer_norm(x, get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"), eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def heads(t):
            return t.view(B, t.shape[1], n, hd).permute(0, 2, 1, 3)

        q = heads(linear(x, get(p + "attention.self.query.weight"), get(p + "attention.self.query.bias")))
        k = heads(linear(x, get(p + "attention.self.key.weight"), get(p + "attention.self.key.bias")))
        v = heads(linear(x, get(p + "attention.self.value.weight"), get(p + "attention.self.value.bias")))
        m = mask
        slots = None
        if prefix_fn is not None:
            slots = prefix_fn(i, x, mask)
        elif prefix is not None and prefix[i] is not None:
            pk, pv = prefix[i]  # [p, d] each, broadcast over the batch
            slots = (pk.unsqueeze(0).expand(B, pk.shape[0], d), pv.unsqueeze(0).expand(B, pv.shape[0], d))
        if slots is not None:
            pk, pv = slots  # [B, p, d] each
            plen = pk.shape[1]
            # past_key_value: cat along the key axis after transpose_for_scores
            k = torch.cat([heads(pk), k], dim=2)
            v = torch.cat([heads(pv), v], dim=2)
            m = torch.cat([torch.ones(B, plen), mask], dim=1)
        ext = (1.0 - m[:, None, None, :]) * torch.finfo(torch.float32).min
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + ext
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, T, d)
        a = linear(ctx, get(p + "attention.output.dense.weight"), get(p + "attention.output.dense.bias"))
        x = layer_norm(a + x, get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias"), eps)
        h = gelu(linear(x, get(p + "intermediate.dense.weight"), get(p + "intermediate.dense.bias")), act)
        o = linear(h, get(p + "output.dense.weight"), get(p + "output.dense.bias"))
        x = layer_norm(o + x, get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias"), eps)
    pooled = None
    try:
        pooled = torch.tanh(linear(x[:, 0], get("pooler.dense.weight"), get("pooler.dense.bias")))
    except KeyError:
        pass
    return x, pooled


def vocab_json(V):
    # <s>=0 <pad>=1 </s>=2 <unk>=3 as roberta-base; the rest are placeholders.
    special = ["<s>", "<pad>", "</s>", "<unk>"]
    words = [f"w{i}" for i in range(V - len(special) - 1)]
    return {t: i for i, t in enumerate(special + words + ["<mask>"])}


def r8(t):
    return np.round(t.numpy().astype(np.float64), 8).tolist()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    S, E, P = 0, 2, 1
    ids = torch.tensor([
        [S, 10, 11, 12, E, E, 20, 21, E, P, P, P, P],
        [S, 30, 31, 32, 33, 34, E, E, 40, 41, 42, 43, E],
        [S, 50, E, E, 60, E, P, P, P, P, P, P, P],
    ])
    mask = ids.ne(P).to(torch.int64)

    variants = [
        # name, dtype, prefixed, pooler, hidden_act, layer_norm_eps, seed
        ("tiny-roberta-prefixed", "F32", True, True, "gelu", 1e-5, 1234),
        ("tiny-roberta-plain", "F16", False, True, "gelu_new", 1e-5, 4321),
        ("tiny-roberta-nopooler", "BF16", True, False, "gelu", 1e-12, 777),
    ]
    golden = {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "variants": {}}
    for name, dtype, prefixed, pooler, act, eps, seed in variants:
        cfg = dict(CFG, hidden_act=act, layer_norm_eps=eps,
                   torch_dtype={"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype])
        if prefixed:
            cfg["architectures"] = ["RobertaForMaskedLM"] if not pooler else ["RobertaForSequenceClassification"]
        W = make_weights(cfg, prefixed, pooler, seed)
        out = os.path.join(here, name)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as fp:
            json.dump(cfg, fp, indent=2, sort_keys=True)
        with open(os.path.join(out, "vocab.json"), "w") as fp:
            json.dump(vocab_json(cfg["vocab_size"]), fp)
        with open(os.path.join(out, "merges.txt"), "w") as fp:
            fp.write("#version: 0.2\n")
        write_safetensors(os.path.join(out, "model.safetensors"), W, dtype, {"format": "pt"})
        with torch.no_grad():
            seq, pooled = roberta_forward(rounded(W, dtype), cfg, ids)
        golden["variants"][name] = {"sequence_output": r8(seq)}
        if pooled is not None:
            golden["variants"][name]["pooled_output"] = r8(pooled)
        if name == "tiny-roberta-prefixed":
            W0, cfg0 = rounded(W, dtype), cfg

    # Prefix slots: fixed values, drawn larger than the weights so they matter.
    g = torch.Generator().manual_seed(99)
    d = CFG["hidden_size"]
    prefix = []
    for plen in PREFIX_LENGTHS:
        if plen == 0:
            prefix.append(None)
        else:
            prefix.append((torch.randn(plen, d, generator=g), torch.randn(plen, d, generator=g)))
    golden["prefix"] = {
        "lengths": PREFIX_LENGTHS,
        "key": [None if p is None else r8(p[0]) for p in prefix],
        "value": [None if p is None else r8(p[1]) for p in prefix],
        "variants": {},
    }
    # The reference reads the prefix values as rounded in golden.json, as Go does.
    prefix = [None if p is None else (torch.tensor(r8(p[0]), dtype=torch.float32),
                                      torch.tensor(r8(p[1]), dtype=torch.float32)) for p in prefix]
    for vname, past in (("offset0", 0), ("offset_prefix", PREFIX_LENGTHS[0])):
        with torch.no_grad():
            seq, pooled = roberta_forward(W0, cfg0, ids, prefix=prefix, past_len=past)
        golden["prefix"]["variants"][vname] = {"position_offset": past, "sequence_output": r8(seq),
                                               "pooled_output": r8(pooled)}
    with open(os.path.join(here, "golden.json"), "w") as fp:
        json.dump(golden, fp)
    print("wrote", ", ".join(v[0] for v in variants), "and golden.json")


if __name__ == "__main__":
    main()
