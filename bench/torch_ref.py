#!/usr/bin/env python3
"""PyTorch reference for apt-bench: the same model, shapes and step as the Go row.

The backbone is the family config.json's model_type names (--config, the file
apt-bench writes for the row), written the way transformers' modeling code
computes it, with fused kernels (nn.Linear, F.layer_norm, F.gelu, softmax,
torch.gather):

  bert        BertModel (modeling_bert.py)
  roberta     RobertaModel: BERT's layers, positions padding_idx+1, +2, ... counted
              from the ids (create_position_ids_from_input_ids), one token type
  deberta     DebertaModel (v1, modeling_deberta.py): fused in_proj [3d, d] chunked
              per head, q_bias / v_bias, pos_proj / pos_q_proj on the relative
              embeddings sliced to att_span, clamped relative positions, XSoftmax
  deberta-v2  DebertaV2Model (v2/v3, modeling_deberta_v2.py): query/key/value_proj,
              log-bucketed relative positions, shared keys, relative embeddings
              through encoder.LayerNorm, c2p + p2c by torch.gather, scale
              sqrt(d_head * (1 + #pos_att_type)), XSoftmax

with P-Tuning v2's deep prefixes as its model/*.py put them (key/value slots in
front of each layer's projected keys and values; in DeBERTa the prefix columns get
content scores only: a zero block in front of the relative bias) and APT's gates
(docs/methods.md); RoBERTa's positions are not shifted by the prefix length (the
workbench's default). A sequence-classification head reads the family's pooler
(BertPooler / RobertaPooler: tanh; DeBERTa's ContextPooler: pooler_hidden_act);
with --created-pooler (base checkpoints saved without one) the pooler trains with
the head, as the workbench's created pooler does. Training runs with dropout where
transformers and P-Tuning v2 apply it (embeddings, attention probabilities, the two
residual branches, the prefix slots, the pooled output), at the rates the Go row uses.
One training step = forward,
cross-entropy, backward, clip_grad_norm_, AdamW (weight decay on matrices only).
Random weights; fixed-length random batches. Prints one JSON line.

--compare FOLDER runs the model of a model folder's config.json and weights on given
inputs and prefixes (bench/torch_test.go compares its outputs with the Go family's).
--selfcheck runs each family's bench model on tiny random weights (scaled so that a
mistake shows) beside the float64 reference forward of that family's golden
generator (aptlib/<family>/testdata/make_golden.py; BERT with APT gates:
aptlib/method/testdata/make_apt_golden.py), with prefixes, gates and padding, and
prints the largest difference of the sequence and pooled outputs per case.

Needs Debian's python3-torch; with the reference BLAS (libblas3) it is ~10x slower
than with OpenBLAS (libopenblas0-pthread), so the output reports a matmul GFLOP/s
probe.
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MIN = torch.finfo(torch.float32).min


def activation(name):
    """ACT2FN for the activations the families' configs use."""
    if name == "gelu":
        return F.gelu
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "tanh":
        return torch.tanh
    if name == "relu":
        return F.relu
    raise SystemExit(f"torch_ref: activation {name!r} is not supported")


def pos_att_type(c):
    """DebertaConfig / DebertaV2Config: a string splits on '|', a list is kept."""
    p = c.get("pos_att_type") or []
    if isinstance(p, str):
        p = [x.strip() for x in p.lower().split("|")]
    return list(p)


def split_heads(t, n):
    """transpose_for_scores: [B, L, n*h] -> [B, n, L, h]."""
    return t.view(t.shape[0], t.shape[1], n, -1).transpose(1, 2)


def merge_heads(t):
    return t.transpose(1, 2).reshape(t.shape[0], t.shape[2], -1)


