#!/usr/bin/env python3
"""Independent reader used by golden_test.go to check files the Go writer made.

Follows the public format description (README of
github.com/huggingface/safetensors): u64 little-endian header size N, N bytes
of UTF-8 JSON, then the byte buffer. Uses only struct, json and numpy. Prints
one JSON object: the header size, the metadata, and for every tensor its
dtype, shape, data_offsets and values as float32 bit patterns.

Usage: python3 read_check.py FILE
"""
import json
import struct
import sys

import numpy as np

path = sys.argv[1]
with open(path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n].decode("utf-8"))
buf = raw[8 + n:]
out = {"header_size": n, "metadata": header.pop("__metadata__", None), "tensors": {}}
covered = 0
for name, info in header.items():
    begin, end = info["data_offsets"]
    assert info["dtype"] == "F32", info
    values = np.frombuffer(buf[begin:end], dtype="<f4")
    assert values.size == int(np.prod(info["shape"], dtype=np.int64)), (name, info)
    covered += end - begin
    out["tensors"][name] = {
        "dtype": info["dtype"],
        "shape": info["shape"],
        "data_offsets": [begin, end],
        "f32_bits": [int(x) for x in values.view(np.uint32)],
    }
assert covered == len(buf), (covered, len(buf))
json.dump(out, sys.stdout)
