#!/usr/bin/env python3
"""Golden values for PT-2 and APT through the RoBERTa, DeBERTa (v1) and DeBERTa-v2/v3
backbones, from independent references.

Each family's backbone is its own PyTorch reference, imported from the family's
testdata (nothing here is shared with the Go code):

  roberta      ../../roberta/testdata/make_golden.py   roberta_forward(..., prefix_fn=)
  deberta      ../../deberta/testdata/make_golden.py   deberta_forward(..., prefix_fn=)
  deberta-v2   ../../debertav2/testdata/make_golden.py forward(..., prefix_fn=)

Those references already place P-Tuning v2's deep prefixes as the family does (RoBERTa:
K = [P^k ; X W_k + b_k] with the mask cat(1_p, m); DeBERTa v1 and v2: the prefix columns
get content scores only, scaled by 1/sqrt(d_head * sf), with a zero block in front of
c2p + p2c, and DeBERTa v1's prefix values get no v_bias). Their prefix_fn hook is called
with each layer's input, so the slots can be APT's gated ones: gated_prefix() of
make_apt_golden.py (the BERT APT golden), P'_i = lambda_i * alpha_i (.) P_i with
alpha_i = sigmoid(h_{i-1} W_i + b_i), h_{i-1} layer i's input pooled over the real
tokens (mean) or its first token (cls). Layer i's input is the embedding output for
i = 0 and the previous layer's output after that, which for the ConvLayer variant of
DeBERTa-v2 (conv_kernel_size > 0) is the ConvLayer's output for i = 1.

The backbones are computed in float64 from the float32 checkpoints widened exactly (the
relative-position buckets stay in HF's float32), so the golden numbers are the float32
model's up to float64 rounding; the Go side computes in float32 and must agree within
1e-4.

Outputs (this directory):
  families/<model>/          four tiny checkpoints (config.json, model.safetensors, F32;
                             3 layers, d = 16, 4 heads, no tokenizer files: the test
                             loads weights only), tensor names as each family's golden
                             script makes them, values redrawn "healthy" (matrices
                             ~ 1/sqrt(fan_in), word embeddings N(0, 1), so tokens
                             interact and a prefix moves the outputs visibly):
    tiny-roberta     "roberta.*" names plus lm_head.*, no pooler (as roberta-base):
                     the adapters hold the created pooler (tanh)
    tiny-deberta     v1, plain names, c2p|p2c, max_relative_positions 4 < T (the clamp
                     bites), no absolute positions, with its pooler (gelu)
    tiny-debertav3   v3-like: "deberta.*" names, position_buckets 6, shared keys,
                     norm_rel_ebd layer_norm, no absolute positions, no pooler: the
                     adapters hold the created pooler (gelu)
    tiny-debertav2   v2-xlarge-like: ConvLayer (kernel 3, gelu, 2 groups), separate
                     pos_key/pos_query projections, max_relative_positions 4, absolute
                     positions, two token types, embedding_size 12 (embed_proj), with
                     its pooler (tanh)
  families/<model>/<case>.safetensors   the adapters, in the docs/adapters.md format
                     (prefix.{i}.key/value, gate.{i}.weight/bias, layer_scale.{i},
                     pooler.weight/bias for a checkpoint without pooler, head.weight/bias,
                     __metadata__ with model_type)
  apt_golden_families.json   per model its padded batch of pairs (input ids with the
                     family's specials and pad id, token types, mask), and per case the
                     expected sequence output, pooled output, logits (pooled x
                     head.weight + head.bias) and alpha_i [B, p_i] of each gated layer.

Cases per model: pt2 [2, 0, 3]; apt mean [1, 3, 2]; apt cls [0, 3, 2]; one ablation
(apt_no_token_gate for roberta and debertav3, apt_no_layer_gate for deberta and
debertav2).

Run from this directory:  /usr/bin/python3 make_apt_golden_families.py
"""
import importlib.util
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # leave no __pycache__ in the families' testdata
sys.path.insert(0, HERE)
import make_apt_golden as aptref  # noqa: E402  (make_adapter, gated_prefix, safetensors I/O)

# make_apt_golden sets float64 as torch's default dtype; the family references are
# fed float64 weights instead and must keep float32 defaults where HF computes in
# float32 (DeBERTa-v2's log buckets divide integer tensors).
torch.set_default_dtype(torch.float32)


def load_reference(family, name):
    path = os.path.join(HERE, "..", "..", family, "testdata", "make_golden.py")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # defines functions only; main() is not run
    return mod