class FeedForward(nn.Module):
    """attention.output (dense, residual, LayerNorm) and the FFN (BertIntermediate,
    BertOutput), shared by all four families."""

    def __init__(self, c):
        super().__init__()
        d, f, eps = c["hidden_size"], c["intermediate_size"], c["layer_norm_eps"]
        self.dense, self.ln1 = nn.Linear(d, d), nn.LayerNorm(d, eps=eps)
        self.inter, self.out, self.ln2 = nn.Linear(d, f), nn.Linear(f, d), nn.LayerNorm(d, eps=eps)
        self.act = activation(c["hidden_act"])
        self.drop = c.get("hidden_dropout_prob", 0.1)

    def forward(self, attn, x):
        # BertSelfOutput, BertOutput (DeBERTa's likewise): dropout before the residual.
        x = self.ln1(F.dropout(self.dense(attn), self.drop, self.training) + x)
        return self.ln2(F.dropout(self.out(self.act(self.inter(x))), self.drop, self.training) + x)

    def canonical(self, p):
        return {p + "attention.output.dense.weight": self.dense.weight, p + "attention.output.dense.bias": self.dense.bias,
                p + "attention.output.LayerNorm.weight": self.ln1.weight, p + "attention.output.LayerNorm.bias": self.ln1.bias,
                p + "intermediate.dense.weight": self.inter.weight, p + "intermediate.dense.bias": self.inter.bias,
                p + "output.dense.weight": self.out.weight, p + "output.dense.bias": self.out.bias,
                p + "output.LayerNorm.weight": self.ln2.weight, p + "output.LayerNorm.bias": self.ln2.bias}


def xsoftmax(scores, allowed):
    """DeBERTa's XSoftmax: masked entries get probability 0 (rows of padded queries are all 0)."""
    return scores.masked_fill(~allowed, MIN).softmax(-1).masked_fill(~allowed, 0.0)


def disentangled_output(ff, scores, bias, allowed, values, x, attn_drop, training):
    """The end of a DeBERTa layer: content scores [B, n, T, p+T] plus the relative
    bias [B, n, T, T] (None without relative attention) behind a zero block, since
    P-Tuning v2 gives the prefix columns content scores only; XSoftmax, the values,
    then attention output and FFN."""
    if bias is not None:
        B, n, T, keys = scores.shape
        if keys > T:
            bias = torch.cat([torch.zeros(B, n, T, keys - T), bias], -1)
        scores = scores + bias
    probs = F.dropout(xsoftmax(scores, allowed), attn_drop, training)  # XDropout
    return ff(merge_heads(probs @ values), x)


# ---- BERT and RoBERTa ----
class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.n, self.hd = c["num_attention_heads"], d // c["num_attention_heads"]
        self.q, self.k, self.v = (nn.Linear(d, d) for _ in range(3))
        self.ff = FeedForward(c)
        self.attn_drop = c.get("attention_probs_dropout_prob", 0.1)

    def forward(self, x, bias, pk=None, pv=None):
        q, k, v = (split_heads(f(x), self.n) for f in (self.q, self.k, self.v))
        if pk is not None:
            k = torch.cat([split_heads(pk, self.n), k], 2)
            v = torch.cat([split_heads(pv, self.n), v], 2)
        s = q @ k.transpose(-1, -2) / math.sqrt(self.hd) + bias
        probs = F.dropout(s.softmax(-1), self.attn_drop, self.training)
        return self.ff(merge_heads(probs @ v), x)

    def canonical(self, p):
        out = self.ff.canonical(p)
        for name, lin in (("query", self.q), ("key", self.k), ("value", self.v)):
            out[p + f"attention.self.{name}.weight"], out[p + f"attention.self.{name}.bias"] = lin.weight, lin.bias
        return out


