"""torch_ref.py --selfcheck and --compare: each family's bench model against its golden
reference, and against the Go family on the same weights (compare).

For every case below, the bench model (torch_ref.Model, float32, fused kernels) gets
tiny random weights scaled so that a wrong index, scale or mask shows far above the
tolerance (query/key/FFN weights ~ 1/sqrt(fan_in), large embeddings and relative
embeddings, prefixes N(0, 1), gates that spread), and a padded batch. Its encoder's
sequence and pooled outputs, with the deep prefixes the model computes (APT's gates
included), are compared with the float64 reference forward that the family's golden
generator defines, run on the same weights (their canonical checkpoint names):

  bert        aptlib/method/testdata/make_apt_golden.py apt_forward: the prefixes and
              the gates are recomputed there from the adapter tensors
  roberta     aptlib/roberta/testdata/make_golden.py roberta_forward
  deberta     aptlib/deberta/testdata/make_golden.py deberta_forward
  deberta-v2  aptlib/debertav2/testdata/make_golden.py forward

The RoBERTa and DeBERTa v1 references take one prefix for the whole batch, so they
run example by example with that example's gated prefix. The generators are only
imported (they write nothing on import).
"""
import importlib.util
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
TOL = 1e-4

BASE = dict(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=37,
            hidden_act="gelu", initializer_range=0.02)

# name, config, method
CASES = [
    ("bert apt", dict(BASE, model_type="bert", max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12,
                      pad_token_id=0), "apt"),
    ("roberta apt", dict(BASE, model_type="roberta", max_position_embeddings=40, type_vocab_size=1,
                         layer_norm_eps=1e-5, pad_token_id=1), "apt"),
    ("deberta apt (deberta-base keys, max_relative_positions 5 < T)",
     dict(BASE, model_type="deberta", max_position_embeddings=40, relative_attention=True, pos_att_type="c2p|p2c",
          max_relative_positions=5, position_biased_input=False, type_vocab_size=0, layer_norm_eps=1e-7,
          pad_token_id=0, pooler_hidden_act="gelu"), "apt"),
    ("deberta pt2 (c2p only, absolute positions, gelu_new)",
     dict(BASE, model_type="deberta", max_position_embeddings=40, relative_attention=True, pos_att_type=["c2p"],
          max_relative_positions=-1, position_biased_input=True, type_vocab_size=2, layer_norm_eps=1e-7,
          hidden_act="gelu_new", pad_token_id=0, pooler_hidden_act="tanh"), "pt2"),
    ("deberta-v2 apt (v3-base keys: buckets 8 of 16, shared keys, rel LayerNorm)",
     dict(BASE, model_type="deberta-v2", max_position_embeddings=64, relative_attention=True, position_buckets=8,
          max_relative_positions=16, share_att_key=True, pos_att_type="p2c|c2p", norm_rel_ebd="layer_norm",
          position_biased_input=False, type_vocab_size=0, layer_norm_eps=1e-7, pad_token_id=0), "apt"),
    ("deberta-v2 apt (v2 keys: no buckets, clamp 5, pos_key/query_proj, absolute positions)",
     dict(BASE, model_type="deberta-v2", max_position_embeddings=64, relative_attention=True,
          max_relative_positions=5, share_att_key=False, pos_att_type=["c2p", "p2c"], norm_rel_ebd="none",
          position_biased_input=True, type_vocab_size=2, layer_norm_eps=1e-7, pad_token_id=0,
          pooler_hidden_act="tanh"), "apt"),
]
PREFIX = 2


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def references():
    sys.dont_write_bytecode = True  # leave no __pycache__ in the testdata folders
    refs = {
        "roberta": load("golden_roberta", os.path.join(ROOT, "aptlib", "roberta", "testdata", "make_golden.py")),
        "deberta": load("golden_deberta", os.path.join(ROOT, "aptlib", "deberta", "testdata", "make_golden.py")),
        "deberta-v2": load("golden_debertav2", os.path.join(ROOT, "aptlib", "debertav2", "testdata", "make_golden.py")),
        # It imports aptlib/bert/testdata/make_golden.py itself, and sets float64 as the default dtype.
        "bert": load("golden_apt", os.path.join(ROOT, "aptlib", "method", "testdata", "make_apt_golden.py")),
    }
    torch.set_default_dtype(torch.float32)
    return refs


def randomize(model, g):
    def rnd(t, std, mean=0.0):
        t.copy_(torch.randn(t.shape, generator=g) * std + mean)

    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, torch.nn.LayerNorm):
                rnd(mod.weight, 0.1, 1.0)
                rnd(mod.bias, 0.1)
            elif isinstance(mod, torch.nn.Linear):
                rnd(mod.weight, 1.5 / math.sqrt(mod.in_features))
                if mod.bias is not None:
                    rnd(mod.bias, 0.1)
            elif isinstance(mod, torch.nn.Embedding):
                rnd(mod.weight, 1.0 if "rel_embeddings" in name else 0.5)
        for name, prm in model.named_parameters():
            if name.endswith(("q_bias", "v_bias")):
                rnd(prm, 0.2)
        if hasattr(model, "pk"):
            rnd(model.pk, 1.0)
            rnd(model.pv, 1.0)
        if hasattr(model, "gw"):
            rnd(model.gw, 0.5)
            rnd(model.gb, 0.5)
            model.lam.copy_(torch.rand(model.lam.shape, generator=g) * 1.4 + 0.4)
            model.lam[-1] *= -1  # a negative layer scale is used as is


