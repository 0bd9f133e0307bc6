#!/usr/bin/python3
"""PyTorch CPU reference throughput/accuracy for the Fashion-MNIST models.

Loads a state_dict written by scripts/train_fmnist.py, runs the first --images
test images through the model in eval mode and prints one JSON line:
  {"arch": ..., "images": N, "top1": ..., "seconds": ..., "images_per_s": ...}
Timing covers inference only (data loading excluded); one warm-up batch is run
untimed before the timed full pass.

Example (from the repo root):
  /usr/bin/python3 bench/torch_eval.py --arch resnet20 \
      --weights models/resnet20_fmnist.pt --images 10000 --batch 250 --threads 2
"""
import argparse
import json
import os
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))

import torch  # noqa: E402
from train_fmnist import build_model, load_fmnist, DEFAULT_DATA_DIR  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True)
    ap.add_argument("--weights", default=None,
                    help="state_dict (default models/<arch>_fmnist.pt)")
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    args = ap.parse_args()
    weights = args.weights or os.path.join(REPO_ROOT, "models", args.arch + "_fmnist.pt")

    torch.set_num_threads(args.threads)
    model = build_model(args.arch)
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.eval()

    x, y = load_fmnist("test", args.data_dir)
    x = torch.from_numpy(x[:args.images].copy())
    y = torch.from_numpy(y[:args.images].copy())
    n = x.shape[0]

    correct = 0
    with torch.no_grad():
        model(x[:args.batch])  # warm-up, untimed
        t0 = time.perf_counter()
        preds = []
        for i in range(0, n, args.batch):
            preds.append(model(x[i:i + args.batch]).argmax(1))
        seconds = time.perf_counter() - t0
    correct = int((torch.cat(preds) == y).sum())

    print(json.dumps({"arch": args.arch, "images": n, "top1": round(correct / n, 4),
                      "seconds": round(seconds, 4),
                      "images_per_s": round(n / seconds, 1)}))


if __name__ == "__main__":
    main()