class Bert(nn.Module):
    """BertModel, or RobertaModel for model_type roberta (positions from the ids)."""

    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.roberta, self.pad = c["model_type"] == "roberta", c.get("pad_token_id", 0)
        self.we, self.pe = nn.Embedding(c["vocab_size"], d), nn.Embedding(c["max_position_embeddings"], d)
        self.te = nn.Embedding(c.get("type_vocab_size", 2), d)
        self.ln = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.layers = nn.ModuleList(BertLayer(c) for _ in range(c["num_hidden_layers"]))
        self.pooler = nn.Linear(d, d)
        self.drop = c.get("hidden_dropout_prob", 0.1)

    def positions(self, ids):
        if self.roberta:  # create_position_ids_from_input_ids
            m = ids.ne(self.pad).int()
            return (torch.cumsum(m, 1) * m).long() + self.pad
        return torch.arange(ids.shape[1])[None]

    def forward(self, ids, mask, p, prefix):
        x = self.ln(self.we(ids) + self.pe(self.positions(ids)) + self.te(torch.zeros_like(ids)))
        x = F.dropout(x, self.drop, self.training)
        m = mask.float()
        keymask = torch.cat([torch.ones(ids.shape[0], p), m], 1) if p else m
        bias = ((1 - keymask) * MIN)[:, None, None, :]
        for i, layer in enumerate(self.layers):
            pk, pv = prefix(i, x, m) if p else (None, None)
            x = layer(x, bias, pk, pv)
        return x

    def pool(self, seq):
        return torch.tanh(self.pooler(seq[:, 0]))

    def canonical(self):
        out = {"embeddings.word_embeddings.weight": self.we.weight, "embeddings.position_embeddings.weight": self.pe.weight,
               "embeddings.token_type_embeddings.weight": self.te.weight,
               "embeddings.LayerNorm.weight": self.ln.weight, "embeddings.LayerNorm.bias": self.ln.bias,
               "pooler.dense.weight": self.pooler.weight, "pooler.dense.bias": self.pooler.bias}
        for i, layer in enumerate(self.layers):
            out.update(layer.canonical(f"encoder.layer.{i}."))
        return out


# ---- DeBERTa v1 and v2/v3 ----
class DebertaEmbeddings(nn.Module):
    """DebertaEmbeddings / DebertaV2Embeddings with embedding_size = hidden_size."""

    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        if c.get("embedding_size", d) != d:
            raise SystemExit("torch_ref: embedding_size != hidden_size (embed_proj) is not supported")
        self.we = nn.Embedding(c["vocab_size"], d)
        self.pe = nn.Embedding(c["max_position_embeddings"], d) if c.get("position_biased_input", True) else None
        self.te = nn.Embedding(c["type_vocab_size"], d) if c.get("type_vocab_size", 0) > 0 else None
        self.ln = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.drop = c.get("hidden_dropout_prob", 0.1)

    def forward(self, ids, mask):
        e = self.we(ids)
        if self.pe is not None:
            e = e + self.pe(torch.arange(ids.shape[1]))[None]
        if self.te is not None:
            e = e + self.te(torch.zeros_like(ids))
        return F.dropout(self.ln(e) * mask[:, :, None].to(e.dtype), self.drop, self.training)

    def canonical(self):
        out = {"embeddings.word_embeddings.weight": self.we.weight,
               "embeddings.LayerNorm.weight": self.ln.weight, "embeddings.LayerNorm.bias": self.ln.bias}
        if self.pe is not None:
            out["embeddings.position_embeddings.weight"] = self.pe.weight
        if self.te is not None:
            out["embeddings.token_type_embeddings.weight"] = self.te.weight
        return out


