#!/usr/bin/env bash
# Benchmark: neuroemu's reference ANN inference against Debian's PyTorch on the same trained model, same
# 10,000 Fashion-MNIST test images, same machine, same run. Prints both throughputs and their ratio
# (>1: neuroemu is faster). Needs python3-torch; not part of the tests.
# Usage: bench/ann_vs_pytorch.sh [arch=resnet20] [threads=2]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch="${1:-resnet20}"
threads="${2:-2}"
exe="$root/build/cli/neuroemu"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$exe" evaluate "$root/models/${arch}_fmnist.onnx" --ann --images 10000 -q --set simulation.threads="$threads" \
    --json "$tmp/ne.json" >/dev/null
/usr/bin/python3 "$root/bench/torch_eval.py" --arch "$arch" --weights "$root/models/${arch}_fmnist.pt" \
    --images 10000 --threads "$threads" > "$tmp/torch.json"
/usr/bin/python3 - "$tmp/ne.json" "$tmp/torch.json" <<'PY'
import json, sys
ne = json.load(open(sys.argv[1]))["ann"]
pt = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
print(f"neuroemu: top-1 {ne['top1']:.4f}  {ne['images_per_s']:.0f} images/s  ({ne['threads']} threads)")
print(f"pytorch : top-1 {pt['top1']:.4f}  {pt['images_per_s']:.0f} images/s")
print(f"ratio neuroemu/pytorch throughput: {ne['images_per_s'] / pt['images_per_s']:.2f}")
PY
