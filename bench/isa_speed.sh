#!/usr/bin/env bash
# Benchmark: the portable build's run-time dispatch (common/isa.h) against another build of neuroemu, typically
# one configured with -DNEUROEMU_NATIVE=ON (the default before issue 20). In the same run, alternating, RUNS times
# each: the spiking engine (evaluate, compare_ann off) and the ANN engine (evaluate --ann); for this build also with
# NEUROEMU_ISA=generic. Prints the median seconds (the JSON's snn.seconds / ann.seconds) and image-steps/s, and
# checks that every variant's accuracy curve, spike and SOP totals (snn) and correct count (ann) are the same.
# Usage: bench/isa_speed.sh OTHER_EXE [RUNS=5] [IMAGES=200] [STEPS=32] [THREADS=1]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
other="$1"
runs="${2:-5}"
images="${3:-200}"
steps="${4:-32}"
threads="${5:-1}"
exe="$root/build/cli/neuroemu"
config="$root/configs/default.yaml"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$exe" convert "$config" -q -o "$tmp/model.snn" >/dev/null
snn_args=(evaluate "$config" --snn "$tmp/model.snn" --steps "$steps" --images "$images" -q
          --set simulation.compare_ann=false --set "simulation.threads=$threads")
ann_args=(evaluate "$config" --ann --images $((images * 10)) -q --set "simulation.threads=$threads")
for r in $(seq "$runs"); do
  for v in other dispatch generic; do
    run=("$exe"); env=()
    [ "$v" = other ] && run=("$other")
    [ "$v" = generic ] && env=(NEUROEMU_ISA=generic)
    env "${env[@]}" "${run[@]}" "${snn_args[@]}" --json "$tmp/snn.$v.$r.json" >/dev/null
    env "${env[@]}" "${run[@]}" "${ann_args[@]}" --json "$tmp/ann.$v.$r.json" >/dev/null
  done
done
python3 - "$tmp" "$runs" "$images" "$steps" <<'PY'
import json, statistics, sys
tmp, runs, images, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ref = {}
for v in ["dispatch", "generic", "other"]:
    snn = [json.load(open(f"{tmp}/snn.{v}.{r}.json")) for r in range(1, runs + 1)]
    ann = [json.load(open(f"{tmp}/ann.{v}.{r}.json")) for r in range(1, runs + 1)]
    s = statistics.median(j["snn"]["seconds"] for j in snn)
    a = statistics.median(j["ann"]["seconds"] for j in ann)
    same = {json.dumps([j["snn"]["accuracy_curve"], j["snn"]["totals"]]) for j in snn} | {json.dumps(j["ann"]["correct"]) for j in ann}
    ref.setdefault("decisions", same)
    # "same": the decisions and totals of this build's dispatch path (the reference, printed first).
    print(f"{v:9s} snn median {s:.3f} s ({images * steps / s:,.0f} image-steps/s)  ann median {a:.3f} s "
          f"({images * 10 / a:,.0f} images/s)  decisions {'same' if same == ref['decisions'] else 'DIFFER'}")
PY