class DebertaV2Layer(nn.Module):
    """DebertaV2Layer: DisentangledSelfAttention (disentangled_attention_bias) + output + FFN."""

    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.n, self.hd = c["num_attention_heads"], d // c["num_attention_heads"]
        self.types, self.share = pos_att_type(c), c.get("share_att_key", False)
        self.relative = c.get("relative_attention", False)
        self.query_proj, self.key_proj, self.value_proj = (nn.Linear(d, d) for _ in range(3))
        if self.relative and not self.share:
            if "c2p" in self.types:
                self.pos_key_proj = nn.Linear(d, d)
            if "p2c" in self.types:
                self.pos_query_proj = nn.Linear(d, d)
        self.scale = math.sqrt(self.hd * (1 + ("c2p" in self.types) + ("p2c" in self.types)))
        self.ff = FeedForward(c)
        self.attn_drop = c.get("attention_probs_dropout_prob", 0.1)

    def forward(self, x, allowed, rel, c2p_idx, p2c_idx, pk=None, pv=None):
        B, T, _ = x.shape
        q, k, v = (split_heads(f(x), self.n) for f in (self.query_proj, self.key_proj, self.value_proj))
        keys, values = k, v
        if pk is not None:
            keys, values = torch.cat([split_heads(pk, self.n), k], 2), torch.cat([split_heads(pv, self.n), v], 2)
        s = q @ (keys.transpose(-1, -2) / self.scale)
        bias = None
        if self.relative:
            bias = 0
            if "c2p" in self.types:
                kr = split_heads((self.key_proj if self.share else self.pos_key_proj)(rel), self.n)  # [1, n, 2S, h]
                bias = bias + torch.gather(q @ kr.transpose(-1, -2), -1, c2p_idx.expand(B, self.n, T, T))
            if "p2c" in self.types:
                qr = split_heads((self.query_proj if self.share else self.pos_query_proj)(rel), self.n)
                bias = bias + torch.gather(k @ qr.transpose(-1, -2), -1, p2c_idx.expand(B, self.n, T, T)).transpose(-1, -2)
            bias = bias / self.scale
        return disentangled_output(self.ff, s, bias, allowed, values, x, self.attn_drop, self.training)

    def canonical(self, p):
        out = self.ff.canonical(p)
        for name in ("query_proj", "key_proj", "value_proj", "pos_key_proj", "pos_query_proj"):
            if hasattr(self, name):
                lin = getattr(self, name)
                out[p + f"attention.self.{name}.weight"], out[p + f"attention.self.{name}.bias"] = lin.weight, lin.bias
        return out


def log_bucket(rel, buckets, max_position):
    """make_log_bucket_position, in float32 as transformers computes it."""
    sign = torch.sign(rel)
    mid = buckets // 2
    a = torch.where((rel < mid) & (rel > -mid), torch.tensor(mid - 1).type_as(rel), rel.abs())
    logp = torch.ceil(torch.log(a / mid) / torch.log(torch.tensor((max_position - 1) / mid)) * (mid - 1)) + mid
    return torch.where(a <= mid, rel.type_as(logp), logp * sign).long()


class DebertaEncoder(nn.Module):
    """What DebertaModel and DebertaV2Model share: the embeddings, XSoftmax's mask
    (allowed_ij = m_i m_j, prefix columns allowed for real queries), one relative
    embedding table for all layers, and the ContextPooler (dropout 0). A subclass
    gives the layers and relative_inputs, the layers' relative-position arguments."""

    def __init__(self, c, layers, rel_rows):
        super().__init__()
        d = c["hidden_size"]
        self.emb, self.layers = DebertaEmbeddings(c), nn.ModuleList(layers)
        self.relative = c.get("relative_attention", False)
        if self.relative:
            self.rel_embeddings = nn.Embedding(rel_rows, d)
        self.pooler, self.pool_act = nn.Linear(d, d), activation(c.get("pooler_hidden_act", "gelu"))

    def forward(self, ids, mask, p, prefix):
        B, T = ids.shape
        x = self.emb(ids, mask)
        m = mask.bool()
        keys = torch.cat([torch.ones(B, p, dtype=torch.bool), m], 1)
        allowed = m[:, None, :, None] & keys[:, None, None, :]
        rel = self.relative_inputs(T)
        for i, layer in enumerate(self.layers):
            pk, pv = prefix(i, x, m.float()) if p else (None, None)
            x = layer(x, allowed, *rel, pk, pv)
        return x

    def pool(self, seq):
        return self.pool_act(self.pooler(seq[:, 0]))

    def canonical(self):
        out = self.emb.canonical()
        for i, layer in enumerate(self.layers):
            out.update(layer.canonical(f"encoder.layer.{i}."))
        if self.relative:
            out["encoder.rel_embeddings.weight"] = self.rel_embeddings.weight
        out["pooler.dense.weight"], out["pooler.dense.bias"] = self.pooler.weight, self.pooler.bias
        return out