rob = load_reference("roberta", "roberta_ref")
deb = load_reference("deberta", "deberta_ref")
dv2 = load_reference("debertav2", "debertav2_ref")

BASE = dict(vocab_size=40, hidden_size=16, num_hidden_layers=3, num_attention_heads=4,
            intermediate_size=32, hidden_act="gelu", hidden_dropout_prob=0.1,
            attention_probs_dropout_prob=0.1, initializer_range=0.02, torch_dtype="float32")

MODELS = {
    "tiny-roberta": dict(BASE, model_type="roberta", max_position_embeddings=16, type_vocab_size=1,
                         layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                         position_embedding_type="absolute", architectures=["RobertaForMaskedLM"]),
    "tiny-deberta": dict(BASE, model_type="deberta", max_position_embeddings=16, relative_attention=True,
                         pos_att_type="c2p|p2c", max_relative_positions=4, position_biased_input=False,
                         type_vocab_size=0, layer_norm_eps=1e-7, pad_token_id=0, pooler_dropout=0,
                         pooler_hidden_act="gelu", architectures=["DebertaForSequenceClassification"]),
    "tiny-debertav3": dict(BASE, model_type="deberta-v2", max_position_embeddings=16, relative_attention=True,
                           position_buckets=6, max_relative_positions=12, share_att_key=True,
                           pos_att_type="p2c|c2p", norm_rel_ebd="layer_norm", position_biased_input=False,
                           type_vocab_size=0, layer_norm_eps=1e-7, pad_token_id=0,
                           architectures=["DebertaV2ForMaskedLM"]),
    "tiny-debertav2": dict(BASE, model_type="deberta-v2", max_position_embeddings=16, relative_attention=True,
                           max_relative_positions=4, share_att_key=False, pos_att_type=["c2p", "p2c"],
                           norm_rel_ebd="none", position_biased_input=True, type_vocab_size=2,
                           embedding_size=12, conv_kernel_size=3, conv_act="gelu", conv_groups=2,
                           layer_norm_eps=1e-7, pad_token_id=0, pooler_hidden_act="tanh",
                           architectures=["DebertaV2Model"]),
}

# name, model, method, prefix lengths, gate pooling, adapter seed
CASES = [
    ("roberta_pt2", "tiny-roberta", "pt2", [2, 0, 3], "mean", 21),
    ("roberta_apt_mean", "tiny-roberta", "apt", [1, 3, 2], "mean", 22),
    ("roberta_apt_cls", "tiny-roberta", "apt", [0, 3, 2], "cls", 23),
    ("roberta_no_token_gate", "tiny-roberta", "apt_no_token_gate", [2, 1, 3], "mean", 24),
    ("deberta_pt2", "tiny-deberta", "pt2", [2, 0, 3], "mean", 31),
    ("deberta_apt_mean", "tiny-deberta", "apt", [1, 3, 2], "mean", 32),
    ("deberta_apt_cls", "tiny-deberta", "apt", [0, 3, 2], "cls", 33),
    ("deberta_no_layer_gate_cls", "tiny-deberta", "apt_no_layer_gate", [3, 2, 0], "cls", 34),
    ("debertav3_pt2", "tiny-debertav3", "pt2", [2, 0, 3], "mean", 41),
    ("debertav3_apt_mean", "tiny-debertav3", "apt", [1, 3, 2], "mean", 42),
    ("debertav3_apt_cls", "tiny-debertav3", "apt", [0, 3, 2], "cls", 43),
    ("debertav3_no_token_gate", "tiny-debertav3", "apt_no_token_gate", [2, 1, 3], "mean", 44),
    ("debertav2_pt2", "tiny-debertav2", "pt2", [2, 0, 3], "mean", 51),
    ("debertav2_apt_mean", "tiny-debertav2", "apt", [1, 3, 2], "mean", 52),
    ("debertav2_apt_cls", "tiny-debertav2", "apt", [0, 3, 2], "cls", 53),
    ("debertav2_no_layer_gate", "tiny-debertav2", "apt_no_layer_gate", [3, 2, 0], "mean", 54),
]
NUM_LABELS = 3


def family_weights(name, cfg):
    """The checkpoint's tensors: names and shapes from the family's own golden script
    (so its naming paths are the ones that script tests), values redrawn healthy."""
    if name == "tiny-roberta":
        w = rob.make_weights(cfg, prefixed=True, pooler=False, seed=1)
    elif name == "tiny-deberta":
        w = deb.make_weights(cfg, prefixed=False, pooler=True, extra_pos=False, seed=1)
    else:
        body, pooler = dv2.make_weights(cfg)
        if name == "tiny-debertav3":
            w = {"deberta." + k: v for k, v in body.items()}
        else:
            w = dict(body, **pooler)
    return healthy(w, seed=sum(map(ord, name)))


