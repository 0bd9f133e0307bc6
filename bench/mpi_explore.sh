#!/usr/bin/env bash
# Benchmark: strong scaling of `neuroemu explore` from one process to `mpirun -np 2`, in one run, on a small
# hardware sweep of the shipped ResNet-20 (POINTS random points: functional engine on 100 images, mapping and 1
# image on the SystemC chip each, one shared conversion): 1 rank x --jobs 1 (the baseline), 2 ranks x --jobs 1,
# and 1 rank x --jobs 2 (the threads baseline: two children at once). Every run starts from an empty cache.
# Prints the median wall time of 3 runs of each, the speed-ups against the baseline and the efficiency
# (speed-up / 2), and checks that the three wrote the same points.csv. Not part of the tests.
# Usage: bench/mpi_explore.sh [POINTS=14]   (NEUROEMU=path/to/neuroemu)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
points="${1:-14}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cat > "$tmp/sweep.yaml" <<YAML
experiment: $root/configs/default.yaml
set: {dataset.images: 100, mapping.traffic_images: 4, simulation.steps: 32}
mode: hardware
hw_images: 1
random:
  points: $points
  seed: 1
  keys:
    chip.clock_hz: {min: 5e7, max: 4e8, log: true}
    chip.core.sops_per_cycle: {min: 16, max: 256, log: true}
    chip.noc.multicast: [tree, source]
YAML
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $points points"
# run NAME LAUNCHER JOBS: three timed runs from an empty cache, their wall times appended to $tmp/NAME.times
run() {
    local name=$1 launcher=$2 jobs=$3
    for i in 1 2 3; do
        rm -rf "$tmp/$name.out"
        local start end
        start=$(date +%s.%N)
        $launcher "$exe" explore "$tmp/sweep.yaml" -o "$tmp/$name.out" --jobs "$jobs" -q >/dev/null
        end=$(date +%s.%N)
        echo "$end - $start" | bc >> "$tmp/$name.times"
    done
}
run one "" 1
run ranks "mpirun --oversubscribe -np 2" 1
run jobs "" 2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cmp -s "$tmp/one.out/points.csv" "$tmp/ranks.out/points.csv" && cmp -s "$tmp/one.out/points.csv" "$tmp/jobs.out/points.csv" ||
    { echo "the runs wrote different points.csv" >&2; exit 1; }
python3 - "$tmp" <<'PY'
import statistics, sys
tmp = sys.argv[1]
med = {n: statistics.median(float(x) for x in open(f"{tmp}/{n}.times")) for n in ("one", "ranks", "jobs")}
print(f"1 rank  x --jobs 1: {med['one']:.2f} s (median of 3)")
for n, label in (("ranks", "2 ranks x --jobs 1"), ("jobs", "1 rank  x --jobs 2")):
    s = med["one"] / med[n]
    print(f"{label}: {med[n]:.2f} s, speed-up {s:.2f}, efficiency {s / 2:.2f}")
print(f"2 ranks against 2 jobs: {med['jobs'] / med['ranks']:.2f} (>1: ranks faster)")
PY