def inputs(c, g):
    """A padded batch: lengths 8, 12, 3 of 12; real ids avoid the specials 0-2."""
    lengths = torch.tensor([8, 12, 3])
    mask = (torch.arange(12)[None] < lengths[:, None]).long()
    ids = torch.randint(3, c["vocab_size"], (3, 12), generator=g)
    ids = torch.where(mask.bool(), ids, torch.full_like(ids, c.get("pad_token_id", 0)))
    return ids, mask


def reference(refs, c, model, ids, mask, prefixes):
    """The golden generator's forward in float64: sequence [B, T, d], pooled [B, d]."""
    W = {k: v.detach().double() for k, v in model.enc.canonical().items()}
    mt, B = c["model_type"], ids.shape[0]
    types = torch.zeros_like(ids)
    lens = [PREFIX] * c["num_hidden_layers"]
    double = {i: (k.double(), v.double()) for i, (k, v) in prefixes.items()}
    torch.set_default_dtype(torch.float64)
    try:
        if mt == "bert":
            A = {"head.weight": model.head.weight.detach().T.double(), "head.bias": model.head.bias.detach().double()}
            for i in range(c["num_hidden_layers"]):
                A[f"prefix.{i}.key"], A[f"prefix.{i}.value"] = model.pk[i].detach(), model.pv[i].detach()
                A[f"gate.{i}.weight"], A[f"gate.{i}.bias"] = model.gw[i].detach(), model.gb[i].detach()
                A[f"layer_scale.{i}"] = model.lam[i].detach()
            seq, pooled, _ = refs["bert"].apt_forward(W, c, ids, types, mask, A, "apt", lens, "mean")
            return seq, pooled
        if mt == "deberta-v2":
            return refs[mt].forward(W, c, ids, types, mask, [double[i] for i in range(len(lens))])
        outs = []
        for b in range(B):
            pre = [(double[i][0][b], double[i][1][b]) for i in range(len(lens))]
            if mt == "roberta":
                outs.append(refs[mt].roberta_forward(W, c, ids[b:b + 1], prefix=pre))
            else:
                outs.append(refs[mt].deberta_forward(W, c, ids[b:b + 1], types[b:b + 1], mask[b:b + 1], prefix=pre))
        return torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs])
    finally:
        torch.set_default_dtype(torch.float32)


def run(Model):
    refs = references()
    g = torch.Generator().manual_seed(7)
    worst = 0.0
    for name, c, method in CASES:
        model = Model(c, method, PREFIX, created_pooler=False).eval()
        randomize(model, g)
        ids, mask = inputs(c, g)
        prefixes = {}

        def recording(i, x, m):
            pk, pv = model.prefixes(i, x, m)
            prefixes[i] = (pk.detach(), pv.detach())
            return pk, pv

        with torch.no_grad():
            seq = model.enc(ids, mask, model.p, recording)
            pooled = model.enc.pool(seq)
        ref_seq, ref_pooled = reference(refs, c, model, ids, mask, prefixes)
        d_seq = (seq.double() - ref_seq).abs().max().item()
        d_pool = (pooled.double() - ref_pooled).abs().max().item()
        scale = ref_seq.abs().max().item()
        print(f"{name}: max |sequence - reference| {d_seq:.2e} (outputs up to {scale:.2f}), "
              f"max |pooled - reference| {d_pool:.2e}")
        if not (d_seq <= TOL and d_pool <= TOL):  # NaN fails too
            print(f"  FAIL: above the tolerance {TOL:g}")
        worst = max(worst, d_seq, d_pool) if not math.isnan(d_seq + d_pool) else float("inf")
    ok = worst <= TOL
    print(f"selfcheck {'ok' if ok else 'FAILED'}: largest difference {worst:.2e} (tolerance {TOL:g})")
    return 0 if ok else 1


def compare(Model, folder):
    """--compare FOLDER: the bench model of FOLDER/config.json with the weights of
    FOLDER/model.safetensors (every tensor used, none missing), on the ids, mask and
    per-layer prefix slots [B, p, d] of FOLDER/inputs.json; writes the sequence and
    pooled outputs to FOLDER/outputs.json (the Go test compares them with ours)."""
    import json
    with open(os.path.join(folder, "config.json")) as fp:
        c = json.load(fp)
    with open(os.path.join(folder, "inputs.json")) as fp:
        inp = json.load(fp)
    W = references()["bert"].read_safetensors(os.path.join(folder, "model.safetensors"))
    model = Model(c, "pt2", len(inp["prefix_keys"][0][0]), created_pooler=False).eval()
    params = model.enc.canonical()
    missing, unused = sorted(set(params) - set(W)), sorted(set(W) - set(params))
    if missing or unused:
        raise SystemExit(f"torch_ref --compare: the checkpoint lacks {missing} and has unused {unused}")
    with torch.no_grad():
        for name, prm in params.items():
            if tuple(prm.shape) != tuple(W[name].shape):
                raise SystemExit(f"torch_ref --compare: {name} is {list(W[name].shape)}, the model has {list(prm.shape)}")
            prm.copy_(W[name].to(torch.float32))
        keys = [torch.tensor(k) for k in inp["prefix_keys"]]
        values = [torch.tensor(v) for v in inp["prefix_values"]]
        seq = model.enc(torch.tensor(inp["input_ids"]), torch.tensor(inp["attention_mask"]), keys[0].shape[1],
                        lambda i, x, m: (keys[i], values[i]))
        pooled = model.enc.pool(seq)
    with open(os.path.join(folder, "outputs.json"), "w") as fp:
        json.dump({"sequence_output": seq.tolist(), "pooled_output": pooled.tolist()}, fp)
    return 0
