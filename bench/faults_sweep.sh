#!/usr/bin/env bash
# Benchmark: the shipped ResNet-20 on the SystemC chip model under transient bit flips on the mesh links
# (chip.faults, docs/hardware-model.md "Faults"): for each flit error rate and check, the deliveries lost (detected
# and dropped by the check, or corrupt and undetected), the latency per inference and the classification of the
# faulty chip (the fault-aware engine leaves out what the chip loses; the chip carries its spikes and checks that it
# lost the same). Prints one Markdown row per (rate, check). Not part of the tests.
# Usage: bench/faults_sweep.sh [IMAGES=20] [STEPS=50] [RATES="0 1e-6 1e-5 1e-4 1e-3"] [CHECKS="none crc8"]
#        (NEUROEMU=path/to/neuroemu to pick a build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-20}"
steps="${2:-50}"
rates="${3:-0 1e-6 1e-5 1e-4 1e-3}"
checks="${4:-none crc8}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
echo "| flit error rate (1/bit/link) | check | bits flipped | deliveries lost | detected, dropped | corrupt, undetected | cycles per inference | top-1 (faulty chip) |"
echo "|---|---|---|---|---|---|---|---|"
for spec in $(for c in $checks; do for r in $rates; do echo "$r:$c"; done; done); do
    rate="${spec%%:*}" c="${spec##*:}"
    "$exe" simulate "$root/configs/default.yaml" --images "$images" --steps "$steps" -q \
        --set "chip.faults.flit_error_rate=$rate" --set "chip.faults.check=$c" --json "$tmp/run.json" >/dev/null
    python3 - "$tmp/run.json" "$rate" "$c" <<'PY'
import json, sys
d, rate, check = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
f = d["faults"]
print(f"| {rate} | {check} | {f['bit_flips']:,} | {100 * f['lost_fraction']:.4f}% | {f['detected_dropped']:,} | "
      f"{f['corrupt_undetected']:,} | {d['cycles']['per_image']:,.0f} | {100 * d['top1']:.1f}% ({d['correct']}/{d['images']}) |")
PY
done
