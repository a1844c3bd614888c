#!/usr/bin/env python3
"""Cross-check of make_golden.py's reference against P-Tuning v2's own DeBERTa-v2 code.

Not needed by the Go tests (they read golden.json). It runs P-Tuning v2's
model/debertaV2.py (a modified copy of transformers' modeling_deberta_v2.py that
takes past_key_values), which the caller supplies from a checkout of
github.com/THUDM/P-tuning-v2, with the few transformers names it imports stubbed
(transformers itself is not installable here), on the tiny checkpoints of this
directory, and compares it with the reference of make_golden.py:

  1. deep prefixes of length 2 in every layer (P-Tuning v2 needs equal lengths),
     v3-like checkpoint, padded batch: every real token's output;
  2. the same on the v2-xlarge-like checkpoint (ConvLayer, absolute positions)
     with a batch without padding and position_ids 0..T-1 given explicitly,
     which neutralises P-Tuning v2's two departures (an all-ones embedding mask,
     absolute positions shifted by p).

Run from this directory:
  /usr/bin/python3 crosscheck_ptuning_v2.py /path/to/P-tuning-v2/model/debertaV2.py
"""
import importlib.util
import json
import math
import os
import sys
import types

import numpy as np
import torch

np.int = int  # P-Tuning v2's make_log_bucket_position uses np.int (removed in numpy 1.24)


def stub_transformers():
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    def gelu(x):
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))

    def deco(*a, **k):
        return lambda f: f

    class Output:
        def __init__(self, **kw):
            self._vals = kw
            self.__dict__.update(kw)

        def __getitem__(self, i):
            return tuple(v for v in self._vals.values() if v is not None)[i]

    class PreTrainedModel(torch.nn.Module):
        def __init__(self, config, *a, **k):
            super().__init__()
            self.config = config

        def init_weights(self):
            self.apply(self._init_weights)

    class Config:
        def __init__(self, **kw):
            self.output_attentions = self.output_hidden_states = False
            self.use_return_dict = True
            self.pos_att_type = None
            self.__dict__.update(kw)
            if isinstance(self.pos_att_type, str):
                self.pos_att_type = [x.strip() for x in self.pos_att_type.lower().split("|")]

    import logging
    module("transformers")
    module("transformers.activations", ACT2FN={"gelu": gelu, "tanh": torch.tanh})
    module("transformers.file_utils", add_code_sample_docstrings=deco, add_start_docstrings=deco,
           add_start_docstrings_to_model_forward=deco)
    module("transformers.modeling_outputs", **{n: Output for n in (
        "BaseModelOutput", "MaskedLMOutput", "QuestionAnsweringModelOutput", "SequenceClassifierOutput",
        "TokenClassifierOutput", "MultipleChoiceModelOutput")})
    module("transformers.modeling_utils", PreTrainedModel=PreTrainedModel)
    module("transformers.utils", logging=types.SimpleNamespace(get_logger=logging.getLogger))
    module("transformers.models")
    module("transformers.models.deberta_v2")
    module("transformers.models.deberta_v2.configuration_deberta_v2", DebertaV2Config=Config)
    return Config


def read_safetensors(path):
    with open(path, "rb") as fp:
        n = int.from_bytes(fp.read(8), "little")
        header = json.loads(fp.read(n))
        data = fp.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).reshape(info["shape"])
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    Config = stub_transformers()
    spec = importlib.util.spec_from_file_location("ptv2_debertaV2", sys.argv[1])
    ptv2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ptv2)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import make_golden as ref

    B, T, p = 3, 12, 2
    ids = torch.tensor([[1, 10, 11, 12, 2, 20, 21, 2, 0, 0, 0, 0],
                        [1, 30, 31, 32, 33, 34, 2, 40, 41, 42, 43, 2],
                        [1, 50, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
    types_ = torch.tensor([[0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0],
                           [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
                           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
    padded = (torch.arange(T)[None, :] < torch.tensor([[8], [12], [3]])).to(torch.int64)
    full = torch.ones(B, T, dtype=torch.int64)
    worst = 0.0
    for name, mask in (("tiny-debertav3", padded), ("tiny-debertav2", full)):
        cfg = json.load(open(os.path.join(here, name, "config.json")))
        W = read_safetensors(os.path.join(here, name, "model.safetensors"))
        W = {k[len("deberta."):] if k.startswith("deberta.") else k: v for k, v in W.items()}
        n, d, L = cfg["num_attention_heads"], cfg["hidden_size"], cfg["num_hidden_layers"]
        model = ptv2.DebertaV2Model(Config(**cfg)).eval()
        state = {k: v for k, v in W.items() if k in model.state_dict()}
        missing = [k for k in model.state_dict() if k not in state and not k.endswith("position_ids")]
        if missing:
            sys.exit(f"{name}: P-Tuning v2's model has tensors the checkpoint lacks: {missing}")
        model.load_state_dict(state, strict=False)
        g = torch.Generator().manual_seed(5)
        keys = [torch.randn(B, p, d, generator=g) * 1.5 for _ in range(L)]
        values = [torch.randn(B, p, d, generator=g) for _ in range(L)]
        # P-Tuning v2's get_prompt layout: per layer [2, B, n, p, d_head].
        past = tuple(torch.stack([k.view(B, p, n, d // n).permute(0, 2, 1, 3),
                                  v.view(B, p, n, d // n).permute(0, 2, 1, 3)]) for k, v in zip(keys, values))
        attn = torch.cat([torch.ones(B, p, dtype=torch.int64), mask], dim=1)
        with torch.no_grad():
            theirs = model(input_ids=ids, attention_mask=attn, token_type_ids=types_,
                           position_ids=torch.arange(T)[None].expand(B, T), past_key_values=past)[0]
            ours, _ = ref.forward(dict(W), cfg, ids, types_, mask, list(zip(keys, values)))
        real = mask.to(torch.bool)
        plain, _ = ref.forward(dict(W), cfg, ids, types_, mask)
        if (theirs - plain).abs()[real].max().item() < 1e-3:
            sys.exit(f"{name}: the prefixes do not change P-Tuning v2's output: the comparison proves nothing")
        diff = (theirs - ours).abs()[real].max().item()
        print(f"{name}: P-Tuning v2 vs make_golden.py reference, prefixes of {p} in every layer, real tokens: max |diff| {diff:.3g}")
        worst = max(worst, diff)
    if worst > 1e-5:
        sys.exit("MISMATCH")
    print("ok")


if __name__ == "__main__":
    main()
