#!/usr/bin/python3
"""Dense time-stepped IF simulation of a neuroemu `.snn` model in PyTorch (the SpikingJelly way).

Every population is computed densely, every step, for a whole batch of images: the reference that
bench/snn_vs_torch.sh (ResNet-20, Fashion-MNIST) and bench/snn_vs_torch_224.sh (torchvision ResNet-18/34/50 at
224 x 224, PNG images) compare neuroemu's event-driven spiking engine against. The semantics follow
sim/snn_engine.cpp and docs/snn-format.md so that decisions match neuroemu's (up to float32 rounding):

  * populations in file order; population 0 is the input. Only the `current` encoding: the analog pixels
    reach the populations fed by population 0 as a constant current, computed once per image (with the
    bias) and added every step.
  * IF population: V starts at v_init * threshold; each step V += bias + input current, then V += every
    incoming projection applied to its source's spikes of this same step (sources come earlier and are
    already updated: zero delay); then, if spiking, spike = V >= threshold and V -= spike * threshold
    (reset "subtract") or V = 0 where it fired (reset "zero"). As in SpikingJelly, the bias rides on the
    population's first conv/linear projection (F.conv2d's bias) when it has one and no input projection.
  * max_gate population (conversion.max_pool: gate): passes the spikes of the window's neuron with the
    highest spike count so far (this step included), ties to the first in raster order; the window is
    clipped to the map (padding never wins).
  * current population (conversion.max_pool: current): never fires; each step its V is that step's input
    current (bias, constant input, synapses), read by max_pool projections: the target neuron integrates
    w[c] x the largest V in its window (clipped to the map, as F.max_pool2d's -inf padding).
  * projections: conv (any stride, padding, 1x1 projections), identity, avg_pool (global average pooling
    is a whole-map window), linear (the readout, reading [C][H][W] flattened), max_pool.
  * decision after every step: argmax of the readout's V (non-spiking readout), or of its spike count with
    ties broken by the higher V; neurons are ranked in neuroemu's [H][W][C] order.

Prints one JSON line: images, steps, batch, threads, top1 (at T), accuracy_curve (per step), seconds
(simulation only: file loading and a short untimed warm-up excluded), image_steps_per_s,
dense_macs_per_image_step (the synaptic work a dense step does, input projections excluded), macs_per_s.
With --agree-dir DIR also writes DIR/t10k-{images-idx3,labels-idx1}-ubyte.gz: the first N test images,
labelled with this simulation's decisions at T; neuroemu evaluated on that folder (dataset.path=DIR)
reports as its accuracy the fraction of images on which both simulators decide the same. With --image-dir
ROOT (an image folder, read as neuroemu's image_folder reader with dataset.resize: 0) --labels-out FILE does the
same for neuroemu's ilsvrc_val reader on the class folder (dataset.labels_file=FILE). --spike-totals adds each
population's spike count over the run (neuroemu's snn.populations[].spikes) for checking the semantics.

Example (from the repo root):
  build/cli/neuroemu convert configs/default.yaml -o /tmp/x.snn
  /usr/bin/python3 bench/torch_snn.py /tmp/x.snn --steps 64 --images 200 --threads 2
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

MAGIC = b"NEUROEMU-SNN\n"
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"


# ---------------------------------------------------------------------------------------------- loading

def load_snn(path):
    """Returns (header dict, weight blob as a float32 numpy array); checks what docs/snn-format.md asks."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:len(MAGIC)] != MAGIC:
        raise ValueError(f"{path}: not a .snn file (bad magic)")
    (hlen,) = struct.unpack_from("<Q", data, len(MAGIC))
    start = len(MAGIC) + 8
    if start + hlen > len(data):
        raise ValueError(f"{path}: header length {hlen} runs past the end of the file")
    header = json.loads(data[start:start + hlen].decode("utf-8"))
    if header.get("format") != "neuroemu-snn" or header.get("version") != 1:
        raise ValueError(f"{path}: format {header.get('format')!r} version {header.get('version')!r}, "
                         "expected neuroemu-snn version 1")
    blob = np.frombuffer(data, dtype="<f4", offset=start + hlen)
    if blob.size != header["blob_floats"] or (len(data) - start - hlen) % 4:
        raise ValueError(f"{path}: weight area holds {(len(data) - start - hlen) / 4} floats, "
                         f"header says {header['blob_floats']}")
    return header, blob


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack_from(">HBB", data, 0)
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack_from(">" + "I" * ndim, data, 4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_idx(path, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, array.ndim))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.tobytes())


