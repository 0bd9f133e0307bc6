#!/usr/bin/env bash
# Benchmark: neuroemu's event-driven spiking engine against a dense time-stepped IF simulation in Debian's
# PyTorch (bench/torch_snn.py, every layer computed densely every step for a batch of images, the way
# SpikingJelly-style tools simulate). Same converted ResNet-20 (configs/default.yaml), same T, same first
# IMAGES Fashion-MNIST test images, same machine, same run. Prints both accuracies and how many decisions
# differ, both throughputs (image-steps/s) and their ratio (>1: neuroemu is faster), neuroemu's SOPs/s and the
# peak RSS of both processes (/usr/bin/time -v). Needs python3-torch; not part of the tests.
# Usage: bench/snn_vs_torch.sh [T=64] [IMAGES=200] [THREADS=2]
#   environment: BATCH (PyTorch batch, default 100), CALIBRATION (conversion.calibration_images, default the
#   config's)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-64}"
images="${2:-200}"
threads="${3:-2}"
batch="${BATCH:-100}"
exe="$root/build/cli/neuroemu"
py=/usr/bin/python3
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
[ -x /usr/bin/time ] || { echo "snn_vs_torch.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

config="$root/configs/default.yaml"
convert_args=()
[ -n "${CALIBRATION:-}" ] && convert_args+=(--set "conversion.calibration_images=$CALIBRATION")
"$exe" convert "$config" -o "$tmp/model.snn" -q "${convert_args[@]}" >/dev/null

common=(--snn "$tmp/model.snn" --steps "$steps" --images "$images" -q --set "simulation.threads=$threads")
# 1. neuroemu, timed: the spiking simulation alone (no ANN pass per image for the propagation error).
/usr/bin/time -v -o "$tmp/ne.time" "$exe" evaluate "$config" "${common[@]}" --set simulation.compare_ann=false \
    --json "$tmp/ne.json" >/dev/null
# 2. PyTorch, timed; it also writes the images labelled with its own decisions at T ...
/usr/bin/time -v -o "$tmp/pt.time" "$py" "$root/bench/torch_snn.py" "$tmp/model.snn" --steps "$steps" \
    --images "$images" --threads "$threads" --batch "$batch" --agree-dir "$tmp/agree" > "$tmp/pt.json"
# 3. ... so that neuroemu's "accuracy" on them is the fraction of images on which both decide the same.
"$exe" evaluate "$config" "${common[@]}" --set "dataset.path=$tmp/agree" --json "$tmp/agree.json" >/dev/null
# 4. The ANN on the same images, for reference.
"$exe" evaluate "$config" --ann --images "$images" -q --json "$tmp/ann.json" >/dev/null

"$py" - "$tmp" <<'PY'
import json, re, sys
tmp = sys.argv[1]
ne, agree = json.load(open(f"{tmp}/ne.json"))["snn"], json.load(open(f"{tmp}/agree.json"))["snn"]
pt = json.loads(open(f"{tmp}/pt.json").read().strip().splitlines()[-1])
ann_top1 = json.load(open(f"{tmp}/ann.json"))["ann"]["top1"]

def rss_mib(path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return int(m.group(1)) / 1024 if m else float("nan")

n, steps = ne["images"], ne["steps"]
differ = agree["images"] - agree["correct"]
curve_diff = sum(a != b for a, b in zip(ne["accuracy_curve"], pt["accuracy_curve"]))
sops = ne["totals"]["sops"]
print(f"model {pt['model']}: T={steps}, {n} images, {ne['threads']} threads (PyTorch {pt['torch']}, batch {pt['batch']}, {pt['dtype']})")
print(f"top-1 at T     neuroemu {ne['top1']:.4f}  pytorch {pt['top1']:.4f}  (ANN {ann_top1:.4f}); "
      f"decisions differing at T: {differ}/{n}; accuracy curve differs at {curve_diff}/{steps} steps")
print(f"image-steps/s  neuroemu {ne['image_steps_per_s']:.0f}  pytorch {pt['image_steps_per_s']:.0f}  "
      f"ratio neuroemu/pytorch {ne['image_steps_per_s'] / pt['image_steps_per_s']:.2f}")
print(f"work           neuroemu {sops / ne['seconds'] / 1e9:.2f} GSOP/s ({sops / (n * steps) / 1e6:.2f} M SOPs per "
      f"image-step); pytorch {pt['macs_per_s'] / 1e9:.2f} GMAC/s ({pt['dense_macs_per_image_step'] / 1e6:.2f} M "
      f"dense MACs per image-step)")
print(f"peak RSS       neuroemu {rss_mib(f'{tmp}/ne.time'):.0f} MiB  pytorch {rss_mib(f'{tmp}/pt.time'):.0f} MiB")
print(f"seconds        neuroemu {ne['seconds']:.2f}  pytorch {pt['seconds']:.2f} (simulation only)")
if differ:
    print(f"note: {differ} decision(s) differ; float32 summation order differs between the engines and can flip "
          "a neuron that sits on its threshold (check: bench/torch_snn.py --dtype float64)")
PY
