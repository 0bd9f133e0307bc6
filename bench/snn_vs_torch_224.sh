#!/usr/bin/env bash
# Benchmark at ImageNet size: neuroemu's event-driven spiking engine against the dense time-stepped IF simulation
# in Debian's PyTorch (bench/torch_snn.py), on a torchvision ResNet (configs/ARCH.yaml: seeded weights, BatchNorm
# statistics measured on synthetic images) at 3 x 224 x 224. One run: IMAGES seeded smooth 224 x 224 RGB PNG
# images are written into a temporary image folder (one class), the config's network is converted once, then the
# same .snn file runs for T steps on the same PNGs with the same threads
#   (a) in `neuroemu evaluate` (dataset.format: image_folder, resize 0, crop 224; simulation only, no ANN pass),
#   (b) in bench/torch_snn.py (PIL read, the config's dataset.mean/std: torchvision's ImageNet normalisation;
#       state and conv weights channels-last, which oneDNN's convolutions run faster than NCHW),
# both timed under /usr/bin/time -v; then neuroemu once more on the same files read as `ilsvrc_val` with
# PyTorch's decisions at T as labels, so that its "accuracy" counts the images on which both decide the same
# (the labels of the images are meaningless otherwise: accuracy is not meaningful on synthetic input).
# Prints both throughputs (image-steps/s) and their ratio (goal >= 5 at 2 threads), neuroemu's SOPs/s, the peak
# RSS of both processes (goal: neuroemu <= 2 GB), the decisions that differ, neuroemu's seconds per image at T
# and, from it, the time the paper's Table 4 run (50,000 ILSVRC2012 validation images) would take here.
# Needs python3-torch, python3-pil and /usr/bin/time; not part of the tests.
# Usage: bench/snn_vs_torch_224.sh [T=350] [IMAGES=2] [THREADS=2] [ARCH=resnet34]
#   ARCH: resnet18, resnet34 or resnet50 (configs/ARCH.yaml)
#   environment: BATCH (PyTorch batch, default min(IMAGES, 4)), MAX_POOL (conversion.max_pool: gate, the
#   paper's spike gate, or current; default the config's), SEED (images, default 1), KEEP (a folder: keep the
#   images, the .snn file and the raw outputs there)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-350}"
images="${2:-2}"
threads="${3:-2}"
arch="${4:-resnet34}"
batch="${BATCH:-$((images < 4 ? images : 4))}"
seed="${SEED:-1}"
exe="$root/build/cli/neuroemu"
py=/usr/bin/python3
config="$root/configs/$arch.yaml"
[ -f "$config" ] || { echo "snn_vs_torch_224.sh: no $config (ARCH: resnet18, resnet34 or resnet50)" >&2; exit 2; }
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
[ -x /usr/bin/time ] || { echo "snn_vs_torch_224.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ -n "${KEEP:-}" ]; then
    tmp="$KEEP"
    mkdir -p "$tmp"
    rm -rf "$tmp/images"
else
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
fi

# 1. The images: seeded smooth RGB (per channel a base level plus low-frequency plane waves, some shared by the
# channels, as the synthetic reader draws them), 8-bit PNG, one class folder.
"$py" - "$tmp/images/smooth" "$images" "$seed" <<'PY'
import os, sys
import numpy as np
from PIL import Image
out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
size, waves = 224, 6
u, v = np.meshgrid(np.arange(size) / size, np.arange(size) / size, indexing="ij")
for i in range(n):
    rng = np.random.default_rng([seed, i])
    def plane_waves():
        fy, fx = 3.0 * rng.random(waves), 3.0 * rng.random(waves)  # up to 3 cycles across the image
        phase = 2.0 * np.pi * rng.random(waves)
        amp = 0.25 * rng.random(waves) / (1.0 + 0.5 * np.hypot(fy, fx))
        return sum(a * np.cos(2.0 * np.pi * (y * u + x * v) + p) for y, x, p, a in zip(fy, fx, phase, amp))
    shared = plane_waves()
    rgb = np.stack([0.3 + 0.4 * rng.random() + shared + plane_waves() for _ in range(3)], axis=-1)
    Image.fromarray(np.rint(255.0 * np.clip(rgb, 0.0, 1.0)).astype(np.uint8), "RGB").save(f"{out}/img_{i:05d}.png")
PY

# 2. The S-ResNet, converted once (calibrated on the config's own dataset, as `neuroemu convert` always is).
convert_args=()
[ -n "${MAX_POOL:-}" ] && convert_args+=(--set "conversion.max_pool=$MAX_POOL")
"$exe" convert "$config" -o "$tmp/model.snn" -q "${convert_args[@]}" >/dev/null

images_args=(--set dataset.format=image_folder --set "dataset.path=$tmp/images" --set dataset.resize=0
             --set dataset.crop=224 --set dataset.name=smooth-png)
# Both evaluate runs also get the conversion's settings, so that their JSON's settings block names the max pooling
# the .snn file holds.
common=(--snn "$tmp/model.snn" --steps "$steps" --images "$images" -q --set "simulation.threads=$threads"
        --set simulation.compare_ann=false "${convert_args[@]}")
# 3. neuroemu, timed: the spiking simulation alone.
/usr/bin/time -v -o "$tmp/ne.time" "$exe" evaluate "$config" "${common[@]}" "${images_args[@]}" \
    --json "$tmp/ne.json" >/dev/null
# 4. PyTorch, timed, on the same files with the normalisation neuroemu used; writes its decisions at T ...
setting() { "$py" -c 'import json,sys; print(*json.loads(json.load(open(sys.argv[1]))["settings"][sys.argv[2]]))' "$tmp/ne.json" "$1"; }
read -r -a mean < <(setting dataset.mean)
read -r -a std < <(setting dataset.std)
/usr/bin/time -v -o "$tmp/pt.time" "$py" "$root/bench/torch_snn.py" "$tmp/model.snn" --steps "$steps" \
    --images "$images" --threads "$threads" --batch "$batch" --channels-last --image-dir "$tmp/images" --crop 224 \
    --mean "${mean[@]}" --std "${std[@]}" --labels-out "$tmp/agree.txt" --decisions-out "$tmp/pt_decisions.npy" \
    > "$tmp/pt.json"
# 5. ... as the labels of the same files for neuroemu: its accuracy is then the agreement of the two.
"$exe" evaluate "$config" "${common[@]}" --set dataset.format=ilsvrc_val --set "dataset.path=$tmp/images/smooth" \
    --set "dataset.labels_file=$tmp/agree.txt" --set dataset.resize=0 --set dataset.crop=224 \
    --json "$tmp/agree.json" >/dev/null

"$py" - "$tmp" "$arch" <<'PY'
import json, re, sys
tmp, arch = sys.argv[1], sys.argv[2]
ne_doc = json.load(open(f"{tmp}/ne.json"))
ne, agree = ne_doc["snn"], json.load(open(f"{tmp}/agree.json"))["snn"]
pt = json.loads(open(f"{tmp}/pt.json").read().strip().splitlines()[-1])
max_pool = ne_doc["settings"].get("conversion.max_pool", "?")

def rss_mib(path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return int(m.group(1)) / 1024 if m else float("nan")

n, steps = ne["images"], ne["steps"]
differ = agree["images"] - agree["correct"]
sops = ne["totals"]["sops"]
ratio = ne["image_steps_per_s"] / pt["image_steps_per_s"]
per_image = ne["seconds"] / n
table4 = 50000 * per_image
layout = "channels-last" if pt.get("channels_last") else "NCHW"
print(f"model {pt['model']} ({arch}, conversion.max_pool {max_pool}): T={steps}, {n} smooth 224x224 PNG images, "
      f"{ne['threads']} threads (PyTorch {pt['torch']}, batch {pt['batch']}, {pt['dtype']}, {layout})")
print(f"image-steps/s  neuroemu {ne['image_steps_per_s']:.2f}  pytorch {pt['image_steps_per_s']:.2f}  "
      f"ratio neuroemu/pytorch {ratio:.2f} (goal >= 5)")
print(f"work           neuroemu {sops / ne['seconds'] / 1e9:.2f} GSOP/s ({sops / (n * steps) / 1e6:.1f} M SOPs per "
      f"image-step); pytorch {pt['macs_per_s'] / 1e9:.2f} GMAC/s ({pt['dense_macs_per_image_step'] / 1e9:.2f} G "
      f"dense MACs per image-step)")
print(f"peak RSS       neuroemu {rss_mib(f'{tmp}/ne.time'):.0f} MiB (goal <= 2048)  pytorch {rss_mib(f'{tmp}/pt.time'):.0f} MiB")
print(f"decisions      differing at T: {differ}/{n}")
print(f"seconds        neuroemu {ne['seconds']:.2f}  pytorch {pt['seconds']:.2f} (simulation only)")
print(f"neuroemu       {per_image:.2f} s per image at T={steps} ({ne['threads']} threads, images in parallel); "
      f"50,000 images (the paper's Table 4): {table4 / 3600:.1f} h = {table4 / 86400:.2f} days on this machine")
if differ:
    print(f"note: {differ} decision(s) differ; float32 summation order differs between the engines and can flip "
          "a neuron that sits on its threshold (check: bench/torch_snn.py --dtype float64)")
PY
