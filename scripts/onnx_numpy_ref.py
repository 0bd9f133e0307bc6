#!/usr/bin/python3
"""Tiny numpy-only ONNX interpreter used to cross-check the exported models.

onnxruntime is not installed here, so this runs the ops our exports use
(Conv, BatchNormalization [inference], Relu, Add, MaxPool, GlobalAveragePool,
Flatten, Gemm, Identity) on the first --images Fashion-MNIST test images and
compares the result with the PyTorch logits file written by train_fmnist.py.

Example (from the repo root):
  /usr/bin/python3 scripts/onnx_numpy_ref.py models/resnet20_fmnist.onnx \
      models/resnet20_fmnist_bn.onnx --logits models/resnet20_fmnist.logits500.txt
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fmnist import load_fmnist, DEFAULT_DATA_DIR  # noqa: E402


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _pad_hw(x, pads, value=0.0):
    # ONNX pads: [h_begin, w_begin, h_end, w_end]
    return np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])),
                  constant_values=value)


def _windows(x, kh, kw, sh, sw, dh=1, dw=1):
    n, c, h, w = x.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, kh, kw),
        (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw), writeable=False)


def conv(x, w, b, a):
    assert a.get("group", 1) == 1, "grouped conv not supported"
    kh, kw = w.shape[2:]
    st = a.get("strides", [1, 1])
    dil = a.get("dilations", [1, 1])
    assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
    x = _pad_hw(x, a.get("pads", [0, 0, 0, 0]))
    win = _windows(x.astype(np.float64), kh, kw, st[0], st[1], dil[0], dil[1])
    y = np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64), optimize=True)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def maxpool(x, a):
    kh, kw = a["kernel_shape"]
    st = a.get("strides", [1, 1])
    assert a.get("ceil_mode", 0) == 0
    x = _pad_hw(x, a.get("pads", [0, 0, 0, 0]), value=-np.inf)
    return _windows(x, kh, kw, st[0], st[1]).max(axis=(4, 5))


def run(model, x):
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float64)
    for node in model.graph.node:
        a = _attrs(node)
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Conv":
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif op == "BatchNormalization":
            assert a.get("training_mode", 0) == 0 and len(node.output) == 1
            sc, bi, mu, var = (v.reshape(1, -1, 1, 1) for v in i[1:5])
            y = (i[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * sc + bi
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Identity":
            y = i[0]
        elif op == "MaxPool":
            y = maxpool(i[0], a)
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y
    return env[model.graph.output[0].name]


def read_logits(path):
    with open(path) as f:
        n, k = map(int, f.readline().split())
        v = np.loadtxt(f, dtype=np.float64).reshape(n, k)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", nargs="+")
    ap.add_argument("--logits", required=True, help="<arch>_fmnist.logits500.txt")
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    args = ap.parse_args()
    ref = read_logits(args.logits)
    n = min(args.images, ref.shape[0])
    x, y = load_fmnist("test", args.data_dir)
    x, y, ref = x[:n], y[:n], ref[:n]
    ok = True
    for path in args.onnx:
        m = onnx.load(path)
        out = np.concatenate([run(m, x[i:i + args.batch]) for i in range(0, n, args.batch)])
        diff = np.abs(out - ref).max()
        agree = float((out.argmax(1) == ref.argmax(1)).mean())
        acc = float((out.argmax(1) == y).mean())
        print("%s: images %d max|onnx-torch| %.3g argmax_agree %.4f top1 %.4f"
              % (path, n, diff, agree, acc))
        ok &= diff < 1e-3 and agree == 1.0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
