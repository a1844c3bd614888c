#!/usr/bin/env python3
"""Writes golden.safetensors and golden.json, the fixture of golden_test.go.

An independent writer of the safetensors format, made by hand from the public
format description (README of github.com/huggingface/safetensors, "Format"):

    8 bytes   N, little-endian u64, the header size
    N bytes   UTF-8 JSON object {"__metadata__": {str: str},
              "<name>": {"dtype": ..., "shape": [...], "data_offsets": [b, e]}}
              (may be padded at the end with spaces)
    rest      the byte buffer, little-endian, offsets relative to its start

It uses only struct, json and numpy (the `safetensors` package is not
installed). To exercise the reader it deliberately differs from the Go
writer: the header keys are not sorted, __metadata__ comes last, and the data
is stored in an order unrelated to the names.

golden.json records, for every tensor, its dtype, shape, data_offsets and the
expected float32 values as uint32 bit patterns (exact, NaN and -0 included),
computed with numpy's own float16/float64 -> float32 conversions; bfloat16,
which numpy lacks, is widened by hand (its bits are the top half of a float32).

Run from this directory:  python3 make_fixture.py
"""
import json
import struct

import numpy as np


def f32_bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float32).view(np.uint32)]


def bf16_from_f32(values):
    """Rounds float32 values to bfloat16 bits, round to nearest even."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


tensors = []  # (name, dtype, shape, raw bytes, expected float32 bits or None)

# F32, 2x3, with -0, the smallest float32 subnormal, the largest float32.
f32 = np.array([[1.5, -0.0, 1e-45], [3.4028234663852886e38, -2.25, 0.1]], dtype=np.float32)
tensors.append(("encoder.weight", "F32", [2, 3], f32.astype("<f4").tobytes(), f32_bits(f32.ravel())))

# F16: hand-picked bit patterns: +-0, smallest and largest subnormal, a
# negative subnormal, smallest normal, 1, 1/3 rounded, max, +-Inf, two NaNs.
f16_bits = np.array(
    [0x0000, 0x8000, 0x0001, 0x03FF, 0x8001, 0x0400, 0x3C00, 0x3555, 0x7BFF, 0xC500,
     0x7C00, 0xFC00, 0x7E00, 0xFE01],
    dtype=np.uint16)
f16 = f16_bits.view(np.float16)
tensors.append(("half.weight", "F16", [2, 7], f16_bits.astype("<u2").tobytes(),
                f32_bits(f16.astype(np.float32))))

# BF16: values rounded from float32 plus raw specials (subnormal 2^-133,
# largest finite, +-Inf, NaN, -0).
bf_vals = bf16_from_f32([1.0, -3.140625, 0.1, 1e-3, 65504.0, -1e30])
bf_special = np.array([0x0001, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x8000], dtype=np.uint16)
bf16_bits = np.concatenate([bf_vals, bf_special])
tensors.append(("bfloat.bias", "BF16", [12], bf16_bits.astype("<u2").tobytes(),
                [int(b) << 16 for b in bf16_bits]))

# F64 rounded to float32 by numpy (round to nearest even).
f64 = np.array([0.1, -1e300, 1.0000000596046448, 2.5], dtype=np.float64)
with np.errstate(over="ignore"):  # -1e300 overflows to -Inf, as intended
    f64_as_f32 = f64.astype(np.float32)
tensors.append(("double", "F64", [2, 2], f64.astype("<f8").tobytes(), f32_bits(f64_as_f32)))

# A scalar, an empty tensor (a dimension of 0 is allowed by the format) and
# an integer tensor that Float32 must refuse.
tensors.append(("layer_scale.0", "F32", [], np.array([0.75], dtype="<f4").tobytes(), f32_bits([0.75])))
tensors.append(("empty", "F32", [0, 4], b"", []))
tensors.append(("ids", "I32", [3], np.array([1, -2, 3], dtype="<i4").tobytes(), None))

metadata = {"format": "apt-adapter/1", "note": "hand-written \u00e9 \"quoted\"", "labels": "[\"a\", \"b\"]"}

# Data order: not the name order.
data_order = ["bfloat.bias", "ids", "encoder.weight", "layer_scale.0", "empty", "double", "half.weight"]
by_name = {t[0]: t for t in tensors}
buffer = b""
header = {}
for name in data_order:
    _, dtype, shape, raw, _ = by_name[name]
    header[name] = {"shape": shape, "dtype": dtype, "data_offsets": [len(buffer), len(buffer) + len(raw)]}
    buffer += raw
# Header key order: reversed names, __metadata__ last.
ordered = {k: header[k] for k in sorted(header, reverse=True)}
ordered["__metadata__"] = metadata
hjson = json.dumps(ordered, ensure_ascii=False).encode("utf-8")
hjson += b" " * ((8 - len(hjson) % 8) % 8)

with open("golden.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(hjson)))
    f.write(hjson)
    f.write(buffer)

expected = {
    "metadata": metadata,
    "tensors": {
        name: {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": header[name]["data_offsets"],
            "f32_bits": bits,
        }
        for name, dtype, shape, _, bits in tensors
    },
}
with open("golden.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
