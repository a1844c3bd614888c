#!/usr/bin/env python3
"""Golden values for the Go DeBERTa-v2/v3 encoder, from an independent reference.

The reference is PyTorch (Debian's python3-torch 1.13; HF transformers is not
installable on our machines) running a DebertaV2Model written here after
transformers' modeling_deberta_v2.py (DebertaV2Embeddings, build_relative_position
and make_log_bucket_position, DisentangledSelfAttention with
disentangled_attention_bias, XSoftmax, ConvLayer, DebertaV2Encoder.get_rel_embedding,
ContextPooler), and deep prefixes placed as P-Tuning v2's model/debertaV2.py places
past_key_values (keys/values concatenated in front of the projected ones, content
scores for the prefix columns, a zero block in front of the c2p + p2c bias, the mask
cat(1_p, m) as an outer product cut to the real query rows). Nothing here is shared
with the Go code.

It writes two tiny random checkpoints in the HuggingFace layout and golden.json:

  tiny-debertav3   v3-like: relative_attention, position_buckets 8 with
                   max_relative_positions 16 (log buckets reached at |i-j| > 4),
                   share_att_key, "p2c|c2p", norm_rel_ebd layer_norm,
                   position_biased_input false, type_vocab_size 0. Saved as
                   DebertaV2ForSequenceClassification + MLM heads would be:
                   "deberta."-prefixed, top-level pooler.dense.*, and extra
                   classifier.*, lm_predictions.*, mask_predictions.* and a
                   deberta.embeddings.position_embeddings.weight the loader must ignore.
  tiny-debertav2   v2-xlarge-like: ConvLayer (conv_kernel_size 3, conv_act gelu,
                   conv_groups 2), no buckets, max_relative_positions 5 (clamped),
                   separate pos_key_proj / pos_query_proj (share_att_key false),
                   pos_att_type as a JSON list, norm_rel_ebd none, absolute
                   positions, type_vocab_size 2, embedding_size 24 != hidden 32
                   (embed_proj), pooler_hidden_act tanh; names without prefix.

For each: the sequence and pooled outputs of a padded batch of pairs, and the same
with fixed prefix key/value slots of lengths PREFIX_LENS per layer (0 = no prefix in
that layer), and with 2 fixed prompt embeddings in front of the embedding output. It also writes make_log_bucket_position's table for deberta-v3's real
setting (256 buckets, 512 positions), which HF computes in float32.

Run from this directory:  /usr/bin/python3 make_golden.py
"""
import json
import math
import os
import struct

import numpy as np
import torch

torch.manual_seed(0)

BASE = dict(vocab_size=97, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
            intermediate_size=37, max_position_embeddings=64, hidden_act="gelu",
            hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, initializer_range=0.02,
            layer_norm_eps=1e-7, pad_token_id=0, model_type="deberta-v2")

CONFIGS = {
    "tiny-debertav3": dict(BASE, relative_attention=True, position_buckets=8, max_relative_positions=16,
                           share_att_key=True, pos_att_type="p2c|c2p", norm_rel_ebd="layer_norm",
                           position_biased_input=False, type_vocab_size=0,
                           architectures=["DebertaV2ForSequenceClassification"]),
    "tiny-debertav2": dict(BASE, relative_attention=True, max_relative_positions=5,
                           share_att_key=False, pos_att_type=["c2p", "p2c"], norm_rel_ebd="none",
                           position_biased_input=True, type_vocab_size=2, embedding_size=24,
                           conv_kernel_size=3, conv_act="gelu", conv_groups=2,
                           pooler_hidden_act="tanh", architectures=["DebertaV2Model"]),
}
PREFIX_LENS = [2, 0, 3]


