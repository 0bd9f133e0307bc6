#!/usr/bin/python3
"""Dumps every dataset of an HDF5 file as JSON, an independent reader (h5py) for tests/nir/nir_file_test.cpp.

Usage: h5_dump.py FILE...; output: {"FILE": {"/path/of/dataset": {"shape": [...], "kind": "i" | "f" | "s", "values": [...]}, ...}, ...}; values flattened in
row-major order; numbers as JSON numbers (Python's float repr round-trips a double exactly), non-finite numbers
as the strings "nan", "inf", "-inf"; strings decoded from UTF-8. Several files in one run: h5py's import is most
of the time.
"""
import json
import math
import sys

import h5py
import numpy as np


def number(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def dump(path):
    out = {}

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        data = np.asarray(obj[()])
        kind = obj.dtype.kind
        if kind in "iu":
            entry = {"kind": "i", "values": [int(v) for v in data.reshape(-1)]}
        elif kind == "f":
            entry = {"kind": "f", "values": [number(v) for v in data.reshape(-1)]}
        elif h5py.check_string_dtype(obj.dtype) is not None or kind in "SO":
            values = [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in data.reshape(-1)]
            entry = {"kind": "s", "values": values}
        else:
            raise SystemExit(f"{path}: /{name}: unsupported dtype {obj.dtype}")
        entry["shape"] = list(obj.shape)
        out["/" + name] = entry

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


if __name__ == "__main__":
    json.dump({path: dump(path) for path in sys.argv[1:]}, sys.stdout)
