#!/usr/bin/python3
"""Train small ResNets on Fashion-MNIST and export them to ONNX for neuroemu.

Architectures (--arch):
  resnet<D>   CIFAR-style ResNet (He et al. 2016), depth D = 6n+2 (resnet8: n=1,
              resnet20: n=3, resnet32: n=5, ...), in_channels=1.
              stem conv3x3(1->16,s1,p1,no bias)+BN+ReLU, three stages of n
              BasicBlocks (widths 16/32/64, first block of stages 2 and 3 has
              stride 2), projection shortcut conv1x1+BN ("option B") where the
              shape changes, AdaptiveAvgPool2d(1) -> flatten -> Linear(64,10).
  plain<D>    same network without shortcuts (out = ReLU(main)).
  tv_basic    torchvision-ResNet-shaped net built from
              torchvision.models.resnet.BasicBlock: stem conv7x7(1->16,s2,p3)
              +BN+ReLU+MaxPool(3,s2,p1), layers planes 16/32/64/128 (one block
              each, strides 1/2/2/2), avgpool, flatten, Linear(128,10).
  tv_bottleneck  same with torchvision.models.resnet.Bottleneck (expansion 4,
              final Linear(512,10)).

Data: Fashion-MNIST IDX gzip files (default /usr/share/datasets/fashion-mnist),
input = pixel/255 as float32, shape N x 1 x 28 x 28, no mean/std normalisation.

Training: SGD(momentum 0.9, nesterov), lr 0.1 with cosine annealing over the
epochs (stepped per epoch), weight decay 5e-4, batch 128, augmentation: random
crop 28 with zero padding 2 + random horizontal flip. Seeded (--seed, default 1)
via torch.manual_seed and numpy.

Outputs (in --out-dir, default models/; <name> is --name, default the arch):
  <name>_fmnist.onnx            eval-mode export (BN folded into conv), opset 13,
                                input "input", output "logits", dynamic batch N
  <name>_fmnist_bn.onnx         same, TrainingMode.PRESERVE (model in eval mode),
                                BatchNormalization nodes kept
  <name>_fmnist.pt              state_dict
  <name>_fmnist.logits500.txt   PyTorch logits of the first 500 test images:
                                line "500 10", then 10 '%.9g' values per line
  manifest.yaml                 entry <name> added/updated

Training on an accelerator, exporting here: `--device cuda --skip-export` trains
and writes only <name>_fmnist.pt and <name>_fmnist.train.json (the training
record); `--from-pt models/<name>_fmnist.pt` then skips training, loads those
weights, and evaluates and exports with this machine's torch, merging the
training record (found next to the weights) into the manifest of --out-dir,
under --name if given. The ONNX files are thus always written by
Debian's torch, whatever trained the weights.

Examples (from the repo root):
  /usr/bin/python3 scripts/train_fmnist.py --arch resnet20 --epochs 12
  /usr/bin/python3 scripts/train_fmnist.py --arch tv_basic --epochs 1
  # train on a GPU machine, export here:
  python3 scripts/train_fmnist.py --arch resnet56 --device cuda --skip-export
  /usr/bin/python3 scripts/train_fmnist.py --arch resnet56 --from-pt models/resnet56_fmnist.pt
  # quick smoke test on a subset, written elsewhere:
  /usr/bin/python3 scripts/train_fmnist.py --arch resnet8 --epochs 1 \
      --train-limit 512 --out-dir /tmp/fmnist_smoke
"""
import argparse
import gzip
import json
import os
import re
import shlex
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
NUM_CLASSES = 10


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------
def _read_idx_gz(path, header):
    with gzip.open(path, "rb") as f:
        buf = f.read()
    return np.frombuffer(buf, dtype=np.uint8, offset=header)