def healthy(w, seed):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k in sorted(w):
        shape = w[k].shape
        base = k.rsplit(".", 1)[0]
        if k.endswith("LayerNorm.weight") or k.endswith("layer_norm.weight"):
            std, mean = 0.1, 1.0
        elif len(shape) == 1:
            std, mean = 0.1, 0.0
        elif "word_embeddings" in k or "rel_embeddings" in k:
            std, mean = 1.0, 0.0
        elif "position_embeddings" in k or "token_type_embeddings" in k:
            std, mean = 0.3, 0.0
        else:  # [out, in] (conv: [out, in/groups, kernel]): ~ 1/sqrt(fan_in)
            fan_in = math.prod(shape[1:])
            std = 1.0 / math.sqrt(fan_in)
            if any(s in base for s in ("query", "key", "in_proj", "pos_proj", "pos_q_proj")):
                std *= 2  # O(1) attention scores, so a wrong score term shows
            mean = 0.0
        out[k] = (mean + torch.randn(*shape, generator=g, dtype=torch.float32) * std).to(torch.float32)
    return out


def batch(name):
    """A padded batch of three pairs with the family's specials; padding holds the pad id
    (RoBERTa derives positions and the mask from it)."""
    if name == "tiny-roberta":  # <s> A </s></s> B </s>, <pad> = 1
        ids = torch.tensor([
            [0, 10, 11, 12, 2, 2, 20, 21, 2, 1],
            [0, 30, 31, 2, 2, 33, 34, 35, 36, 2],
            [0, 15, 2, 2, 25, 2, 1, 1, 1, 1],
        ])
        return ids, torch.zeros_like(ids), ids.ne(1).to(torch.int64)
    ids = torch.tensor([  # [CLS]=1 A [SEP]=2 B [SEP], [PAD] = 0
        [1, 10, 11, 12, 2, 20, 21, 2, 0, 0],
        [1, 30, 31, 2, 33, 34, 35, 36, 37, 2],
        [1, 15, 2, 25, 2, 0, 0, 0, 0, 0],
    ])
    mask = ids.ne(0).to(torch.int64)
    types = torch.zeros_like(ids)
    for b in range(ids.shape[0]):
        first = (ids[b] == 2).nonzero()[0].item()
        types[b, first + 1:] = mask[b, first + 1:]
    return ids, types, mask


def reference(name, cfg, W, ids, types, mask, prefix_fn, fixed=None):
    """(sequence [B, T, d], pooled [B, d] or None) of the family's reference, float64,
    with the slots of prefix_fn, or with the references' fixed prefixes (fixed[i] =
    (P^k, P^v) [p_i, d] or None) when prefix_fn is None."""
    W = {k: v.to(torch.float64) for k, v in W.items()}
    with torch.no_grad():
        if name == "tiny-roberta":
            return rob.roberta_forward(W, cfg, ids, prefix=fixed, prefix_fn=prefix_fn)
        if name == "tiny-deberta":
            return deb.deberta_forward(W, cfg, ids, types, mask, prefix=fixed, prefix_fn=prefix_fn)
        W = {k[len("deberta."):] if k.startswith("deberta.") else k: v for k, v in W.items()}
        B = ids.shape[0]
        prefixes = None if fixed is None else [
            None if p is None else (p[0][None].expand(B, *p[0].shape), p[1][None].expand(B, *p[1].shape))
            for p in fixed]
        pooled = "pooler.dense.weight" in W
        if not pooled:  # dv2.forward always pools; the created pooler replaces it (created_pooler)
            d = cfg["hidden_size"]
            W["pooler.dense.weight"] = torch.zeros(d, d, dtype=torch.float64)
            W["pooler.dense.bias"] = torch.zeros(d, dtype=torch.float64)
        seq, out = dv2.forward(W, cfg, ids, types, mask, prefixes=prefixes, prefix_fn=prefix_fn)
        return seq, out if pooled else None


def created_pooler(name, cfg, seq, A):
    """The pooler an adapter holds for a checkpoint without one (input-major weight),
    with the family's activation: RoBERTa tanh, DeBERTa pooler_hidden_act."""
    z = seq[:, 0] @ A["pooler.weight"].to(torch.float64) + A["pooler.bias"].to(torch.float64)
    if cfg["model_type"] == "roberta":
        return torch.tanh(z)
    return dv2.act(cfg.get("pooler_hidden_act", "gelu"), z)


