#!/usr/bin/env bash
# Benchmark: strong scaling of `neuroemu evaluate` (S-ResNet, the shipped ResNet-20 on Fashion-MNIST) from one
# process to `mpirun -np 2`, in one run: 1 rank x 1 thread (the baseline), 2 ranks x 1 thread, and 1 rank x 2
# threads (the threads baseline). The model is converted once beforehand (--snn), so the runs time the simulation
# of IMAGES test images x STEPS steps (plus start-up). Prints the median wall time of 3 runs of each, the speed-ups
# against the baseline and the efficiency (speed-up / 2), and checks that the three give the same accuracy.
# Not part of the tests. Usage: bench/mpi_evaluate.sh [IMAGES=1000] [STEPS=100]   (NEUROEMU=path/to/neuroemu)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-1000}"
steps="${2:-100}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
config="$root/configs/default.yaml"
"$exe" convert "$config" -q -o "$tmp/model.snn" >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $images images x $steps steps"
# run NAME LAUNCHER THREADS: three timed runs, their wall times appended to $tmp/NAME.times
run() {
    local name=$1 launcher=$2 threads=$3
    for i in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        $launcher "$exe" evaluate "$config" --snn "$tmp/model.snn" --images "$images" --steps "$steps" -q \
            --set simulation.threads="$threads" --json "$tmp/$name.json" >/dev/null
        end=$(date +%s.%N)
        echo "$end - $start" | bc >> "$tmp/$name.times"
    done
}
run one "" 1
run ranks "mpirun --oversubscribe -np 2" 1
run threads "" 2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp" <<'PY'
import json, statistics, sys
tmp = sys.argv[1]
med = {n: statistics.median(float(x) for x in open(f"{tmp}/{n}.times")) for n in ("one", "ranks", "threads")}
top1 = {n: json.load(open(f"{tmp}/{n}.json"))["snn"]["top1"] for n in med}
assert len(set(top1.values())) == 1, f"the runs disagree: {top1}"
print(f"1 rank  x 1 thread : {med['one']:.2f} s (median of 3), top-1 {top1['one']:.4f}")
for n, label in (("ranks", "2 ranks x 1 thread "), ("threads", "1 rank  x 2 threads")):
    s = med["one"] / med[n]
    print(f"{label}: {med[n]:.2f} s, speed-up {s:.2f}, efficiency {s / 2:.2f}")
print(f"2 ranks against 2 threads: {med['threads'] / med['ranks']:.2f} (>1: ranks faster)")
PY