def load_fmnist(split, data_dir=DEFAULT_DATA_DIR):
    """Return (images float32 N x 1 x 28 x 28 in [0,1], labels int64 N)."""
    prefix = "train" if split == "train" else "t10k"
    imgs = _read_idx_gz(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"), 16)
    labels = _read_idx_gz(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"), 8)
    imgs = imgs.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255.0)
    labels = labels.astype(np.int64)
    assert imgs.shape[0] == labels.shape[0]
    return imgs, labels


def augment(x, rng, pad=2):
    """Random crop 28 with zero padding `pad` + random horizontal flip (numpy)."""
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    xp[:, :, pad:pad + h, pad:pad + w] = x
    dy = rng.integers(0, 2 * pad + 1, size=n)
    dx = rng.integers(0, 2 * pad + 1, size=n)
    flip = rng.random(n) < 0.5
    out = np.empty_like(x)
    for i in range(n):
        crop = xp[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop[:, :, ::-1] if flip[i] else crop
    return out


# --------------------------------------------------------------------------
# CIFAR-style ResNet / plain nets
# --------------------------------------------------------------------------
def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class CifarBasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1, residual=True):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.residual = residual
        self.shortcut = None
        if residual and (stride != 1 or cin != cout):
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(out)


class CifarResNet(nn.Module):
    def __init__(self, n, residual=True, in_channels=1, num_classes=NUM_CLASSES):
        super().__init__()
        self.conv1 = conv3x3(in_channels, 16, 1)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        layers = []
        cin = 16
        for stage, width in enumerate((16, 32, 64)):
            blocks = []
            for b in range(n):
                stride = 2 if (stage > 0 and b == 0) else 1
                blocks.append(CifarBasicBlock(cin, width, stride, residual))
                cin = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes, bias=True)
        _init_weights(self)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