def max_relative(c):
    """max_relative_positions, max_position_embeddings when below 1."""
    m = c.get("max_relative_positions", -1)
    return m if m >= 1 else c["max_position_embeddings"]


class DebertaV2(DebertaEncoder):
    def __init__(self, c):
        if c.get("conv_kernel_size", 0) > 0:
            raise SystemExit("torch_ref: deberta-v2 with conv_kernel_size > 0 (ConvLayer) is not supported")
        self.max_rel, self.buckets = max_relative(c), c.get("position_buckets", -1)
        self.span = self.buckets if self.buckets > 0 else self.max_rel
        super().__init__(c, (DebertaV2Layer(c) for _ in range(c["num_hidden_layers"])), 2 * self.span)
        norm = [x.strip() for x in c.get("norm_rel_ebd", "none").lower().split("|")]
        self.rel_ln = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"]) if "layer_norm" in norm else None

    def relative_inputs(self, T):
        """get_rel_embedding and build_relative_position: R [1, 2S, d], the c2p and p2c indices [T, T]."""
        if not self.relative:
            return None, None, None
        rel = self.rel_embeddings.weight
        if self.rel_ln is not None:
            rel = self.rel_ln(rel)
        r = torch.arange(T)[:, None] - torch.arange(T)[None, :]
        if self.buckets > 0:
            r = log_bucket(r, self.buckets, self.max_rel)
        return rel[None], torch.clamp(r + self.span, 0, 2 * self.span - 1), torch.clamp(-r + self.span, 0, 2 * self.span - 1)

    def canonical(self):
        out = super().canonical()
        if self.rel_ln is not None:
            out["encoder.LayerNorm.weight"], out["encoder.LayerNorm.bias"] = self.rel_ln.weight, self.rel_ln.bias
        return out


class DebertaLayer(nn.Module):
    """DebertaLayer (v1): DisentangledSelfAttention with the fused in_proj (disentangled_att_bias)."""

    def __init__(self, c, max_rel):
        super().__init__()
        d = c["hidden_size"]
        self.n, self.hd, self.max_rel = c["num_attention_heads"], d // c["num_attention_heads"], max_rel
        self.types, self.relative = pos_att_type(c), c.get("relative_attention", False)
        self.in_proj = nn.Linear(d, 3 * d, bias=False)
        self.q_bias, self.v_bias = nn.Parameter(torch.zeros(d)), nn.Parameter(torch.zeros(d))
        if self.relative:
            if "c2p" in self.types:
                self.pos_proj = nn.Linear(d, d, bias=False)
            if "p2c" in self.types:
                self.pos_q_proj = nn.Linear(d, d)
        self.scale = math.sqrt(self.hd * (1 + len(self.types)))
        self.ff = FeedForward(c)
        self.attn_drop = c.get("attention_probs_dropout_prob", 0.1)

    def forward(self, x, allowed, rel, rpos, pk=None, pv=None):
        B, T, _ = x.shape
        q, k, v = split_heads(self.in_proj(x), self.n).chunk(3, dim=-1)  # rows interleaved per head
        q = (q + split_heads(self.q_bias[None, None], self.n)) / self.scale
        v = v + split_heads(self.v_bias[None, None], self.n)
        keys, values = k, v
        if pk is not None:
            keys, values = torch.cat([split_heads(pk, self.n), k], 2), torch.cat([split_heads(pv, self.n), v], 2)
        s = q @ keys.transpose(-1, -2)
        bias = None
        if self.relative:
            span = min(T, self.max_rel)
            r = rel[self.max_rel - span:self.max_rel + span][None]
            bias = 0
            if "c2p" in self.types:
                kr = split_heads(self.pos_proj(r), self.n)
                idx = torch.clamp(rpos + span, 0, 2 * span - 1).expand(B, self.n, T, T)
                bias = bias + torch.gather(q @ kr.transpose(-1, -2), -1, idx)
            if "p2c" in self.types:
                qr = split_heads(self.pos_q_proj(r), self.n) / self.scale
                idx = torch.clamp(-rpos + span, 0, 2 * span - 1).expand(B, self.n, T, T)
                bias = bias + torch.gather(k @ qr.transpose(-1, -2), -1, idx).transpose(-1, -2)
        return disentangled_output(self.ff, s, bias, allowed, values, x, self.attn_drop, self.training)

    def canonical(self, p):
        out = self.ff.canonical(p)
        a = p + "attention.self."
        out[a + "in_proj.weight"], out[a + "q_bias"], out[a + "v_bias"] = self.in_proj.weight, self.q_bias, self.v_bias
        if hasattr(self, "pos_proj"):
            out[a + "pos_proj.weight"] = self.pos_proj.weight
        if hasattr(self, "pos_q_proj"):
            out[a + "pos_q_proj.weight"], out[a + "pos_q_proj.bias"] = self.pos_q_proj.weight, self.pos_q_proj.bias
        return out


