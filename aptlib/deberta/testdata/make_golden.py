#!/usr/bin/env python3
"""Golden values for the Go DeBERTa (v1) encoder, computed by an independent reference.

The reference is PyTorch (Debian's python3-torch 1.13; HF transformers is not
installable on our machines) running a DebertaModel written here line by line after
transformers' models/deberta/modeling_deberta.py: DebertaEmbeddings, DebertaLayerNorm,
XSoftmax, build_relative_position, DisentangledSelfAttention (fused in_proj chunked per
head, q_bias/v_bias, query scaled by 1/sqrt(d_head * (1 + len(pos_att_type))) before the
scores, disentangled_att_bias with att_span slicing and torch.gather, the p2c term gathered
at clamp(-r + att_span) and transposed), DebertaSelfOutput, DebertaIntermediate,
DebertaOutput, and ContextPooler. The deep-prefix placement is P-Tuning v2's
model/deberta.py: keys [P^k; X W_k], values [P^v; X W_v + v_bias], the disentangled bias
from the real keys only with a zero block in front, mask cat(1_p, m) outer product cut to
the real rows; with absolute positions (position_biased_input) P-Tuning v2 also shifts
them by layer 0's prefix length (its DebertaEmbeddings' past_key_values_length), the
"plain_offset" variant. Nothing here is shared with the Go code.

It writes four tiny random checkpoints in the HuggingFace model-directory layout and
golden.json with the inputs and the expected outputs:

  tiny-deberta-prefixed  F32, "deberta.*" names (DebertaForSequenceClassification) with
                         the pooler at top level, extra lm_predictions.* tensors and an
                         embeddings.position_embeddings.weight that must be ignored
                         (position_biased_input false); pos_att_type "c2p|p2c" (string),
                         max_relative_positions 5 < T (the clamp bites), type_vocab_size 0:
                         deberta-base's shape. The prefix variants use it.
  tiny-deberta-plain     F16, names without prefix, pos_att_type ["p2c", "c2p"] (list),
                         max_relative_positions -1 (-> 40 > T), absolute positions,
                         two token types, embedding_size 24 (embed_proj), gelu_new,
                         pooler_hidden_act tanh
  tiny-deberta-nopooler  BF16, "deberta.*" names plus lm_predictions.*, c2p only (sf 2, no
                         pos_q_proj), max_relative_positions 8, no pooler (sequence only)
  tiny-deberta-norel     F32, no prefix, relative_attention false but pos_att_type
                         "p2c|c2p": the scale still counts both (sf 3)

The batch is three pairs "[CLS] A [SEP] B [SEP]" ([PAD]=0 [CLS]=1 [SEP]=2), padded with
[PAD], token types 0 through the first [SEP] and 1 after. Weights are N(0, 0.02) except
where a larger scale makes a mistake visible (in_proj, pos_proj, pos_q_proj, the relative
embeddings, the FFN). F16/BF16 checkpoints are evaluated with the rounded weights widened
to F32, which is what the Go loader does.

Run from this directory:  /usr/bin/python3 make_golden.py
"""
import json
import math
import os
import struct

import numpy as np
import torch

torch.manual_seed(0)

CFG = dict(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
           intermediate_size=37, max_position_embeddings=40, hidden_dropout_prob=0.1,
           attention_probs_dropout_prob=0.1, initializer_range=0.02, pad_token_id=0,
           layer_norm_eps=1e-7, model_type="deberta", pooler_dropout=0)

PREFIX_LENGTHS = [2, 0, 3]  # per layer; layer 1 has no prefix


def pos_att_list(cfg):
    """DebertaConfig: a string is split on '|', lower-cased, stripped; a list kept."""
    p = cfg.get("pos_att_type")
    if p is None:
        return []
    if isinstance(p, str):
        return [x.strip() for x in p.lower().split("|")]
    return list(p)


def max_rel(cfg):
    m = cfg.get("max_relative_positions", -1)
    return cfg["max_position_embeddings"] if m < 1 else m


