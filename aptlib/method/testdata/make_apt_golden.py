#!/usr/bin/env python3
"""Golden values for the APT / P-Tuning v2 forward pass, from an independent reference.

The reference is the PyTorch BertModel of ../../bert/testdata/make_golden.py (imported
from there: embeddings, LayerNorm, GELU, linear, the safetensors writer), with its
encoder loop re-written here to add P-Tuning v2's per-layer prefixes and APT's gates
exactly as docs/methods.md states them:

  * layer i (0-based here) has a key prefix P^k_i and a value prefix P^v_i, [p_i, d];
    they are NOT passed through W_k / W_v: split into heads and concatenated in front
    of the projected keys and values, K_i = [P^k_i ; X W_k + b_k] (same for V);
  * every query (real tokens only) attends to every prefix slot; padded real tokens
    stay masked (HF's additive torch.finfo(float32).min mask, zeros for the prefix);
  * token gate alpha_i = sigmoid(h_{i-1} W_i + b_i), W_i [d, p_i], b_i [p_i], where
    h_{i-1} [B, d] is layer i's input (the embedding output after its LayerNorm for
    the first layer) pooled over the real tokens: the mean over mask == 1 ("mean") or
    the first token ("cls");
  * layer scale lambda_i, a scalar used as is;
  * P'_i = lambda_i * alpha_i (broadcast over d) (.) P_i, for keys and values alike;
    apt_no_token_gate has alpha = 1, apt_no_layer_gate lambda = 1, pt2 both.

The computation is done in float64 (the float32 files widened exactly), so the golden
numbers are the float32 model's values up to float64 rounding; the Go side computes
in float32 and must agree within 1e-4.

Outputs (this directory):
  tiny-bert-3l/              a 3-layer F32 checkpoint (HF layout) whose weights are
                             scaled so that information flows between tokens
                             (value / output / FFN weights ~ 1/sqrt(fan_in)); the
                             trainer's shared test suite trains on it too.
  apt_golden/<case>.safetensors   the adapter of each case, in the docs/adapters.md
                             adapter format (F32, prefix.{i}.key/value, gate.{i}.weight
                             /bias, layer_scale.{i}, head.weight/bias, __metadata__).
  apt_golden.json            the inputs and, per case, the expected sequence output,
                             pooled output, logits (pooled x head.weight + head.bias)
                             and alpha_i [B, p_i] of each gated layer.

Run from this directory:  /usr/bin/python3 make_apt_golden.py
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
BERT_TESTDATA = os.path.join(HERE, "..", "..", "bert", "testdata")
sys.dont_write_bytecode = True  # leave no __pycache__ in ../../bert/testdata
sys.path.insert(0, BERT_TESTDATA)
import make_golden as ref  # noqa: E402  (the backbone reference; importing it writes nothing)

torch.set_default_dtype(torch.float64)

CFG3 = dict(ref.CFG, num_hidden_layers=3, intermediate_size=64, hidden_act="gelu",
            layer_norm_eps=1e-12, torch_dtype="float32")


def healthy_weights(cfg, seed):
    """A random BERT whose tokens talk to each other: unlike BERT's N(0, 0.02) init
    (which the backbone golden test uses, and under which the attention output is
    ~1e-3 of the residual), projections are drawn ~ 1/sqrt(fan_in), so the [CLS]
    token and the pooler carry information about the whole sentence and a prefix
    moves the outputs visibly."""
    d, f, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float32) * std)

    def ln(name):
        return {f"{name}.weight": 1.0 + rnd(d, std=0.1), f"{name}.bias": rnd(d, std=0.1)}

    s = 1.0 / math.sqrt(d)
    w = {
        "embeddings.word_embeddings.weight": rnd(V, d, std=1.0),
        "embeddings.position_embeddings.weight": rnd(cfg["max_position_embeddings"], d, std=0.3),
        "embeddings.token_type_embeddings.weight": rnd(cfg["type_vocab_size"], d, std=0.3),
    }
    w.update(ln("embeddings.LayerNorm"))
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            w[p + f"attention.self.{n}.weight"] = rnd(d, d, std=2 * s if n != "value" else s)
            w[p + f"attention.self.{n}.bias"] = rnd(d, std=0.1)
        w[p + "attention.output.dense.weight"] = rnd(d, d, std=s)
        w[p + "attention.output.dense.bias"] = rnd(d, std=0.1)
        w.update(ln(p + "attention.output.LayerNorm"))
        w[p + "intermediate.dense.weight"] = rnd(f, d, std=s)
        w[p + "intermediate.dense.bias"] = rnd(f, std=0.1)
        w[p + "output.dense.weight"] = rnd(d, f, std=1.0 / math.sqrt(f))
        w[p + "output.dense.bias"] = rnd(d, std=0.1)
        w.update(ln(p + "output.LayerNorm"))
    w["pooler.dense.weight"] = rnd(d, d, std=s)
    w["pooler.dense.bias"] = rnd(d, std=0.1)
    return w


def read_safetensors(path):
    """Minimal reader (F32/F16/BF16) for the checkpoints of ../../bert/testdata."""
    with open(path, "rb") as fp:
        raw = fp.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        buf = body[a:b]
        if info["dtype"] == "F32":
            arr = np.frombuffer(buf, dtype="<f4").astype(np.float32)
        elif info["dtype"] == "F16":
            arr = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(info["dtype"])
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


def canonical(W):
    """Checkpoint names -> BertModel names (no "bert." prefix, LayerNorm weight/bias)."""
    out = {}
    for k, v in W.items():
        if k.startswith("cls."):
            continue
        k = k[len("bert."):] if k.startswith("bert.") else k
        k = k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
        out[k] = v
    return out


# ---- the gated prefix of one layer, shared with make_apt_golden_families.py ----
def gated_prefix(A, method, i, x, m, pooling):
    """Layer i's prefix slots [B, p_i, d] (keys, values) and alpha_i [B, p_i] (None
    without a token gate), from the adapter tensors A (float64) and the layer's input
    x [B, T, d] with its float mask m [B, T]:
    P'_i = lambda_i * alpha_i (.) P_i, alpha_i = sigmoid(h_{i-1} W_i + b_i), h_{i-1}
    the mean of x over the real tokens ("mean") or its first token ("cls")."""
    B = x.shape[0]
    pl = A[f"prefix.{i}.key"].shape[0]
    scale = torch.ones(B, pl, dtype=x.dtype)
    alpha = None
    if method in ("apt", "apt_no_layer_gate"):
        if pooling == "mean":
            h = (x * m[:, :, None]).sum(1) / m.sum(1, keepdim=True)
        elif pooling == "cls":
            h = x[:, 0]
        else:
            raise ValueError(pooling)
        alpha = torch.sigmoid(h @ A[f"gate.{i}.weight"] + A[f"gate.{i}.bias"])
        scale = scale * alpha
    if method in ("apt", "apt_no_token_gate"):
        scale = scale * A[f"layer_scale.{i}"]
    pk = scale[:, :, None] * A[f"prefix.{i}.key"][None]    # [B, p, d]
    pv = scale[:, :, None] * A[f"prefix.{i}.value"][None]
    return pk, pv, alpha


# ---- the reference encoder with P-Tuning v2 prefixes and APT gates (eval mode) ----
def apt_forward(W, cfg, ids, types, mask, A, method, lens, pooling):
    """W: backbone (canonical names), A: adapter tensors (the adapter file's names).
    Returns sequence [B,T,d], pooled [B,d], {layer: alpha [B,p_i]}."""
    W = {k: v.to(torch.float64) for k, v in W.items()}
    A = {k: v.to(torch.float64) for k, v in A.items()}
    eps, act = cfg["layer_norm_eps"], cfg["hidden_act"]
    n, d = cfg["num_attention_heads"], cfg["hidden_size"]
    hd = d // n
    B, T = ids.shape
    pos = torch.arange(T).unsqueeze(0).expand(B, T)
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][pos] \
        + W["embeddings.token_type_embeddings.weight"][types]
    x = ref.layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    m = mask.to(torch.float64)
    ext = (1.0 - m[:, None, None, :]) * torch.finfo(torch.float32).min
    alphas = {}
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        pl = lens[i]

        def heads(t):
            return t.view(B, t.shape[1], n, hd).permute(0, 2, 1, 3)

        q = heads(ref.linear(x, W[p + "attention.self.query.weight"], W[p + "attention.self.query.bias"]))
        k = heads(ref.linear(x, W[p + "attention.self.key.weight"], W[p + "attention.self.key.bias"]))
        v = heads(ref.linear(x, W[p + "attention.self.value.weight"], W[p + "attention.self.value.bias"]))
        ext_i = ext
        if pl > 0:
            pk, pv, alpha = gated_prefix(A, method, i, x, m, pooling)
            if alpha is not None:
                alphas[i] = alpha
            k = torch.cat([heads(pk), k], dim=2)                   # [B, n, p+T, hd]
            v = torch.cat([heads(pv), v], dim=2)
            ext_i = torch.cat([torch.zeros(B, 1, 1, pl), ext], dim=-1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + ext_i
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, T, d)
        a = ref.linear(ctx, W[p + "attention.output.dense.weight"], W[p + "attention.output.dense.bias"])
        x = ref.layer_norm(a + x, W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"], eps)
        hdn = ref.gelu(ref.linear(x, W[p + "intermediate.dense.weight"], W[p + "intermediate.dense.bias"]), act)
        o = ref.linear(hdn, W[p + "output.dense.weight"], W[p + "output.dense.bias"])
        x = ref.layer_norm(o + x, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    pooled = torch.tanh(ref.linear(x[:, 0], W["pooler.dense.weight"], W["pooler.dense.bias"]))
    return x, pooled, alphas


def make_adapter(method, lens, d, num_labels, seed):
    """Random adapter with large-ish values so that every part of the formula shows:
    prefixes N(0, 1), gate weights N(0, 0.5) (h is LayerNorm output, |h| ~ sqrt(d), so
    the gate pre-activations are O(1-3) and alpha spreads over (0, 1) and differs
    between examples and between mean and cls pooling), gate biases N(0, 0.5),
    lambdas uniform in [0.4, 1.8] (one negative, to show lambda is not squashed)."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, std):
        return torch.randn(*shape, generator=g, dtype=torch.float32) * std

    A = {}
    for i, p in enumerate(lens):
        if p == 0:
            continue
        A[f"prefix.{i}.key"] = rnd(p, d, std=1.0)
        A[f"prefix.{i}.value"] = rnd(p, d, std=1.0)
        if method in ("apt", "apt_no_layer_gate"):
            A[f"gate.{i}.weight"] = rnd(d, p, std=0.5)
            A[f"gate.{i}.bias"] = rnd(p, std=0.5)
        if method in ("apt", "apt_no_token_gate"):
            u = float(torch.rand(1, generator=g)) * 1.4 + 0.4
            A[f"layer_scale.{i}"] = torch.tensor(-u if i == len(lens) - 1 else u, dtype=torch.float32)
    A["head.weight"] = rnd(d, num_labels, std=0.5)
    A["head.bias"] = rnd(num_labels, std=0.1)
    return A


def write_checkpoint(name, cfg, W):
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as fp:
        json.dump(cfg, fp, indent=2, sort_keys=True)
    with open(os.path.join(out, "vocab.txt"), "w") as fp:
        fp.write("\n".join(ref.vocab_lines(cfg["vocab_size"])) + "\n")
    ref.write_safetensors(os.path.join(out, "model.safetensors"), W, "F32", {"format": "pt"})


def r8(t):
    return np.round(t.detach().numpy().astype(np.float64), 10).tolist()


def main():
    # tiny-bert-3l: the 3-layer checkpoint of the APT golden test and the trainer suite.
    W3 = healthy_weights(CFG3, seed=4242)
    write_checkpoint("tiny-bert-3l", CFG3, W3)
    models = {
        "tiny-bert-3l": (CFG3, read_safetensors(os.path.join(HERE, "tiny-bert-3l", "model.safetensors"))),
    }
    # The backbone golden test's F32 checkpoint ("bert." names, gamma/beta, erf GELU).
    with open(os.path.join(BERT_TESTDATA, "tiny-bert-prefixed", "config.json")) as fp:
        cfg2 = json.load(fp)
    models["../../bert/testdata/tiny-bert-prefixed"] = (
        cfg2, read_safetensors(os.path.join(BERT_TESTDATA, "tiny-bert-prefixed", "model.safetensors")))

    # A padded batch with two segments. Row 2's padding holds non-zero ids and type
    # ids: only the attention mask may decide what is padding.
    ids = torch.tensor([
        [3, 10, 11, 12, 4, 20, 21, 4, 0, 0, 0, 0],
        [3, 30, 31, 32, 33, 34, 4, 40, 41, 42, 43, 4],
        [3, 50, 4, 77, 78, 79, 80, 81, 82, 83, 84, 85],
        [3, 60, 61, 62, 63, 64, 4, 0, 0, 0, 0, 0],
    ])
    types = torch.tensor([
        [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ])
    mask = (torch.arange(12)[None, :] < torch.tensor([[8], [12], [3], [7]])).to(torch.int64)

    # Sanity: with no prefix the encoder is the backbone reference's.
    for mname, (cfg, W) in models.items():
        Wc = canonical(W)
        seq, pooled, _ = apt_forward(Wc, cfg, ids, types, mask, {}, "pt2", [0] * cfg["num_hidden_layers"], "mean")
        with torch.no_grad():
            seq0, pooled0 = ref.bert_forward({k: v.to(torch.float64) for k, v in Wc.items()}, cfg, ids, types, mask)
        assert torch.allclose(seq, seq0, atol=1e-12) and torch.allclose(pooled, pooled0, atol=1e-12), mname

    num_labels = 3
    cases = [
        # name, model, method, lens, pooling, adapter seed
        ("3l_apt_mean", "tiny-bert-3l", "apt", [4, 0, 2], "mean", 11),
        ("3l_apt_cls", "tiny-bert-3l", "apt", [4, 0, 2], "cls", 11),
        ("3l_no_token_gate", "tiny-bert-3l", "apt_no_token_gate", [4, 0, 2], "mean", 12),
        ("3l_no_layer_gate_cls", "tiny-bert-3l", "apt_no_layer_gate", [1, 3, 0], "cls", 13),
        ("3l_pt2", "tiny-bert-3l", "pt2", [0, 5, 1], "mean", 14),
        ("2l_apt_mean", "../../bert/testdata/tiny-bert-prefixed", "apt", [3, 0], "mean", 15),
        ("2l_apt_cls", "../../bert/testdata/tiny-bert-prefixed", "apt", [0, 2], "cls", 16),
    ]
    os.makedirs(os.path.join(HERE, "apt_golden"), exist_ok=True)
    golden = {"input_ids": ids.tolist(), "token_type_ids": types.tolist(),
              "attention_mask": mask.tolist(), "num_labels": num_labels, "cases": []}
    for name, mname, method, lens, pooling, seed in cases:
        cfg, W = models[mname]
        d = cfg["hidden_size"]
        A = make_adapter(method, lens, d, num_labels, seed)
        meta = {"format": "apt-adapter/1", "method": method, "head": "sequence_classification",
                "labels": json.dumps([f"l{j}" for j in range(num_labels)]), "gate_pooling": pooling,
                "prefix_lens": json.dumps(lens), "max_len": "12", "task": "golden", "base_model": mname}
        afile = os.path.join("apt_golden", name + ".safetensors")
        ref.write_safetensors(os.path.join(HERE, afile), A, "F32", meta)
        with torch.no_grad():
            seq, pooled, alphas = apt_forward(canonical(W), cfg, ids, types, mask, A, method, lens, pooling)
            logits = pooled @ A["head.weight"].to(torch.float64) + A["head.bias"].to(torch.float64)
        golden["cases"].append({
            "name": name, "model": mname, "method": method, "prefix_lens": lens, "gate_pooling": pooling,
            "adapter": afile,
            "sequence_output": r8(seq), "pooled_output": r8(pooled), "logits": r8(logits),
            "alpha": {str(i): r8(a) for i, a in alphas.items()},
        })
        spread = {i: (float(a.min()), float(a.max())) for i, a in alphas.items()}
        print(f"{name}: alpha range per layer {spread}")
    with open(os.path.join(HERE, "apt_golden.json"), "w") as fp:
        json.dump(golden, fp)
    print("wrote tiny-bert-3l/, apt_golden/ and apt_golden.json")


if __name__ == "__main__":
    main()