def load_images(data_dir, n, mean, std):
    """The first n test images as neuroemu feeds them: pixel/255 (in double), (x - mean) / std, float32."""
    px = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))[:n]
    labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"))[:n].astype(np.int64)
    x = px.astype(np.float64) / 255.0
    if x.ndim == 3:
        x = x[:, None]  # [N, 1, H, W]
    return px, normalise(x, mean, std), labels


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def image_folder_files(root):
    """torchvision's ImageFolder order, as neuroemu's image_folder reader: class folders in byte order (label =
    index), a class's .jpg/.jpeg/.png files in byte order. ROOT/val when ROOT/train and ROOT/val exist."""
    if os.path.isdir(os.path.join(root, "train")) and os.path.isdir(os.path.join(root, "val")):
        root = os.path.join(root, "val")
    byte_order = lambda names: sorted(names, key=os.fsencode)
    classes = byte_order(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    files = []
    for label, cls in enumerate(classes):
        names = byte_order(f for f in os.listdir(os.path.join(root, cls)) if f.lower().endswith(IMAGE_SUFFIXES))
        if not names:
            raise ValueError(f"{os.path.join(root, cls)}: a class folder without images")
        files += [(os.path.join(root, cls, f), label) for f in names]
    if not files:
        raise ValueError(f"{root}: no class folders with images")
    return files


def load_image_folder(root, n, crop, mean, std):
    """The first n images of an image folder as neuroemu feeds them with dataset.resize: 0 and dataset.crop:
    CROP: PIL's convert("RGB"), torchvision's CenterCrop (top = round((h - C) / 2), half to even), then
    pixel/255 (in double), (x - mean) / std, float32. Returns (file paths, x [N, 3, C, C], labels)."""
    from PIL import Image
    files = image_folder_files(root)[:n]
    px = []
    for path, _ in files:
        with Image.open(path) as im:
            a = np.asarray(im.convert("RGB"))
        h, w = a.shape[:2]
        if crop > h or crop > w:
            raise ValueError(f"{path}: {w} x {h} is smaller than the crop {crop} (no resize here)")
        top, left = int(round((h - crop) / 2.0)), int(round((w - crop) / 2.0))
        px.append(a[top:top + crop, left:left + crop].transpose(2, 0, 1))
    x = normalise(np.stack(px).astype(np.float64) / 255.0, mean, std)
    return [p for p, _ in files], x, np.array([l for _, l in files], dtype=np.int64)


def normalise(x, mean, std):
    """x [N, C, H, W] in [0, 1] (double) -> (x - mean) * (1 / std) as float32, neuroemu's image_to_input."""
    c = x.shape[1]

    def pick(v, fallback):
        if not v:
            return np.full(c, fallback)
        return np.array(v if len(v) == c else v * c, dtype=np.float64)

    x = (x - pick(mean, 0.0)[None, :, None, None]) * (1.0 / pick(std, 1.0))[None, :, None, None]
    return np.ascontiguousarray(x.astype(np.float32))


# ------------------------------------------------------------------------------------------- the model

def per_channel(values, channels, fallback):
    if not values:
        return [fallback] * channels
    if len(values) == 1:
        return list(values) * channels
    return list(values)


def pad_to_windows(x, kernel, stride, top, left, out_hw, value=0.0):
    """x [..., H, W] padded with `value` (top, left, and bottom/right as far as the windows reach) and cut to
    exactly the out_hw windows, so that an unpadded pooling gives them all (ceil_mode's overhang included)."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    ih, iw = x.shape[-2:]
    need_h, need_w = (oh - 1) * sh + kh, (ow - 1) * sw + kw
    x = F.pad(x, (left, max(0, need_w - iw - left), top, max(0, need_h - ih - top)), value=value)
    return x[..., :need_h, :need_w]


def channel_view(t, shape):
    """A per-channel vector shaped to broadcast over [B, *shape]."""
    return t.view(-1, 1, 1) if len(shape) == 3 else t.view(-1)


class Projection:
    def __init__(self, spec, pops, blob, dtype):
        self.kind = spec["kind"]
        self.source, self.target = spec["source"], spec["target"]
        self.src_shape = pops[self.source]["shape"]
        self.dst_shape = pops[self.target]["shape"]
        shape, off = spec["weight"]["shape"], spec["weight"]["offset"]
        w = blob[off:off + int(np.prod(shape))].reshape(shape)
        self.w = torch.from_numpy(w.copy()).to(dtype)
        self.pad = None
        if self.kind in ("conv", "avg_pool"):
            win = spec["window"]
            self.kernel, self.stride = tuple(win["kernel"]), tuple(win["stride"])
            top, left, bottom, right = win["pads"]
            self.ceil_mode = win["ceil_mode"]
            self.pads = (top, left, bottom, right)
        if self.kind == "conv":
            self.out_hw = tuple(self.dst_shape[1:])
            if top == bottom and left == right:
                self.padding = (top, left)
            else:  # asymmetric: pad explicitly (F.pad takes left, right, top, bottom)
                self.pad, self.padding = (left, right, top, bottom), (0, 0)
        elif self.kind == "avg_pool":
            self.count_include_pad = spec["count_include_pad"]
            self.wc = channel_view(self.w, self.dst_shape)
            self._init_avg_pool(dtype)
        elif self.kind == "identity":
            self.wc = channel_view(self.w, self.dst_shape)
        elif self.kind == "max_pool":
            win = spec["window"]
            self.kernel, self.stride = tuple(win["kernel"]), tuple(win["stride"])
            self.pads, self.ceil_mode = tuple(win["pads"]), win["ceil_mode"]
            self.wc = channel_view(self.w, self.dst_shape)
            top, left, bottom, right = self.pads
            (kh, kw) = self.kernel
            # F.max_pool2d pads with -inf (padding never wins, as neuroemu's clipped windows); it takes symmetric
            # padding up to half the kernel, anything else is padded explicitly.
            self.direct = top == bottom and left == right and top <= kh // 2 and left <= kw // 2
        elif self.kind != "linear":
            raise NotImplementedError(f"projection kind {self.kind!r}")

    def _init_avg_pool(self, dtype):
        """Uses F.avg_pool2d when PyTorch takes the window as is; checks its divisor against the format's."""
        (kh, kw), (sh, sw) = self.kernel, self.stride
        top, left, bottom, right = self.pads
        _, ih, iw = self.src_shape
        oh, ow = self.dst_shape[1:]
        # The divisor docs/snn-format.md (and neuroemu) use: PyTorch's, window clipped to input + pads for
        # count_include_pad, to the input otherwise.
        inv = torch.empty(oh, ow, dtype=torch.float64)
        for oy in range(oh):
            for ox in range(ow):
                y0, x0 = oy * sh - top, ox * sw - left
                y1, x1 = min(y0 + kh, ih + bottom), min(x0 + kw, iw + right)
                padded = (y1 - y0) * (x1 - x0)
                y0, x0, y1, x1 = max(y0, 0), max(x0, 0), min(y1, ih), min(x1, iw)
                inv[oy, ox] = 1.0 / (padded if self.count_include_pad else (y1 - y0) * (x1 - x0))
        self.direct = top == bottom and left == right and top <= kh // 2 and left <= kw // 2
        if self.direct:
            ones = torch.ones(1, 1, ih, iw, dtype=torch.float64)
            got = F.avg_pool2d(ones, self.kernel, self.stride, (top, left), self.ceil_mode, self.count_include_pad)
            want = self._sum_pool(ones) * inv
            if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-12, atol=0):
                raise AssertionError("F.avg_pool2d's divisor differs from docs/snn-format.md's")
        self.inv_area = inv.to(dtype)

    def _sum_pool(self, x):
        """Window sums over zero padding, exactly [oh, ow] windows (covers ceil_mode's overhang)."""
        x = pad_to_windows(x, self.kernel, self.stride, self.pads[0], self.pads[1], self.dst_shape[1:])
        return F.avg_pool2d(x, self.kernel, self.stride, divisor_override=1)

    def _max_pool(self, x):
        """Largest value per window over the clipped window (the engine's max_pool_currents)."""
        if self.direct:
            out = F.max_pool2d(x, self.kernel, self.stride, (self.pads[0], self.pads[1]), ceil_mode=self.ceil_mode)
        else:
            x = pad_to_windows(x, self.kernel, self.stride, self.pads[0], self.pads[1], self.dst_shape[1:], -math.inf)
            out = F.max_pool2d(x, self.kernel, self.stride)
        if tuple(out.shape[-2:]) != tuple(self.dst_shape[1:]):
            raise ValueError(f"max_pool gives {tuple(out.shape[1:])}, target is {self.dst_shape}")
        return out

    def __call__(self, s, bias=None):
        """The current this projection sends for source spikes (or values) s; `bias` (conv, linear) is added.
        A max_pool projection reads its (current) source's potentials, not spikes."""
        if self.kind == "conv":
            if self.pad is not None:
                s = F.pad(s, self.pad)
            out = F.conv2d(s, self.w, bias, self.stride, self.padding)
            if out.shape[-2:] != self.out_hw:
                raise ValueError(f"conv gives {tuple(out.shape[1:])}, target is {self.dst_shape}")
            return out
        if self.kind == "identity":
            return s * self.wc
        if self.kind == "avg_pool":
            if self.direct:
                out = F.avg_pool2d(s, self.kernel, self.stride, (self.pads[0], self.pads[1]), self.ceil_mode,
                                   self.count_include_pad)
            else:
                out = self._sum_pool(s) * self.inv_area
            return out * self.wc
        if self.kind == "max_pool":
            return self._max_pool(s) * self.wc
        out = F.linear(s.reshape(s.shape[0], -1), self.w, bias)  # linear: [C][H][W] flattening
        return out.view(s.shape[0], *self.dst_shape)

    def accumulate(self, v, s, bias=None):
        """v += this projection's current for spikes s (plus bias); one fused op for identity."""
        if self.kind == "identity" and bias is None:
            v.addcmul_(s, self.wc)
        else:
            v.add_(self(s, bias))

    def dense_macs(self):
        """Multiply-accumulates one dense step of this projection costs for one image."""
        dst = int(np.prod(self.dst_shape))
        if self.kind == "conv":
            return dst * int(np.prod(self.w.shape[1:]))
        if self.kind in ("avg_pool", "max_pool"):  # max_pool: comparisons, counted like avg_pool's adds
            return dst * self.kernel[0] * self.kernel[1]
        if self.kind == "identity":
            return dst
        return int(np.prod(self.w.shape))