# --------------------------------------------------------------------------
# torchvision-block test nets
# --------------------------------------------------------------------------
class TVStyleResNet(nn.Module):
    """torchvision.models.resnet.ResNet layout with small widths, 1 block/layer."""

    def __init__(self, block, in_channels=1, num_classes=NUM_CLASSES,
                 planes=(16, 32, 64, 128), strides=(1, 2, 2, 2)):
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(in_channels, 16, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, planes[0], strides[0])
        self.layer2 = self._make_layer(block, planes[1], strides[1])
        self.layer3 = self._make_layer(block, planes[2], strides[2])
        self.layer4 = self._make_layer(block, planes[3], strides[3])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(planes[3] * block.expansion, num_classes)
        _init_weights(self)

    def _make_layer(self, block, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1,
                          stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        # torchvision 0.14 signature: (inplanes, planes, stride=1, downsample=None,
        #   groups=1, base_width=64, dilation=1, norm_layer=None)
        layer = block(self.inplanes, planes, stride, downsample)
        self.inplanes = planes * block.expansion
        return nn.Sequential(layer)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def _init_weights(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


ARCH_HELP = "resnet<6n+2> (resnet8, resnet20, ...), plain<6n+2>, tv_basic, tv_bottleneck"


def build_model(arch):
    if arch == "tv_basic":
        from torchvision.models.resnet import BasicBlock
        return TVStyleResNet(BasicBlock)
    if arch == "tv_bottleneck":
        from torchvision.models.resnet import Bottleneck
        return TVStyleResNet(Bottleneck)
    m = re.fullmatch(r"(resnet|plain)(\d+)", arch)
    if m:
        depth = int(m.group(2))
        if depth >= 8 and (depth - 2) % 6 == 0:
            return CifarResNet((depth - 2) // 6, residual=(m.group(1) == "resnet"))
    raise ValueError("unknown arch %r; expected %s" % (arch, ARCH_HELP))


# --------------------------------------------------------------------------
# Train / eval / export
# --------------------------------------------------------------------------
@torch.no_grad()
def predict_logits(model, x, batch=250, device="cpu"):
    model.eval()
    outs = []
    for i in range(0, x.shape[0], batch):
        outs.append(model(torch.from_numpy(x[i:i + batch]).to(device)).cpu())
    return torch.cat(outs).numpy()


def top1(logits, labels):
    return float((logits.argmax(1) == labels).mean())


def export_onnx(model, path, preserve_bn):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    kwargs = {}
    if preserve_bn:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, dummy, path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      **kwargs)


def onnx_summary(path):
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    opset = [(o.domain or "ai.onnx", o.version) for o in m.opset_import]
    return m, ops, opset


def update_manifest(path, arch, entry):
    import yaml
    data = {}
    if os.path.exists(path):
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    models = data.setdefault("models", {})
    models[arch] = entry
    data["models"] = dict(sorted(models.items()))
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=200)
    with open(path, "w") as f:
        f.write("# Fashion-MNIST models for neuroemu; generated by scripts/train_fmnist.py\n")
        f.write(text)


def train(model, args, xtr, ytr, xte, yte, rng):
    """SGD training in place; returns the training record for the manifest."""
    model.to(args.device)
    if str(args.device).startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9,
                          nesterov=True, weight_decay=args.wd)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    crit = nn.CrossEntropyLoss()

    n = xtr.shape[0]
    t_train0 = time.time()
    for ep in range(args.epochs):
        t0 = time.time()
        model.train()
        perm = rng.permutation(n)
        tot_loss, correct, seen = 0.0, 0, 0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            xb = torch.from_numpy(augment(xtr[idx], rng)).to(args.device, non_blocking=True)
            yb = torch.from_numpy(ytr[idx]).to(args.device, non_blocking=True)
            out = model(xb)
            loss = crit(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot_loss += loss.item() * idx.size
            correct += int((out.argmax(1) == yb).sum())
            seen += idx.size
        lr = opt.param_groups[0]["lr"]
        sched.step()
        t_ep = time.time() - t0
        msg = "epoch %d/%d lr %.5f loss %.4f train_acc %.4f" % (
            ep + 1, args.epochs, lr, tot_loss / seen, correct / seen)
        if not args.no_epoch_eval:
            msg += " test_acc %.4f" % top1(predict_logits(model, xte, device=args.device), yte)
        msg += " time %.1fs (train %.1fs)" % (time.time() - t0, t_ep)
        print(msg, flush=True)
    train_seconds = time.time() - t_train0

    return {"epochs": args.epochs, "seed": args.seed, "batch": args.batch,
            "lr": args.lr, "weight_decay": args.wd,
            "train_seconds": round(train_seconds, 1), "threads": args.threads,
            "device": args.device, "torch_version": str(torch.__version__)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, help=ARCH_HELP)
    ap.add_argument("--name", help="file stem and manifest key (default: the arch), so "
                                   "variants of one arch can live side by side: "
                                   "--name resnet20_e30 writes resnet20_e30_fmnist.*")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-limit", type=int, default=0,
                    help="use only the first N training images (0 = all 60000)")
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--out-dir", default="models")
    ap.add_argument("--no-epoch-eval", action="store_true",
                    help="skip the per-epoch test-set evaluation")
    ap.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda)")
    ap.add_argument("--skip-export", action="store_true",
                    help="write only the .pt weights and the .train.json training record")
    ap.add_argument("--from-pt", metavar="PT",
                    help="skip training: load these weights (and PT's .train.json record "
                         "if present), evaluate and export")
    args = ap.parse_args(argv)
    if args.skip_export and args.from_pt:
        ap.error("--skip-export and --from-pt exclude each other")
    name = args.name or args.arch
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        ap.error("--name %r: expected letters, digits and '_' only" % name)
    command = " ".join(shlex.quote(a) for a in ["/usr/bin/python3"] + sys.argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    rng = np.random.default_rng(args.seed)

    xtr, ytr = load_fmnist("train", args.data_dir)
    xte, yte = load_fmnist("test", args.data_dir)
    if args.train_limit > 0:
        xtr, ytr = xtr[:args.train_limit], ytr[:args.train_limit]
    print("data: train %s test %s" % (xtr.shape, xte.shape), flush=True)

    model = build_model(args.arch)
    nparams = sum(p.numel() for p in model.parameters())
    print("arch %s params %d torch %s threads %d" % (args.arch, nparams,
          torch.__version__, torch.get_num_threads()), flush=True)

    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.join(args.out_dir, name + "_fmnist")
    onnx_path, onnx_bn_path = base + ".onnx", base + "_bn.onnx"
    pt_path, logits_path = base + ".pt", base + ".logits500.txt"
    record_path = base + ".train.json"

    if args.from_pt:
        model.load_state_dict(torch.load(args.from_pt, map_location="cpu"))
        src_record = os.path.splitext(args.from_pt)[0] + ".train.json"
        if os.path.exists(src_record):
            with open(src_record) as f:
                record = json.load(f)
        else:
            record = {"command": "(weights from %s)" % args.from_pt}
        print("loaded %s; trained by: %s" % (args.from_pt, record["command"]), flush=True)
    else:
        record = train(model, args, xtr, ytr, xte, yte, rng)
        record["command"] = command
        record["train_images"] = int(xtr.shape[0])

    if args.skip_export:
        torch.save(model.state_dict(), pt_path)
        with open(record_path, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
        print("wrote %s, %s" % (pt_path, record_path), flush=True)
        return

    model.to("cpu")
    model.eval()
    logits = predict_logits(model, xte, batch=250)
    acc = top1(logits, yte)
    print("final test top1 %.4f (%d images)" % (acc, xte.shape[0]), flush=True)

    if os.path.abspath(pt_path) != os.path.abspath(args.from_pt or ""):
        torch.save(model.state_dict(), pt_path)
    export_onnx(model, onnx_path, preserve_bn=False)
    export_onnx(model, onnx_bn_path, preserve_bn=True)
    model.eval()
    _, ops, opset = onnx_summary(onnx_path)
    _, ops_bn, opset_bn = onnx_summary(onnx_bn_path)
    print("onnx %s: opset %s ops %s" % (onnx_path, opset, ops), flush=True)
    print("onnx %s: opset %s ops %s" % (onnx_bn_path, opset_bn, ops_bn), flush=True)
    if "BatchNormalization" in ops:
        raise SystemExit("ERROR: %s unexpectedly contains BatchNormalization" % onnx_path)
    if "BatchNormalization" not in ops_bn:
        raise SystemExit("ERROR: %s has no BatchNormalization nodes" % onnx_bn_path)

    with open(logits_path, "w") as f:
        f.write("500 %d\n" % logits.shape[1])
        for row in logits[:500]:
            f.write(" ".join("%.9g" % v for v in row) + "\n")

    rel = lambda p: os.path.basename(p)
    entry = {
        "arch": args.arch,
        "params": int(nparams),
        "onnx": rel(onnx_path),
        "onnx_bn": rel(onnx_bn_path),
        "onnx_opset": 13,
        "onnx_ops": ops,
        "onnx_bn_ops": ops_bn,
        "pt": rel(pt_path),
        "logits": rel(logits_path),
        "logits_images": 500,
        "test_top1": round(acc, 6),
        "test_images": int(xte.shape[0]),
    }
    for key in ("train_images", "epochs", "seed", "batch", "lr", "weight_decay",
                "train_seconds", "threads", "device", "torch_version", "command"):
        if key in record:
            entry[key] = record[key]
    if args.from_pt:
        entry["export_torch_version"] = str(torch.__version__)
        entry["export_command"] = command
    update_manifest(os.path.join(args.out_dir, "manifest.yaml"), name, entry)
    print("wrote %s, %s, %s, %s" % (onnx_path, onnx_bn_path, pt_path, logits_path), flush=True)


if __name__ == "__main__":
    main()
