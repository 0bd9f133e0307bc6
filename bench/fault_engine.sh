#!/usr/bin/env bash
# Benchmark: the cost of the fault-aware functional engine (experiment/fault_losses.h), which `report` and explore
# run over dataset.images when chip.faults lose events, against the fault-free engine on the same images in the
# same run (the baseline). `report --hw-images 0` on the shipped ResNet-20, one thread, median of REPEATS runs per
# case; prints one Markdown row per case with its ratio to the baseline. Not part of the tests.
# Usage: bench/fault_engine.sh [IMAGES=20] [STEPS=50] [REPEATS=3]   (NEUROEMU=path/to/neuroemu to pick a build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-20}"
steps="${2:-50}"
repeats="${3:-3}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
"$exe" convert "$root/configs/default.yaml" -o "$tmp/model.snn" -q >/dev/null
cases=("fault-free (baseline):chip.faults.flit_error_rate=0" "flits 1e-4, no check:chip.faults.flit_error_rate=1e-4"
       "flits 1e-4, crc8:chip.faults.flit_error_rate=1e-4 --set chip.faults.check=crc8"
       "flits 1e-2, no check:chip.faults.flit_error_rate=1e-2" "stuck core 100:chip.faults.stuck_cores=[100]"
       "dead router 364:chip.faults.dead_routers=[364]")
echo "| case | top-1 | seconds (median of $repeats) | ratio to fault-free |"
echo "|---|---:|---:|---:|"
base=""
for c in "${cases[@]}"; do
    name="${c%%:*}" set="${c#*:}"
    times=()
    for ((k = 0; k < repeats; ++k)); do
        start=$EPOCHREALTIME
        # shellcheck disable=SC2086
        "$exe" report "$root/configs/default.yaml" --snn "$tmp/model.snn" --images "$images" --steps "$steps" \
            --hw-images 0 -q --set report.paper_table=false --set simulation.threads=1 --set $set \
            --json "$tmp/run.json" >/dev/null
        times+=("$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
    [ -z "$base" ] && base="$median"
    top1=$(python3 -c "import json, sys; print(f\"{100 * json.load(open(sys.argv[1]))['headline']['accuracy_snn']:.1f}%\")" "$tmp/run.json")
    printf '| %s | %s | %.2f | %.1f |\n' "$name" "$top1" "$median" "$(awk -v m="$median" -v b="$base" 'BEGIN {print m / b}')"
done
