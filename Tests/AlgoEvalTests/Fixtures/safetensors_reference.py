#!/usr/bin/env python3
"""Independent reference for the safetensors layout, numpy only (no `safetensors` package).

Writes `reference.safetensors` next to this script: a few tensors (a 2×3 f32 matrix, an f64
vector, a rank-0 f32 scalar, a 2×2×2 f64 tensor, an empty 0×3 f32 matrix) and metadata, laid out
as the reference implementation (huggingface/safetensors, Rust `serialize`) lays them out:

* 8-byte little-endian header length N, then N bytes of compact JSON (separators "," and ":",
  non-ASCII as raw UTF-8), padded with spaces to a multiple of 8, then the data;
* `__metadata__` first; the reference writes its keys in hash-map order, which varies from run to
  run, so this script sorts them (one of the orders the reference can produce), as `algo` does;
* tensors ordered by dtype alignment (descending: U64, I64, F64, F32, …) and then by name;
* each tensor's elements in C (row-major) order, little-endian.

The Swift test `SafetensorsTests` reads the fixture, checks the values, writes the same contents
itself and compares the bytes.

Regenerate (from the repository root):

    python3 Tests/AlgoEvalTests/Fixtures/safetensors_reference.py

If the real `safetensors` package is installed, `--check` also loads the fixture with it and
compares (optional; the committed tests never need it).
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPE_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
               "I32", "U32", "F32", "F64", "I64", "U64"]
NUMPY_DTYPE = {"F32": "<f4", "F64": "<f8"}


def tensors():
    return {
        "matrix": ("F32", np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype="<f4")),
        "vector": ("F64", np.array([0.1, -2.5, 1e300, -0.0], dtype="<f8")),
        "scalar": ("F32", np.array(3.25, dtype="<f4")),
        "cube": ("F64", np.arange(8, dtype="<f8").reshape(2, 2, 2) / 8.0),
        "empty": ("F32", np.zeros((0, 3), dtype="<f4")),
    }


def metadata():
    return {"algo.source_sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "algo.hyperparameter.d_e": "16", "note": "ünïcode \"quoted\"\n"}


def serialize(named, meta):
    order = sorted(named, key=lambda n: (-DTYPE_ORDER.index(named[n][0]), n.encode("utf-8")))
    header = {}
    if meta:
        header["__metadata__"] = {k: meta[k] for k in sorted(meta, key=lambda k: k.encode("utf-8"))}
    data = b""
    for name in order:
        dtype, array = named[name]
        raw = np.ascontiguousarray(array, dtype=NUMPY_DTYPE[dtype]).tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main():
    path = os.path.join(HERE, "reference.safetensors")
    blob = serialize(tensors(), metadata())
    with open(path, "wb") as f:
        f.write(blob)
    print(f"wrote {path} ({len(blob)} bytes)")
    if "--check" in sys.argv:
        from safetensors.numpy import load, save
        loaded = load(blob)
        for name, (_, array) in tensors().items():
            assert loaded[name].shape == array.shape and np.array_equal(loaded[name], array), name
        one_key = {"note": metadata()["note"]}  # with one key the reference's order is fixed
        assert save({n: a for n, (_, a) in tensors().items()}, metadata=one_key) == serialize(tensors(), one_key)
        print("the safetensors package reads the fixture and writes identical bytes")


if __name__ == "__main__":
    main()