class DenseSnn:
    def __init__(self, header, blob, dtype, channels_last=False):
        self.header = header
        # channels_last: [B, C, H, W] state stored NHWC, the layout oneDNN's convolutions prefer (no reorders).
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.spike_totals = None  # a list per population when counting (a check, not the benchmark)
        self.pops = header["populations"]
        self.output = header["output"]
        self.reset = header["reset"]
        if self.reset not in ("subtract", "zero"):
            raise NotImplementedError(f"reset {self.reset!r}")
        self.v_init = header["v_init"]
        self.dtype = dtype
        if self.pops[0]["kind"] != "input":
            raise ValueError("population 0 must be the input")
        self.proj = [Projection(p, self.pops, blob, dtype) for p in header["projections"]]
        for p in self.proj:
            if p.kind == "conv":
                p.w = self._layout(p.w)
        self.inputs = [[] for _ in self.pops]
        for p in self.proj:
            self.inputs[p.target].append(p)
            if (p.kind == "max_pool") != (self.pops[p.source]["kind"] == "current"):
                raise ValueError(f"projection {p.source}->{p.target}: {p.kind} from a {self.pops[p.source]['kind']} "
                                 "population (only max_pool reads current populations)")
        self.threshold, self.bias = [None] * len(self.pops), [None] * len(self.pops)
        # Per IF population: the bias rides on its first conv/linear projection (as a layer bias does in
        # SpikingJelly), else it is added as a constant every step; input projections make a constant tensor.
        self.bias_on, self.has_input = [None] * len(self.pops), [False] * len(self.pops)
        self.gate = [None] * len(self.pops)
        need_count = set()
        # A `current` population (conversion.max_pool: current) never fires: each step its potential is that
        # step's input current (bias and synapses), which max_pool projections read. Static when only the
        # constant-current input feeds it: computed once per image.
        self.current = [p["kind"] == "current" for p in self.pops]
        self.static = [False] * len(self.pops)
        for i, p in enumerate(self.pops):
            if i == 0:
                continue
            shape, c = p["shape"], p["shape"][0]
            if p["kind"] in ("if", "current"):
                self.threshold[i] = channel_view(torch.tensor(per_channel(p["threshold"], c, 1.0), dtype=dtype), shape)
                if p["bias"]:
                    bias = torch.tensor(per_channel(p["bias"], c, 0.0), dtype=dtype)
                    self.bias[i] = channel_view(bias, shape)
                self.has_input[i] = any(q.source == 0 for q in self.inputs[i])
                if self.bias[i] is not None and not self.has_input[i]:
                    for q in self.inputs[i]:
                        if q.kind == "conv" or (q.kind == "linear" and len(shape) == 1):
                            self.bias_on[i] = (q, bias)
                            break
            elif p["kind"] == "max_gate":
                win = p["window"]
                self.gate[i] = (p["gate_source"], tuple(win["kernel"]), tuple(win["stride"]), tuple(win["pads"]))
                need_count.add(p["gate_source"])
            else:
                raise NotImplementedError(f"population {i}: kind {p['kind']!r}")
            if self.current[i]:
                if p["spiking"] or i == self.output:
                    raise ValueError(f"population {i}: a current population that fires or is the readout")
                self.static[i] = all(q.source == 0 for q in self.inputs[i])
        out = self.pops[self.output]
        if out["kind"] == "if" and out["spiking"]:
            need_count.add(self.output)
        if 0 in need_count:
            raise NotImplementedError("a max_gate on the input population (only the current encoding is supported)")
        self.need_count = need_count
        self.macs_per_step = sum(p.dense_macs() for p in self.proj if p.source != 0)

    def _layout(self, t):
        return t.contiguous(memory_format=self.memory_format) if t.dim() == 4 else t

    def _max_gate(self, i, spikes, counts):
        src, kernel, stride, (top, left, _, _) = self.gate[i]
        oh, ow = self.pops[i]["shape"][1:]
        cnt = pad_to_windows(counts[src], kernel, stride, top, left, (oh, ow), -math.inf)
        spk = pad_to_windows(spikes[src], kernel, stride, top, left, (oh, ow))
        # max_pool2d keeps the first maximum in raster order (strictly greater wins): neuroemu's tie rule.
        _, idx = F.max_pool2d(cnt, kernel, stride, return_indices=True)
        b, c = spk.shape[:2]
        return self._layout(spk.reshape(b, c, -1).gather(2, idx.reshape(b, c, -1)).view(b, c, oh, ow))

    def decide(self, v, count):
        """Readout decisions [B], neurons ranked in neuroemu's [H][W][C] order (ties: first)."""
        if v.dim() == 4:
            v = v.permute(0, 2, 3, 1)
            count = count.permute(0, 2, 3, 1) if count is not None else None
        v = v.reshape(v.shape[0], -1)
        if count is None:
            return v.argmax(1)
        count = count.reshape(count.shape[0], -1)
        best = count == count.max(1, keepdim=True).values
        return torch.where(best, v, torch.full_like(v, -math.inf)).argmax(1)

    def run(self, x, steps):
        """Simulates a batch x [B, *input shape]; returns decisions [steps, B]."""
        b, n = x.shape[0], len(self.pops)
        x = self._layout(x)
        v, const, spikes, counts = [None] * n, [None] * n, [None] * n, [None] * n
        for i in range(1, n):
            shape = (b, *self.pops[i]["shape"])
            if i in self.need_count:
                counts[i] = self._layout(torch.zeros(shape, dtype=self.dtype))
            if self.gate[i] is not None:
                continue
            v[i] = self._layout(torch.full(shape, self.v_init, dtype=self.dtype) * self.threshold[i])
            spikes[i] = torch.empty_like(v[i])  # reused every step
            if self.has_input[i]:
                c = torch.zeros(shape, dtype=self.dtype) if self.bias[i] is None else self.bias[i].expand(shape).clone()
                for p in self.inputs[i]:
                    if p.source == 0:
                        c += p(x)  # the analog input as a constant current, once per image
                const[i] = self._layout(c)
            elif self.bias_on[i] is None:
                const[i] = self.bias[i]  # per-channel bias (broadcast), or None
            if self.static[i]:  # the current is the constant (bias, analog input), every step
                v[i] = const[i] if const[i] is not None else self._layout(torch.zeros(shape, dtype=self.dtype))
        decisions = torch.empty(steps, b, dtype=torch.int64)
        subtract = self.reset == "subtract"
        for t in range(steps):
            for i in range(1, n):
                if self.gate[i] is not None:
                    spikes[i] = self._max_gate(i, spikes, counts)
                    if counts[i] is not None:
                        counts[i] += spikes[i]
                    if self.spike_totals is not None:
                        self.spike_totals[i] += int(spikes[i].sum())
                    continue
                if self.static[i]:
                    continue
                vi = v[i]
                if self.current[i]:
                    vi.zero_()  # this step's current only
                if const[i] is not None:
                    vi += const[i]
                bias_proj, bias = self.bias_on[i] or (None, None)
                for p in self.inputs[i]:
                    if p.source != 0:
                        src = v[p.source] if p.kind == "max_pool" else spikes[p.source]
                        p.accumulate(vi, src, bias if p is bias_proj else None)
                if not self.pops[i]["spiking"]:
                    continue
                s, th = spikes[i], self.threshold[i]
                torch.ge(vi, th, out=s)  # 1.0 where V >= threshold
                if subtract:
                    vi.addcmul_(s, th, value=-1.0)  # V - threshold where it fired (exact: 1 * th)
                else:
                    vi.masked_fill_(s.bool(), 0.0)
                if counts[i] is not None:
                    counts[i] += s
                if self.spike_totals is not None:
                    self.spike_totals[i] += int(s.sum())
            decisions[t] = self.decide(v[self.output], counts[self.output])
        return decisions


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("snn", help="model written by `neuroemu convert`")
    ap.add_argument("--steps", type=int, default=64, help="time steps T")
    ap.add_argument("--images", type=int, default=200, help="the first N test images")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="Fashion-MNIST IDX files (the default input)")
    ap.add_argument("--image-dir", help="read an image folder instead (ROOT/<class>/<image>.{png,jpg}, as "
                    "dataset.format: image_folder with dataset.resize: 0)")
    ap.add_argument("--crop", type=int, default=224, help="--image-dir: centre crop, as dataset.crop")
    ap.add_argument("--mean", type=float, nargs="*", default=[], help="as dataset.mean (default none)")
    ap.add_argument("--std", type=float, nargs="*", default=[], help="as dataset.std (default none)")
    ap.add_argument("--channels-last", action="store_true",
                    help="keep [B, C, H, W] state and conv weights NHWC (oneDNN's preferred layout)")
    ap.add_argument("--spike-totals", action="store_true",
                    help="also count every population's spikes (neuroemu's snn.populations[].spikes; a check: the "
                    "timed run counts too)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                    help="float64: a rounding-sensitivity check, not the benchmark")
    ap.add_argument("--agree-dir", help="write the images labelled with this run's decisions at T here")
    ap.add_argument("--labels-out", help="--image-dir: write 'FILENAME LABEL' lines, the labels being this run's "
                    "decisions at T (dataset.labels_file of neuroemu's ilsvrc_val reader on a class folder)")
    ap.add_argument("--decisions-out", help="save every step's decisions, int64 [T, N], as .npy")
    args = ap.parse_args()
    if args.steps < 1 or args.images < 1 or args.batch < 1:
        ap.error("--steps, --images and --batch must be >= 1")

    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    header, blob = load_snn(args.snn)
    model = DenseSnn(header, blob, dtype, args.channels_last)
    if args.image_dir:
        if args.agree_dir:
            ap.error("--agree-dir writes IDX files: use --labels-out with --image-dir")
        files, x_np, labels_np = load_image_folder(args.image_dir, args.images, args.crop, args.mean, args.std)
    else:
        if args.labels_out:
            ap.error("--labels-out needs --image-dir")
        px, x_np, labels_np = load_images(args.data_dir, args.images, args.mean, args.std)
    x = torch.from_numpy(x_np).to(dtype)
    if list(x.shape[1:]) != list(header["populations"][0]["shape"]):
        raise ValueError(f"the model expects input {header['populations'][0]['shape']}, "
                         f"the images are {list(x.shape[1:])}")
    labels = torch.from_numpy(labels_np)
    n = x.shape[0]

    with torch.no_grad():
        model.run(x[:min(args.batch, n)], min(2, args.steps))  # warm-up, untimed
        if args.spike_totals:
            model.spike_totals = [0] * len(header["populations"])
        t0 = time.perf_counter()
        decisions = torch.cat([model.run(x[i:i + args.batch], args.steps) for i in range(0, n, args.batch)], 1)
        seconds = time.perf_counter() - t0

    correct = (decisions == labels.view(1, -1)).sum(1)
    if args.agree_dir:
        os.makedirs(args.agree_dir, exist_ok=True)
        write_idx(os.path.join(args.agree_dir, "t10k-images-idx3-ubyte.gz"), px)
        write_idx(os.path.join(args.agree_dir, "t10k-labels-idx1-ubyte.gz"), decisions[-1].numpy())
    if args.labels_out:
        with open(args.labels_out, "w") as f:
            for path, label in zip(files, decisions[-1].tolist()):
                f.write(f"{os.path.basename(path)} {label}\n")
    if args.decisions_out:
        np.save(args.decisions_out, decisions.numpy())
    steps = args.steps
    print(json.dumps({
        "model": header.get("name"), "images": n, "steps": steps, "batch": args.batch, "threads": args.threads,
        "dtype": args.dtype, "channels_last": args.channels_last, "torch": torch.__version__,
        "top1": int(correct[-1]) / n, "correct": int(correct[-1]),
        "accuracy_curve": [int(c) / n for c in correct],
        "seconds": round(seconds, 4), "image_steps_per_s": n * steps / seconds,
        "dense_macs_per_image_step": model.macs_per_step,
        "macs_per_s": model.macs_per_step * n * steps / seconds,
        **({"population_spikes": model.spike_totals} if args.spike_totals else {}),
    }))


if __name__ == "__main__":
    sys.exit(main())
