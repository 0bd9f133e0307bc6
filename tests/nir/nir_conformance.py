#!/usr/bin/env python3
"""Checks a NIR file against the rules the reference NIR library (github.com/neuromorphs/NIR, v1.x) applies when it
reads one (`nir.read`): the datasets its reader requires per node type, the shape assertions of its node classes, and
the type check along every edge (a node's output type equals the next node's input type wherever both are defined).
An independent reader for neuroemu's tests: the reference library itself is not packaged for Debian, and neuroemu's
tests must not need PyPI. Calibrated on the files in tests/data/nir (README.md there says which the reference
library reads and which it rejects).

Usage: nir_conformance.py FILE...   exit 0 when every file conforms, 1 with one line per violation otherwise.
"""
import sys

import h5py
import numpy as np

REQUIRED = {
    "Input": ["shape"], "Output": ["shape"],
    "Affine": ["weight", "bias"], "Linear": ["weight"], "Scale": ["scale"],
    "Conv1d": ["weight", "stride", "padding", "dilation", "groups", "bias"],
    "Conv2d": ["weight", "stride", "padding", "dilation", "groups", "bias"],
    "SumPool2d": ["kernel_size", "stride", "padding"], "AvgPool2d": ["kernel_size", "stride", "padding"],
    "Flatten": ["start_dim", "end_dim"], "Delay": ["delay"], "Threshold": ["threshold"],
    "I": ["r"], "IF": ["r", "v_threshold"], "LI": ["tau", "r", "v_leak"],
    "LIF": ["tau", "r", "v_leak", "v_threshold"],
    "CubaLI": ["tau_mem", "tau_syn", "r", "v_leak", "w_in"],
    "CubaLIF": ["tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "w_in"],
    "NIRGraph": ["nodes", "edges"],
}
# Parameters that must share the neuron's shape (the node classes' assertions).
SAME_SHAPE = {
    "IF": ["r", "v_threshold", "v_reset"], "LIF": ["tau", "r", "v_leak", "v_threshold", "v_reset"],
    "LI": ["tau", "r", "v_leak"], "CubaLI": ["tau_mem", "tau_syn", "r", "v_leak"],
    "CubaLIF": ["tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset"], "I": ["r"],
}


def text(v):
    v = v[()] if isinstance(v, h5py.Dataset) else v
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def pair(v):
    a = np.atleast_1d(np.asarray(v))
    return [int(a[0]), int(a[0])] if a.size == 1 else [int(x) for x in a]


def conv_out(size, pad, dil, k, stride):
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def types(kind, g, errors, where):
    """(input type, output type) of a node, None where the reference leaves it undefined."""
    p = {k: g[k][()] for k in g.keys() if k not in ("type", "metadata", "nodes")}
    if kind in SAME_SHAPE:
        shapes = {k: np.shape(p[k]) for k in SAME_SHAPE[kind] if k in p}
        if len(set(shapes.values())) > 1:
            errors.append(f"{where}: parameters of different shapes {shapes}")
        shape = next(iter(shapes.values()), None)
        return (list(shape), list(shape)) if shape is not None else (None, None)
    if kind == "Threshold":
        return list(np.shape(p["threshold"])), list(np.shape(p["threshold"]))
    if kind == "Scale":
        return list(np.shape(p["scale"])), list(np.shape(p["scale"]))
    if kind in ("Affine", "Linear"):
        w = np.shape(p["weight"])
        if len(w) < 2:
            errors.append(f"{where}: weight must be at least 2-D, is {list(w)}")
            return None, None
        return list(w[:-2]) + [w[-1]], list(w[:-2]) + [w[-2]]
    if kind == "Input":
        s = [int(x) for x in np.atleast_1d(p["shape"])]
        return s, s
    if kind == "Output":
        s = [int(x) for x in np.atleast_1d(p["shape"])]
        return s, s
    if kind in ("Conv1d", "Conv2d"):
        pad = p["padding"]
        if isinstance(pad, bytes) and pad.decode() not in ("same", "valid"):
            errors.append(f"{where}: padding must be 'same', 'valid' or integers")
        if "input_shape" not in p:
            return None, None
        w = np.shape(p["weight"])
        spatial = [int(x) for x in np.atleast_1d(p["input_shape"])]
        if isinstance(pad, bytes):
            out = spatial if pad.decode() == "same" else [conv_out(s, 0, d, k, st) for s, d, k, st in
                                                          zip(spatial, pair(p["dilation"]), w[2:], pair(p["stride"]))]
        else:
            out = [conv_out(s, pd, d, k, st) for s, pd, d, k, st in
                   zip(spatial, pair(pad), pair(p["dilation"]), w[2:], pair(p["stride"]))]
        return [w[1]] + spatial, [w[0]] + out
    if kind == "Flatten":
        if "input_type" not in p:
            return None, None
        shape = [int(x) for x in np.atleast_1d(p["input_type"])]
        start, end = int(p["start_dim"]), int(p["end_dim"])
        head = shape[:start] if start != 0 else []
        middle = int(np.prod(shape[start:end + 1] if end != -1 else shape[start:]))
        tail = shape[end + 1:] if end not in (-1, len(shape) - 1) else []
        return shape, head + [middle] + tail
    return None, None  # pooling, Delay, nested graphs: undefined


def check_graph(g, where, errors):
    for key in ("nodes", "edges"):
        if key not in g:
            errors.append(f"{where}: a NIRGraph needs '{key}'")
            return
    nodes, io = {}, {}
    for name, child in g["nodes"].items():
        cw = f"{where}/nodes/{name}"
        if not isinstance(child, h5py.Group) or "type" not in child:
            errors.append(f"{cw}: not a node group with a 'type'")
            continue
        kind = text(child["type"])
        if kind not in REQUIRED:
            errors.append(f"{cw}: unknown node type '{kind}'")
            continue
        missing = [k for k in REQUIRED[kind] if k not in child]
        if missing:
            errors.append(f"{cw} ({kind}): missing {missing}")
            continue
        nodes[name] = kind
        if kind == "NIRGraph":
            check_graph(child, cw, errors)
            io[name] = (None, None)
        else:
            io[name] = types(kind, child, errors, cw)
    edges = g["edges"][()]
    if edges.size == 0:
        return
    if edges.ndim != 2 or edges.shape[1] != 2:
        errors.append(f"{where}/edges: expected N x 2 names, got shape {list(edges.shape)}")
        return
    for a, b in edges:
        a, b = text(a), text(b)
        for n in (a, b):
            if n not in nodes:
                errors.append(f"{where}/edges: '{a}' -> '{b}': no node '{n}'")
        if a not in nodes or b not in nodes:
            continue
        out, inp = io[a][1], io[b][0]
        if out is not None and inp is not None and list(out) != list(inp):
            errors.append(f"{where}/edges: type mismatch: {a}.output {list(out)} -> {b}.input {list(inp)}")


def check(path):
    errors = []
    try:
        with h5py.File(path, "r") as f:
            if "version" not in f:
                errors.append("no /version")
            if "node" not in f or "type" not in f["node"] or text(f["node"]["type"]) != "NIRGraph":
                errors.append("/node is not a NIRGraph")
            else:
                check_graph(f["node"], "/node", errors)
    except OSError as e:
        errors.append(f"not readable as HDF5: {e}")
    return errors


def main():
    bad = 0
    for path in sys.argv[1:]:
        for e in check(path):
            print(f"{path}: {e}")
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