class Deberta(DebertaEncoder):
    def __init__(self, c):
        if c.get("talking_head", False):
            raise SystemExit("torch_ref: deberta with talking_head is not supported")
        M = max_relative(c)
        super().__init__(c, (DebertaLayer(c, M) for _ in range(c["num_hidden_layers"])), 2 * M)

    def relative_inputs(self, T):
        """The relative embeddings [2M, d] and build_relative_position's i - j [1, 1, T, T]."""
        rel = self.rel_embeddings.weight if self.relative else None
        return rel, (torch.arange(T)[:, None] - torch.arange(T)[None, :])[None, None]


# The dropout of a training step besides the backbone's own (hidden_dropout_prob,
# attention_probs_dropout_prob from the config, where transformers applies them):
# on the prefix slots (P-Tuning v2's; the workbench's prefix_dropout default) and
# on the pooled output before the head (apt-bench's head dropout).
PREFIX_DROPOUT, HEAD_DROPOUT = 0.1, 0.1

ENCODERS = {"bert": Bert, "roberta": Bert, "deberta": Deberta, "deberta-v2": DebertaV2}


class Model(nn.Module):
    """The family's encoder with P-Tuning v2 prefixes and APT gates, and a 2-class head."""

    def __init__(self, c, method, prefix, created_pooler):
        super().__init__()
        if c["model_type"] not in ENCODERS:
            raise SystemExit(f"torch_ref: model_type {c['model_type']!r} is not supported (have {', '.join(ENCODERS)})")
        d, L, p = c["hidden_size"], c["num_hidden_layers"], prefix
        self.enc = ENCODERS[c["model_type"]](c)
        self.head = nn.Linear(d, 2)
        self.p = p if method in ("pt2", "apt") else 0
        if self.p:
            self.pk = nn.Parameter(torch.randn(L, p, d) * 0.02)
            self.pv = nn.Parameter(torch.randn(L, p, d) * 0.02)
        if method == "apt" and p > 0:
            self.gw = nn.Parameter(torch.randn(L, d, p) * 0.02)
            self.gb = nn.Parameter(torch.zeros(L, p))
            self.lam = nn.Parameter(torch.ones(L))
        if method != "ft":
            trained = ("pk", "pv", "gw", "gb", "lam", "head") + (("enc.pooler",) if created_pooler else ())
            for name, prm in self.named_parameters():
                if not name.startswith(trained):
                    prm.requires_grad_(False)

    def prefixes(self, i, x, m):
        """Layer i's key and value slots [B, p, d] from its input x [B, T, d] and mask m [B, T]."""
        B = x.shape[0]
        pk, pv = self.pk[i].expand(B, self.p, -1), self.pv[i].expand(B, self.p, -1)
        if hasattr(self, "gw"):
            h = (x * m[..., None]).sum(1) / m.sum(1, keepdim=True)
            g = (torch.sigmoid(h @ self.gw[i] + self.gb[i]) * self.lam[i])[..., None]
            pk, pv = g * pk, g * pv
        # P-Tuning v2's dropout on the prefix (the workbench's prefix_dropout).
        return F.dropout(pk, PREFIX_DROPOUT, self.training), F.dropout(pv, PREFIX_DROPOUT, self.training)

    def forward(self, ids, mask):
        pooled = self.enc.pool(self.enc(ids, mask, self.p, self.prefixes))
        return self.head(F.dropout(pooled, HEAD_DROPOUT, self.training))