def make_weights(cfg, prefixed, pooler, extra_pos, seed):
    d, f, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    E = cfg.get("embedding_size", d)
    g = torch.Generator().manual_seed(seed)
    pat = pos_att_list(cfg)

    def rnd(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    def ln(name):
        return {f"{name}.weight": 1.0 + rnd(d, std=0.1), f"{name}.bias": rnd(d, std=0.1)}

    w = {"embeddings.word_embeddings.weight": rnd(V, E, std=0.5)}
    if cfg.get("position_biased_input", True) or extra_pos:
        w["embeddings.position_embeddings.weight"] = rnd(cfg["max_position_embeddings"], E, std=0.5)
    if cfg.get("type_vocab_size", 0) > 0:
        w["embeddings.token_type_embeddings.weight"] = rnd(cfg["type_vocab_size"], E, std=0.5)
    if E != d:
        w["embeddings.embed_proj.weight"] = rnd(d, E, std=0.3)
    w.update(ln("embeddings.LayerNorm"))
    if cfg.get("relative_attention", False):
        w["encoder.rel_embeddings.weight"] = rnd(2 * max_rel(cfg), d, std=1.0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}.attention.self."
        w[p + "in_proj.weight"] = rnd(3 * d, d, std=0.3)
        w[p + "q_bias"] = rnd(d, std=0.2)
        w[p + "v_bias"] = rnd(d, std=0.2)
        if cfg.get("relative_attention", False):
            if "c2p" in pat:
                w[p + "pos_proj.weight"] = rnd(d, d, std=0.3)
            if "p2c" in pat:
                w[p + "pos_q_proj.weight"] = rnd(d, d, std=0.3)
                w[p + "pos_q_proj.bias"] = rnd(d, std=0.2)
        p = f"encoder.layer.{i}."
        w[p + "attention.output.dense.weight"] = rnd(d, d, std=0.05)
        w[p + "attention.output.dense.bias"] = rnd(d)
        w.update(ln(p + "attention.output.LayerNorm"))
        w[p + "intermediate.dense.weight"] = rnd(f, d, std=0.8)
        w[p + "intermediate.dense.bias"] = rnd(f)
        w[p + "output.dense.weight"] = rnd(d, f, std=0.2)
        w[p + "output.dense.bias"] = rnd(d)
        w.update(ln(p + "output.LayerNorm"))
    if prefixed:
        w = {"deberta." + k: v for k, v in w.items()}
        # DebertaForMaskedLM's head: the loader must ignore it.
        w["lm_predictions.lm_head.dense.weight"] = rnd(d, d)
        w["lm_predictions.lm_head.dense.bias"] = rnd(d)
        w["lm_predictions.lm_head.LayerNorm.weight"] = rnd(d)
        w["lm_predictions.lm_head.LayerNorm.bias"] = rnd(d)
        w["lm_predictions.lm_head.bias"] = rnd(V)
    if pooler:
        # ContextPooler lives at the top level of DebertaForSequenceClassification.
        w["pooler.dense.weight"] = rnd(d, d, std=0.3)
        w["pooler.dense.bias"] = rnd(d, std=0.1)
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


# ---- the reference DebertaModel (eval mode: no dropout) ----
def act_fn(name):
    if name == "gelu":
        return lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "tanh":
        return torch.tanh
    raise ValueError(name)


def deberta_layer_norm(x, w, b, eps):
    """DebertaLayerNorm: biased variance over the last axis, in float."""
    mean = x.mean(-1, keepdim=True)
    variance = (x - mean).pow(2).mean(-1, keepdim=True)
    return w * ((x - mean) / torch.sqrt(variance + eps)) + b


def xsoftmax(scores, mask, dim):
    """XSoftmax: masked_fill(~mask, finfo.min), softmax, masked_fill(~mask, 0)."""
    rmask = ~(mask.to(torch.bool))
    out = scores.masked_fill(rmask, torch.finfo(scores.dtype).min)
    out = torch.softmax(out, dim)
    return out.masked_fill(rmask, 0)


def build_relative_position(q, k):
    q_ids = torch.arange(q, dtype=torch.long)
    k_ids = torch.arange(k, dtype=torch.long)
    rel = q_ids[:, None] - k_ids.view(1, -1).repeat(q, 1)
    return rel[:q, :].unsqueeze(0)  # [1, q, k]


def deberta_forward(W, cfg, ids, types, mask, prefix=None, past_len=0, prefix_fn=None):
    """DebertaModel (+ ContextPooler when W has pooler.dense.*) on ids [B, T].

    Deep prefixes come either fixed, prefix[i] = (P^k, P^v) [p_i, d] or None,
    shared by the batch, or from prefix_fn(i, x, mask) -> (P^k, P^v) [B, p_i, d]
    or None, called with layer i's input x [B, T, d] (the masked embedding
    output for i = 0) and the int mask [B, T], so the slots may depend on the
    layer's input (APT's gates, ../../method/testdata/make_apt_golden_families.py).
    The computation runs in the dtype of W."""
    def get(name):
        for key in (name, "deberta." + name):
            if key in W:
                return W[key]
        raise KeyError(name)

    eps = cfg["layer_norm_eps"]
    n, d = cfg["num_attention_heads"], cfg["hidden_size"]
    E = cfg.get("embedding_size", d)
    pat = pos_att_list(cfg)
    rel_on = cfg.get("relative_attention", False)
    M = max_rel(cfg)
    B, T = ids.shape
    maskf = mask.to(torch.float32)

    # DebertaEmbeddings
    x = get("embeddings.word_embeddings.weight")[ids]
    if cfg.get("position_biased_input", True):
        # P-Tuning v2's DebertaEmbeddings: position_ids[:, past_len : T + past_len]
        x = x + get("embeddings.position_embeddings.weight")[torch.arange(T) + past_len][None]
    if cfg.get("type_vocab_size", 0) > 0:
        x = x + get("embeddings.token_type_embeddings.weight")[types]
    if E != d:
        x = x @ get("embeddings.embed_proj.weight").T
    x = deberta_layer_norm(x, get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"), eps)
    x = x * maskf.unsqueeze(2)

    # DebertaEncoder.get_attention_mask, get_rel_pos, get_rel_embedding
    ext = mask[:, None, None, :]
    att_mask = ext * ext.squeeze(-2).unsqueeze(-1)  # [B, 1, T, T]
    relative_pos = build_relative_position(T, T).unsqueeze(1)  # [1, 1, T, T]
    R = get("encoder.rel_embeddings.weight") if rel_on else None

    def tfs(t):  # transpose_for_scores: [.., L, n*h] -> [.., n, L, h]
        t = t.view(t.shape[:-1] + (n, -1))
        return t.permute(0, 2, 1, 3)

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}.attention.self."
        qp = x @ get(p + "in_proj.weight").T
        q, k, v = tfs(qp).chunk(3, dim=-1)
        q = q + tfs(get(p + "q_bias")[None, None, :])
        v = v + tfs(get(p + "v_bias")[None, None, :])
        keys, values, m4, plen = k, v, att_mask, 0
        slots = None
        if prefix_fn is not None:
            slots = prefix_fn(i, x, mask)
        elif prefix is not None and prefix[i] is not None:
            pk, pv = prefix[i]
            slots = (pk[None].expand(B, pk.shape[0], d), pv[None].expand(B, pv.shape[0], d))
        if slots is not None:
            pk, pv = slots  # [B, p, d] each
            plen = pk.shape[1]
            keys = torch.cat([tfs(pk), k], dim=2)
            values = torch.cat([tfs(pv), v], dim=2)
            full = torch.cat([torch.ones(B, plen, dtype=mask.dtype), mask], dim=1)
            e = full[:, None, None, :]
            m4 = (e * e.squeeze(-2).unsqueeze(-1))[:, :, plen:, :]  # rows of the real queries
        sf = 1 + len(pat)
        scale = math.sqrt(q.size(-1) * sf)
        q = q / scale
        scores = q @ keys.transpose(-1, -2)
        if rel_on:
            # disentangled_att_bias, on the real keys only
            att_span = min(max(q.size(-2), k.size(-2)), M)
            rel = R[M - att_span:M + att_span, :].unsqueeze(0)
            score = 0
            if "c2p" in pat:
                pos_key = tfs(rel @ get(p + "pos_proj.weight").T)
                c2p = q @ pos_key.transpose(-1, -2)
                c2p_pos = torch.clamp(relative_pos + att_span, 0, att_span * 2 - 1)
                c2p = torch.gather(c2p, -1, c2p_pos.expand(q.size(0), q.size(1), q.size(2), relative_pos.size(-1)))
                score = score + c2p
            if "p2c" in pat:
                pos_query = tfs(rel @ get(p + "pos_q_proj.weight").T + get(p + "pos_q_proj.bias"))
                pos_query = pos_query / math.sqrt(pos_query.size(-1) * sf)
                r_pos = relative_pos  # query and key lengths agree in the encoder
                p2c_pos = torch.clamp(-r_pos + att_span, 0, att_span * 2 - 1)
                p2c = k @ pos_query.transpose(-1, -2)
                p2c = torch.gather(p2c, -1, p2c_pos.expand(q.size(0), q.size(1), k.size(-2), k.size(-2))).transpose(-1, -2)
                score = score + p2c
            if plen:
                score = torch.cat([torch.zeros(B, n, T, plen), score], dim=-1)
            scores = scores + score
        probs = xsoftmax(scores, m4, -1)
        ctx = (probs @ values).permute(0, 2, 1, 3).reshape(B, T, d)
        p = f"encoder.layer.{i}."
        a = ctx @ get(p + "attention.output.dense.weight").T + get(p + "attention.output.dense.bias")
        x = deberta_layer_norm(a + x, get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias"), eps)
        h = act_fn(cfg["hidden_act"])(x @ get(p + "intermediate.dense.weight").T + get(p + "intermediate.dense.bias"))
        o = h @ get(p + "output.dense.weight").T + get(p + "output.dense.bias")
        x = deberta_layer_norm(o + x, get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias"), eps)
    pooled = None
    if "pooler.dense.weight" in W:
        act = act_fn(cfg.get("pooler_hidden_act", "gelu"))
        pooled = act(x[:, 0] @ W["pooler.dense.weight"].T + W["pooler.dense.bias"])
    return x, pooled


def r8(t):
    return np.round(t.numpy().astype(np.float64), 8).tolist()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    C, S, P = 1, 2, 0
    ids = torch.tensor([
        [C, 10, 11, 12, S, 20, 21, 22, S, P, P, P, P],
        [C, 30, 31, 32, 33, 34, S, 40, 41, 42, 43, 44, S],
        [C, 50, S, 60, S, P, P, P, P, P, P, P, P],
    ])
    mask = ids.ne(P).to(torch.int64)
    types = torch.zeros_like(ids)
    for b in range(ids.shape[0]):
        first = (ids[b] == S).nonzero()[0].item()
        types[b, first + 1:] = mask[b, first + 1:]

    variants = [
        # name, dtype, prefixed, pooler, seed, config
        ("tiny-deberta-prefixed", "F32", True, True, 1234,
         dict(relative_attention=True, pos_att_type="c2p|p2c", max_relative_positions=5,
              position_biased_input=False, type_vocab_size=0, hidden_act="gelu",
              pooler_hidden_act="gelu", architectures=["DebertaForSequenceClassification"])),
        ("tiny-deberta-plain", "F16", False, True, 4321,
         dict(relative_attention=True, pos_att_type=["p2c", "c2p"], max_relative_positions=-1,
              position_biased_input=True, type_vocab_size=2, embedding_size=24,
              hidden_act="gelu_new", pooler_hidden_act="tanh", architectures=["DebertaModel"])),
        ("tiny-deberta-nopooler", "BF16", True, False, 777,
         dict(relative_attention=True, pos_att_type="C2P", max_relative_positions=8,
              position_biased_input=False, type_vocab_size=0, hidden_act="gelu",
              architectures=["DebertaForMaskedLM"])),
        ("tiny-deberta-norel", "F32", False, True, 99,
         dict(relative_attention=False, pos_att_type="p2c|c2p", position_biased_input=True,
              type_vocab_size=0, hidden_act="gelu", pooler_hidden_act="gelu",
              architectures=["DebertaModel"])),
    ]
    golden = {"input_ids": ids.tolist(), "token_type_ids": types.tolist(),
              "attention_mask": mask.tolist(), "variants": {}}
    for name, dtype, prefixed, pooler, seed, extra in variants:
        cfg = dict(CFG, **extra, torch_dtype={"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype])
        W = make_weights(cfg, prefixed, pooler, extra_pos=prefixed, seed=seed)
        out = os.path.join(here, name)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as fp:
            json.dump(cfg, fp, indent=2, sort_keys=True)
        write_safetensors(os.path.join(out, "model.safetensors"), W, dtype, {"format": "pt"})
        with torch.no_grad():
            seq, pooled = deberta_forward(rounded(W, dtype), cfg, ids, types, mask)
        golden["variants"][name] = {"sequence_output": r8(seq)}
        if pooled is not None:
            golden["variants"][name]["pooled_output"] = r8(pooled)
        if name == "tiny-deberta-prefixed":
            W0, cfg0 = rounded(W, dtype), cfg
        if name == "tiny-deberta-plain":
            W1, cfg1 = rounded(W, dtype), cfg

    g = torch.Generator().manual_seed(99)
    d = CFG["hidden_size"]
    prefix = []
    for plen in PREFIX_LENGTHS:
        prefix.append(None if plen == 0 else (torch.randn(plen, d, generator=g), torch.randn(plen, d, generator=g)))
    golden["prefix"] = {
        "lengths": PREFIX_LENGTHS,
        "key": [None if p is None else r8(p[0]) for p in prefix],
        "value": [None if p is None else r8(p[1]) for p in prefix],
    }
    # The reference reads the prefix values as rounded in golden.json, as Go does.
    prefix = [None if p is None else (torch.tensor(r8(p[0]), dtype=torch.float32),
                                      torch.tensor(r8(p[1]), dtype=torch.float32)) for p in prefix]
    with torch.no_grad():
        seq, pooled = deberta_forward(W0, cfg0, ids, types, mask, prefix=prefix)
    golden["prefix"]["sequence_output"] = r8(seq)
    golden["prefix"]["pooled_output"] = r8(pooled)
    # With absolute positions (tiny-deberta-plain), P-Tuning v2 shifts them by
    # layer 0's prefix length: position_offset=prefix.
    with torch.no_grad():
        seq, pooled = deberta_forward(W1, cfg1, ids, types, mask, prefix=prefix, past_len=PREFIX_LENGTHS[0])
    golden["prefix"]["plain_offset"] = {"position_offset": PREFIX_LENGTHS[0], "sequence_output": r8(seq),
                                        "pooled_output": r8(pooled)}
    with open(os.path.join(here, "golden.json"), "w") as fp:
        json.dump(golden, fp)
    print("wrote", ", ".join(v[0] for v in variants), "and golden.json")


if __name__ == "__main__":
    main()
