#!/usr/bin/env python3
"""Golden values for BERT with P-Tuning v2's deep prefixes and shifted positions.

P-Tuning v2 hands its prefixes to HF BertModel as past_key_values. BertModel then
takes past_key_values_length = past_key_values[0][0].shape[2], layer 0's prefix
length p_0, and BertEmbeddings uses position_ids[p_0 : p_0 + T]: the real tokens
get positions p_0..p_0+T-1 (position_offset=prefix in the workbench). Each layer's
BertSelfAttention puts its own past key/value in front of the projected ones per
head, and the attention mask is cat(1_p, mask).

This script reads the tiny-bert-prefixed checkpoint (F32, written by
make_golden.py), draws fixed key/value prefixes of unequal per-layer lengths
(3, 5), and writes golden_offset.json with the outputs without shift
("offset0") and with the shift by p_0 ("offset_prefix"), on golden.json's batch.
It leaves golden.json alone; as a check of the reference it recomputes that
file's tiny-bert-prefixed outputs (no prefix, no shift) and stops if they moved.

Run from this directory:  /usr/bin/python3 make_golden_offset.py
"""
import json
import os
import struct

import numpy as np
import torch

from make_golden import bert_forward

PREFIX_LENGTHS = [3, 5]
CHECKPOINT = "tiny-bert-prefixed"


def read_safetensors_f32(path):
    """The tensors of an F32 safetensors file, after the format description."""
    with open(path, "rb") as fp:
        n = struct.unpack("<Q", fp.read(8))[0]
        header = json.loads(fp.read(n))
        data = fp.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).reshape(info["shape"])
    return out


def r8(t):
    return np.round(t.numpy().astype(np.float64), 8).tolist()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "golden.json")) as fp:
        base = json.load(fp)
    with open(os.path.join(here, CHECKPOINT, "config.json")) as fp:
        cfg = json.load(fp)
    W = read_safetensors_f32(os.path.join(here, CHECKPOINT, "model.safetensors"))
    ids = torch.tensor(base["input_ids"])
    types = torch.tensor(base["token_type_ids"])
    mask = torch.tensor(base["attention_mask"])
    assert len(PREFIX_LENGTHS) == cfg["num_hidden_layers"]
    assert ids.shape[1] + PREFIX_LENGTHS[0] <= cfg["max_position_embeddings"]

    with torch.no_grad():
        seq, _ = bert_forward(W, cfg, ids, types, mask)
    moved = np.abs(seq.numpy() - np.array(base["variants"][CHECKPOINT]["sequence_output"])).max()
    assert moved < 1e-5, f"the reference no longer reproduces golden.json ({moved})"

    g = torch.Generator().manual_seed(4321)
    d = cfg["hidden_size"]
    # Prefix values of the size of the projected keys/values (std 0.5), so that
    # the slots take a visible share of the attention.
    keys = [torch.randn(p, d, generator=g) * 0.5 for p in PREFIX_LENGTHS]
    values = [torch.randn(p, d, generator=g) * 0.5 for p in PREFIX_LENGTHS]
    prefixes = list(zip(keys, values))
    golden = {"checkpoint": CHECKPOINT,
              "prefix": {"lengths": PREFIX_LENGTHS, "key": [k.tolist() for k in keys],
                         "value": [v.tolist() for v in values], "variants": {}}}
    for name, offset in (("offset0", 0), ("offset_prefix", PREFIX_LENGTHS[0])):
        with torch.no_grad():
            seq, pooled = bert_forward(W, cfg, ids, types, mask, prefixes, offset)
        golden["prefix"]["variants"][name] = {"position_offset": offset,
                                              "sequence_output": r8(seq), "pooled_output": r8(pooled)}
    with open(os.path.join(here, "golden_offset.json"), "w") as fp:
        json.dump(golden, fp)
    print("wrote golden_offset.json (reference check: %.2g from golden.json)" % moved)


if __name__ == "__main__":
    main()