def blas_probe():
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    a @ b
    t = time.perf_counter()
    for _ in range(5):
        a @ b
    return 2 * 512 ** 3 * 5 / (time.perf_counter() - t) / 1e9


def bert_config(a):
    """BERT-base's config.json at the sizes of the flags (when --config is absent)."""
    return dict(model_type="bert", num_hidden_layers=a.layers, hidden_size=a.hidden, num_attention_heads=a.heads,
                intermediate_size=a.intermediate, vocab_size=a.vocab, max_position_embeddings=max(512, a.seq),
                type_vocab_size=2, layer_norm_eps=1e-12, hidden_act="gelu")


def main():
    ap = argparse.ArgumentParser()
    for k, v in dict(layers=12, hidden=768, heads=12, intermediate=3072, vocab=30522, batch=8, seq=128,
                     prefix=16, threads=2, steps=3).items():
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--method", default="apt", choices=["ft", "pt2", "apt"])
    ap.add_argument("--mode", default="train", choices=["train", "infer"])
    ap.add_argument("--config", help="the backbone's config.json (its text, or a path to it); "
                    "without it, BERT at the sizes of --layers, --hidden, --heads, --intermediate, --vocab")
    ap.add_argument("--created-pooler", action="store_true",
                    help="the checkpoint has no pooler: it is created and trained with the head")
    ap.add_argument("--selfcheck", action="store_true", help="compare each family's model with its golden reference")
    ap.add_argument("--compare", metavar="FOLDER",
                    help="run the model of FOLDER's config.json and weights on FOLDER/inputs.json (the Go test's check)")
    a = ap.parse_args()
    if a.selfcheck or a.compare:
        sys.dont_write_bytecode = True  # leave no __pycache__ beside the scripts
        import torch_ref_selfcheck
        if a.compare:
            raise SystemExit(torch_ref_selfcheck.compare(Model, a.compare))
        raise SystemExit(torch_ref_selfcheck.run(Model))
    if a.config is None:
        c = bert_config(a)
    else:
        text = a.config
        if not text.lstrip().startswith("{"):
            with open(text) as fp:
                text = fp.read()
        c = json.loads(text)
        c.setdefault("model_type", "bert")
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Model(c, a.method, a.prefix, a.created_pooler)
    ids = torch.randint(0, c["vocab_size"], (a.batch, a.seq))
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 2, (a.batch,))
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.dim() >= 2]
    rest = [p for p in trainable if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    loss = None

    def step():
        nonlocal loss
        if a.mode == "infer":
            model.eval()
            with torch.no_grad():
                model(ids, mask)
            return
        model.train()
        out = F.cross_entropy(model(ids, mask), labels)
        opt.zero_grad()
        out.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        loss = out.item()

    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    res = {
        "examples_per_s": a.batch / dt, "tokens_per_s": a.batch * a.seq / dt, "step_s": dt, "first_step_s": first,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "trainable": sum(p.numel() for p in trainable), "blas_gflops": blas_probe(),
    }
    if loss is not None:
        res["loss"] = loss
    print(json.dumps(res))


if __name__ == "__main__":
    main()