# ---- config as DebertaV2Config / the modules' getattr defaults read it ----
def resolved(cfg):
    c = dict(cfg)
    pat = c.get("pos_att_type")
    if isinstance(pat, str):
        pat = [x.strip() for x in pat.lower().split("|")]
    c["pos_att_type"] = pat or []
    c.setdefault("embedding_size", c["hidden_size"])
    c.setdefault("position_biased_input", True)
    c.setdefault("position_buckets", -1)
    c.setdefault("share_att_key", False)
    c.setdefault("conv_kernel_size", 0)
    c.setdefault("pooler_hidden_act", "gelu")
    c["norm_rel_ebd"] = [x.strip() for x in c.get("norm_rel_ebd", "none").lower().split("|")]
    m = c.get("max_relative_positions", -1)
    c["max_rel"] = m if m >= 1 else c["max_position_embeddings"]
    c["span"] = c["position_buckets"] if c["position_buckets"] > 0 else c["max_rel"]
    return c


def make_weights(cfg):
    c = resolved(cfg)
    d, f, V, e = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["embedding_size"]
    g = torch.Generator().manual_seed(4321 + len(cfg))

    def rnd(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    def ln(name):
        return {f"{name}.weight": 1.0 + rnd(d, std=0.1), f"{name}.bias": rnd(d, std=0.1)}

    w = {"embeddings.word_embeddings.weight": rnd(V, e, std=0.5)}
    if c["position_biased_input"]:
        w["embeddings.position_embeddings.weight"] = rnd(c["max_position_embeddings"], e, std=0.5)
    if c["type_vocab_size"] > 0:
        w["embeddings.token_type_embeddings.weight"] = rnd(c["type_vocab_size"], e, std=0.5)
    if e != d:
        w["embeddings.embed_proj.weight"] = rnd(d, e, std=0.3)
    w.update(ln("embeddings.LayerNorm"))
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}.attention.self."
        # Query/key weights of O(1/sqrt(d)) * 2 make the scores O(1), so a wrong
        # scale factor, index or bucket shows far above 1e-4.
        for n in ("query_proj", "key_proj"):
            w[p + n + ".weight"] = rnd(d, d, std=0.35)
            w[p + n + ".bias"] = rnd(d, std=0.1)
        w[p + "value_proj.weight"] = rnd(d, d, std=0.2)
        w[p + "value_proj.bias"] = rnd(d, std=0.1)
        if not c["share_att_key"]:
            if "c2p" in c["pos_att_type"]:
                w[p + "pos_key_proj.weight"] = rnd(d, d, std=0.35)
                w[p + "pos_key_proj.bias"] = rnd(d, std=0.1)
            if "p2c" in c["pos_att_type"]:
                w[p + "pos_query_proj.weight"] = rnd(d, d, std=0.35)
                w[p + "pos_query_proj.bias"] = rnd(d, std=0.1)
        p = f"encoder.layer.{i}."
        w[p + "attention.output.dense.weight"] = rnd(d, d, std=0.2)
        w[p + "attention.output.dense.bias"] = rnd(d, std=0.1)
        w.update(ln(p + "attention.output.LayerNorm"))
        w[p + "intermediate.dense.weight"] = rnd(f, d, std=0.5)
        w[p + "intermediate.dense.bias"] = rnd(f, std=0.1)
        w[p + "output.dense.weight"] = rnd(d, f, std=0.2)
        w[p + "output.dense.bias"] = rnd(d, std=0.1)
        w.update(ln(p + "output.LayerNorm"))
    w["encoder.rel_embeddings.weight"] = rnd(2 * c["span"], d, std=1.0)
    if "layer_norm" in c["norm_rel_ebd"]:
        w.update(ln("encoder.LayerNorm"))
    if c["conv_kernel_size"] > 0:
        k, groups = c["conv_kernel_size"], c.get("conv_groups", 1)
        w["encoder.conv.conv.weight"] = rnd(d, d // groups, k, std=0.3)
        w["encoder.conv.conv.bias"] = rnd(d, std=0.1)
        w.update(ln("encoder.conv.LayerNorm"))
    pooler = {"pooler.dense.weight": rnd(d, d, std=0.3), "pooler.dense.bias": rnd(d, std=0.1)}
    return w, pooler


# ---- safetensors writer, after the format description in huggingface/safetensors ----
def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = tensors[name].to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
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


# ---- the reference DebertaV2Model (eval mode: no dropout) ----
def act(name, x):
    if name == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name == "tanh":
        return torch.tanh(x)
    raise ValueError(name)


def layer_norm(x, W, name, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), W[name + ".weight"], W[name + ".bias"], eps)


