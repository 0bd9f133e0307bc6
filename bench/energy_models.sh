#!/usr/bin/env bash
# The paper's §4.4 comparison for our own models: every shipped Fashion-MNIST network (configs/fmnist/), converted
# with the paper's method and run for STEPS steps on IMAGES test images; prints the measured SOPs per image, the
# ANN's MACs, the energy of each (77 fJ/SOP against 12.5 pJ/FLOP, one FLOP per MAC) and their ratio, plus the chip
# estimate without static power (SOPs, events, routing from the mapper's estimate). Not part of the tests.
# Usage: bench/energy_models.sh [IMAGES=200] [STEPS=350]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-200}"
steps="${2:-350}"
exe="$root/build/cli/neuroemu"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for cfg in "$root"/configs/fmnist/*.yaml; do
    name="$(basename "$cfg" .yaml)"
    "$exe" report "$cfg" --images "$images" --steps "$steps" --hw-images 0 --set report.paper_table=false -q \
        --json "$tmp/$name.json" >/dev/null
done
python3 - "$tmp" <<'PY'
import json, glob, os, sys
rows = []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(f)); h = d["headline"]; e = d["energy"]
    sop = next(t for t in e["snn"]["terms"] if t["key"] == "sop")
    rows.append((os.path.basename(f)[:-5], h["accuracy_snn"], h["accuracy_ann"], e["ann"]["macs"], sop["count"],
                 h["energy_snn_sop_j"], h["energy_ann_j"], h["ratio_ann_to_snn_sop"], h["energy_snn_j"], h["cores"]))
print(f"| model | S-net / ANN top-1 | MACs | SOPs per image | SOP/MAC | S-ResNet (SOPs) | ANN (FPGA) | ratio | chip, no static | cores |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {100*r[1]:.1f} / {100*r[2]:.1f} % | {r[3]/1e6:.1f} M | {r[4]/1e6:.0f} M | {r[4]/r[3]:.1f} | "
          f"{r[5]*1e6:.1f} µJ | {r[6]*1e6:.0f} µJ | **{r[7]:.1f}** | {r[8]*1e6:.0f} µJ | {r[9]} |")
PY