def main():
    root = os.path.join(HERE, "families")
    golden = {"num_labels": NUM_LABELS, "models": {}, "cases": []}
    checkpoints = {}
    for name, cfg in MODELS.items():
        out = os.path.join(root, name)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as fp:
            json.dump(cfg, fp, indent=2, sort_keys=True)
        path = os.path.join(out, "model.safetensors")
        aptref.ref.write_safetensors(path, family_weights(name, cfg), "F32", {"format": "pt"})
        W = aptref.read_safetensors(path)
        ids, types, mask = batch(name)
        checkpoints[name] = (cfg, W, ids, types, mask)
        golden["models"][name] = {"dir": "families/" + name, "input_ids": ids.tolist(),
                                  "token_type_ids": types.tolist(), "attention_mask": mask.tolist()}
        # Sanity: an all-None prefix_fn is the family's plain backbone.
        seq0, _ = reference(name, cfg, W, ids, types, mask, lambda i, x, m: None)
        seq1, _ = reference(name, cfg, W, ids, types, mask, None)
        assert seq0.dtype == torch.float64 and torch.equal(seq0, seq1), name

    for cname, mname, method, lens, pooling, seed in CASES:
        cfg, W, ids, types, mask = checkpoints[mname]
        d = cfg["hidden_size"]
        A = aptref.make_adapter(method, lens, d, NUM_LABELS, seed)
        has_pooler = any(k.endswith("pooler.dense.weight") for k in W)
        if not has_pooler:
            g = torch.Generator().manual_seed(seed + 1000)
            A["pooler.weight"] = torch.randn(d, d, generator=g, dtype=torch.float32) / math.sqrt(d)
            A["pooler.bias"] = torch.randn(d, generator=g, dtype=torch.float32) * 0.1
        meta = {"format": "apt-adapter/1", "method": method, "head": "sequence_classification",
                "labels": json.dumps([f"l{j}" for j in range(NUM_LABELS)]), "gate_pooling": pooling,
                "prefix_lens": json.dumps(lens), "max_len": str(ids.shape[1]), "task": "golden",
                "base_model": mname, "model_type": cfg["model_type"],
                "num_labels": str(NUM_LABELS), "hidden_size": str(d)}
        afile = f"families/{mname}/{cname}.safetensors"
        aptref.ref.write_safetensors(os.path.join(HERE, afile), A, "F32", meta)
        A64 = {k: v.to(torch.float64) for k, v in A.items()}
        alphas = {}

        def prefix_fn(i, x, m):
            if lens[i] == 0:
                return None
            pk, pv, alpha = aptref.gated_prefix(A64, method, i, x, m.to(torch.float64), pooling)
            if alpha is not None:
                alphas[i] = alpha
            return pk, pv

        seq, pooled = reference(mname, cfg, W, ids, types, mask, prefix_fn)
        if pooled is None:
            pooled = created_pooler(mname, cfg, seq, A)
        logits = pooled @ A64["head.weight"] + A64["head.bias"]
        if method == "pt2":  # the hook gives what the references' tested fixed-prefix path gives
            fixed = [None if p == 0 else (A64[f"prefix.{i}.key"], A64[f"prefix.{i}.value"]) for i, p in enumerate(lens)]
            seq_fixed, _ = reference(mname, cfg, W, ids, types, mask, None, fixed)
            assert torch.allclose(seq, seq_fixed, rtol=0, atol=1e-12), cname
        plain, _ = reference(mname, cfg, W, ids, types, mask, None)
        moved = float((seq - plain).abs().max())
        assert moved > 0.1, f"{cname}: the prefixes move the sequence output by only {moved}"
        golden["cases"].append({
            "name": cname, "model": mname, "method": method, "prefix_lens": lens, "gate_pooling": pooling,
            "adapter": afile, "sequence_output": aptref.r8(seq), "pooled_output": aptref.r8(pooled),
            "logits": aptref.r8(logits), "alpha": {str(i): aptref.r8(a) for i, a in alphas.items()},
        })
        spread = {i: (round(float(a.min()), 3), round(float(a.max()), 3)) for i, a in alphas.items()}
        print(f"{cname}: prefixes move the sequence by up to {moved:.3g}; alpha range per layer {spread}")
    with open(os.path.join(HERE, "apt_golden_families.json"), "w") as fp:
        json.dump(golden, fp)
    print("wrote families/ and apt_golden_families.json")


if __name__ == "__main__":
    main()