def linear(x, W, name):
    return x @ W[name + ".weight"].T + W[name + ".bias"]


def log_bucket(rel, buckets, max_pos):
    """make_log_bucket_position: HF's float32 torch arithmetic."""
    sign = torch.sign(rel)
    mid = buckets // 2
    inside = (rel < mid) & (rel > -mid)
    a = torch.where(inside, torch.full_like(rel, mid - 1), rel.abs())
    logp = torch.ceil(torch.log(a / mid) / torch.log(torch.tensor((max_pos - 1) / mid)) * (mid - 1)) + mid
    return torch.where(a <= mid, rel.to(logp.dtype), logp * sign).to(torch.long)


def log_bucket_numpy(rel, buckets, max_pos):
    """P-Tuning v2's copy (model/debertaV2.py): the same formula in numpy float64."""
    sign = np.sign(rel)
    mid = buckets // 2
    a = np.where((rel < mid) & (rel > -mid), mid - 1, np.abs(rel))
    logp = np.ceil(np.log(a / mid) / np.log((max_pos - 1) / mid) * (mid - 1)) + mid
    return np.where(a <= mid, rel, logp * sign).astype(np.int64)


def relative_position(q_len, k_len, c):
    """build_relative_position: r[i, j] = i - j, log-bucketed when position_buckets > 0."""
    rel = torch.arange(q_len)[:, None] - torch.arange(k_len)[None, :]
    if c["position_buckets"] > 0:
        rel = log_bucket(rel, c["position_buckets"], c["max_rel"])
    return rel


def self_attention(x, W, p, c, rel, R, mask, pk=None, pv=None):
    B, T, d = x.shape
    n = c["num_attention_heads"]
    hd = d // n

    def heads(t):  # [B, L, d] -> [B, n, L, hd]
        return t.reshape(t.shape[0], t.shape[1], n, hd).permute(0, 2, 1, 3)

    q = heads(linear(x, W, p + "query_proj"))
    k = heads(linear(x, W, p + "key_proj"))
    v = heads(linear(x, W, p + "value_proj"))
    types = c["pos_att_type"]
    sf = 1 + ("c2p" in types) + ("p2c" in types)
    scale = math.sqrt(hd * sf)
    keys, values = k, v
    npre = 0
    if pk is not None:
        npre = pk.shape[1]
        keys = torch.cat([heads(pk), k], dim=2)
        values = torch.cat([heads(pv), v], dim=2)
    scores = q @ keys.transpose(-1, -2) / scale
    if c["relative_attention"]:
        span = c["span"]
        Rs = R[: 2 * span][None]  # [1, 2S, d]
        if c["share_att_key"]:
            kr = heads(linear(Rs, W, p + "key_proj"))
            qr = heads(linear(Rs, W, p + "query_proj"))
        else:
            kr = heads(linear(Rs, W, p + "pos_key_proj")) if "c2p" in types else None
            qr = heads(linear(Rs, W, p + "pos_query_proj")) if "p2c" in types else None
        bias = torch.zeros(B, n, T, T)
        if "c2p" in types:
            att = q @ kr.transpose(-1, -2)  # [B, n, T(i), 2S]
            idx = torch.clamp(rel + span, 0, 2 * span - 1).expand(B, n, T, T)
            bias = bias + torch.gather(att, -1, idx) / scale
        if "p2c" in types:
            att = k @ qr.transpose(-1, -2)  # [B, n, T(j), 2S]
            # row j of rel is r[j, i] = b(j - i): gathered at clamp(-r + S), then transposed.
            idx = torch.clamp(-rel + span, 0, 2 * span - 1).expand(B, n, T, T)
            bias = bias + torch.gather(att, -1, idx).transpose(-1, -2) / scale
        if npre:
            bias = torch.cat([torch.zeros(B, n, T, npre), bias], dim=-1)
        scores = scores + bias
    full = torch.cat([torch.ones(B, npre, dtype=torch.bool), mask], dim=1)  # P-Tuning v2: cat(1_p, m)
    allowed = (mask[:, None, :, None] & full[:, None, None, :])  # rows: the real queries
    probs = torch.softmax(scores.masked_fill(~allowed, torch.finfo(torch.float32).min), -1)
    probs = probs.masked_fill(~allowed, 0.0)
    out = (probs @ values).permute(0, 2, 1, 3).reshape(B, T, d)
    return out


def forward(W, cfg, ids, types, mask_int, prefixes=None, prompt=None, hidden=None, prefix_fn=None):
    """DebertaV2Model + ContextPooler; appends DebertaV2Encoder's all_hidden_states
    (each layer's input, then the last output) to hidden when given.

    Deep prefixes come either fixed, prefixes[i] = (P^k, P^v) [B, p_i, d] or None,
    or from prefix_fn(i, x, mask) -> (P^k, P^v) [B, p_i, d] or None, called with
    layer i's input x [B, T, d] (the masked embedding output for i = 0, the
    ConvLayer's output for i = 1 when conv_kernel_size > 0) and the bool mask
    [B, T], so the slots may depend on the layer's input (APT's gates,
    ../../method/testdata/make_apt_golden_families.py). The computation runs in
    the dtype of W."""
    c = resolved(cfg)
    eps = c["layer_norm_eps"]
    mask = mask_int.to(torch.bool)
    B, T = ids.shape
    e = W["embeddings.word_embeddings.weight"][ids]
    if c["position_biased_input"]:
        e = e + W["embeddings.position_embeddings.weight"][torch.arange(T)][None]
    if c["type_vocab_size"] > 0:
        e = e + W["embeddings.token_type_embeddings.weight"][types]
    if c["embedding_size"] != c["hidden_size"]:
        e = e @ W["embeddings.embed_proj.weight"].T
    emb = layer_norm(e, W, "embeddings.LayerNorm", eps) * mask[:, :, None].float()
    npro = 0
    if prompt is not None:
        # Prompt tuning as the workbench defines it: p embeddings in front of the
        # embedding output, attended and attending like tokens (relative
        # positions 0..p-1, in the ConvLayer's window), dropped from the output.
        npro = prompt.shape[1]
        emb = torch.cat([prompt, emb], dim=1)
        mask = torch.cat([torch.ones(B, npro, dtype=torch.bool), mask], dim=1)
        T = T + npro
    R = None
    if c["relative_attention"]:
        R = W["encoder.rel_embeddings.weight"]
        if "layer_norm" in c["norm_rel_ebd"]:
            R = layer_norm(R, W, "encoder.LayerNorm", eps)
    rel = relative_position(T, T, c)
    x = emb
    if hidden is None:
        hidden = []
    hidden.append(emb)
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        pk = pv = None
        if prefix_fn is not None:
            slots = prefix_fn(i, x, mask)
            if slots is not None:
                pk, pv = slots
        elif prefixes is not None and prefixes[i] is not None:
            pk, pv = prefixes[i]
        a = self_attention(x, W, p + "attention.self.", c, rel, R, mask, pk, pv)
        a = layer_norm(linear(a, W, p + "attention.output.dense") + x, W, p + "attention.output.LayerNorm", eps)
        h = act(c["hidden_act"], linear(a, W, p + "intermediate.dense"))
        out = layer_norm(linear(h, W, p + "output.dense") + a, W, p + "output.LayerNorm", eps)
        if i == 0 and c["conv_kernel_size"] > 0:
            k = c["conv_kernel_size"]
            conv = torch.nn.functional.conv1d(emb.permute(0, 2, 1), W["encoder.conv.conv.weight"],
                                              W["encoder.conv.conv.bias"], padding=(k - 1) // 2,
                                              groups=c.get("conv_groups", 1)).permute(0, 2, 1)
            conv = act(c.get("conv_act", "tanh"), conv.masked_fill(~mask[:, :, None], 0.0))
            out = layer_norm(out + conv, W, "encoder.conv.LayerNorm", eps) * mask[:, :, None].float()
        x = out
        hidden.append(x)
    x = x[:, npro:]
    pooled = act(c["pooler_hidden_act"], linear(x[:, 0], W, "pooler.dense"))
    return x, pooled


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    # A padded batch of pairs: [CLS]=1 a [SEP]=2 b [SEP] [PAD]=0...
    ids = torch.tensor([
        [1, 10, 11, 12, 2, 20, 21, 2, 0, 0, 0, 0],
        [1, 30, 31, 32, 33, 34, 2, 40, 41, 42, 43, 2],
        [1, 50, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ])
    types = torch.tensor([
        [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ])
    mask = (torch.arange(12)[None, :] < torch.tensor([[8], [12], [3]])).to(torch.int64)
    B, d = ids.shape[0], BASE["hidden_size"]
    gp = torch.Generator().manual_seed(777)
    prefix_keys, prefix_values, prefixes = [], [], []
    for p in PREFIX_LENS:
        if p == 0:
            prefix_keys.append(None)
            prefix_values.append(None)
            prefixes.append(None)
            continue
        pk = torch.randn(B, p, d, generator=gp) * 1.5
        pv = torch.randn(B, p, d, generator=gp)
        prefix_keys.append(pk.tolist())
        prefix_values.append(pv.tolist())
        prefixes.append((pk, pv))

    prompt = torch.randn(B, 2, d, generator=gp)

    rel = torch.arange(-1100, 1101)
    table = log_bucket(rel, 256, 512)
    numpy_table = log_bucket_numpy(rel.numpy(), 256, 512)
    differ = int((torch.from_numpy(numpy_table) != table).sum())
    print(f"log buckets (256, 512) over |r| <= 1100: float32 (HF) vs float64 (P-Tuning v2) differ at {differ} positions")

    golden = {"input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
              "prefix_lens": PREFIX_LENS, "prompt": prompt.tolist(), "prefix_keys": prefix_keys, "prefix_values": prefix_values,
              "buckets_256_512": {"from": -1100, "buckets": table.tolist()},
              "variants": {}}

    def rounded(x):
        return np.round(x.numpy().astype(np.float64), 8).tolist()

    for name, cfg in CONFIGS.items():
        W, pooler = make_weights(cfg)
        out = os.path.join(here, name)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as fp:
            json.dump(cfg, fp, indent=2, sort_keys=True)
        stored = dict(W)
        if name == "tiny-debertav3":
            g = torch.Generator().manual_seed(99)
            stored = {"deberta." + k: v for k, v in W.items()}
            # Tensors the loader must ignore: an absolute position table although
            # position_biased_input is false, the MLM heads, the classifier.
            stored["deberta.embeddings.position_embeddings.weight"] = torch.randn(64, d, generator=g)
            stored["lm_predictions.lm_head.bias"] = torch.randn(cfg["vocab_size"], generator=g)
            stored["lm_predictions.lm_head.dense.weight"] = torch.randn(d, d, generator=g)
            stored["mask_predictions.classifier.weight"] = torch.randn(1, d, generator=g)
            stored["classifier.weight"] = torch.randn(3, d, generator=g)
            stored["classifier.bias"] = torch.randn(3, generator=g)
        stored.update(pooler)
        write_safetensors(os.path.join(out, "model.safetensors"), stored, {"format": "pt"})
        Wall = dict(W, **pooler)
        with torch.no_grad():
            hidden = []
            seq, pooled = forward(Wall, cfg, ids, types, mask, hidden=hidden)
            pseq, ppooled = forward(Wall, cfg, ids, types, mask, prefixes)
            qseq, qpooled = forward(Wall, cfg, ids, types, mask, prompt=prompt)
        golden["variants"][name] = {
            "sequence_output": rounded(seq), "pooled_output": rounded(pooled),
            "hidden_states": [rounded(h) for h in hidden],
            "prefix_sequence_output": rounded(pseq), "prefix_pooled_output": rounded(ppooled),
            "prompt_sequence_output": rounded(qseq), "prompt_pooled_output": rounded(qpooled),
        }
    with open(os.path.join(here, "golden.json"), "w") as fp:
        json.dump(golden, fp)
    print("wrote", ", ".join(CONFIGS), "and golden.json")


if __name__ == "__main__":
    main()
