#!/usr/bin/env bash
# Benchmark: strong scaling of `simulate` under mpirun from 1 to 2 ranks with hardware.distribute: ticks (docs/cli.md,
# "simulate and report under mpirun"), both measured in this run. ResNet-20 (configs/default.yaml) on all ticks of
# IMAGES images x STEPS steps, RUNS runs each (median); ResNet-34 (configs/resnet34.yaml: synthetic input, sampled
# ticks) once each, with R34_SET extra settings (e.g. "--set hardware.sample_ticks=5") to keep it short.
# Prints per configuration: the command's wall time and the hardware simulation's (the slowest rank's), speed-up and
# efficiency (speed-up / ranks), and per rank its ticks and seconds (its measured speed per tick, for a scaling
# model). The functional engine runs on every rank for the images whose ticks it simulates, so an image split over
# both ranks is evaluated twice: that part does not scale. Not part of the tests.
# Usage: bench/mpi_simulate.sh [IMAGES=6] [STEPS=100] [RUNS=3]   (NEUROEMU=path/to/neuroemu; R34=0 skips ResNet-34)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-6}"
steps="${2:-100}"
runs="${3:-3}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# One simulate with RANKS ranks (1: no mpirun): its stdout (per-rank lines) and JSON, and its wall time in $tmp/NAME.wall.
simulate() {  # NAME RANKS CONFIG ARGS...
    local name="$1" ranks="$2" config="$3"
    shift 3
    local launch=()
    [ "$ranks" -gt 1 ] && launch=(mpirun --oversubscribe -np "$ranks")
    local t0 t1
    t0=$(date +%s.%N)
    "${launch[@]}" "$exe" simulate "$config" "$@" --json "$tmp/$name.json" >"$tmp/$name.out"
    t1=$(date +%s.%N)
    python3 -c "print($t1 - $t0)" >"$tmp/$name.wall"
}

"$exe" convert "$root/configs/default.yaml" -o "$tmp/r20.snn" -q >/dev/null
"$exe" map "$root/configs/default.yaml" --snn "$tmp/r20.snn" -o "$tmp/r20.map" -q >/dev/null
r20=(--snn "$tmp/r20.snn" --map "$tmp/r20.map" --images "$images" --steps "$steps")
for i in $(seq 1 "$runs"); do
    simulate "r20_1_$i" 1 "$root/configs/default.yaml" "${r20[@]}"
    simulate "r20_2_$i" 2 "$root/configs/default.yaml" "${r20[@]}"
done
r34_runs=0
if [ "${R34:-1}" != 0 ]; then
    # shellcheck disable=SC2206
    extra=(${R34_SET:-})
    "$exe" convert "$root/configs/resnet34.yaml" -o "$tmp/r34.snn" -q "${extra[@]}" >/dev/null
    "$exe" map "$root/configs/resnet34.yaml" --snn "$tmp/r34.snn" -o "$tmp/r34.map" -q "${extra[@]}" >/dev/null
    simulate r34_1_1 1 "$root/configs/resnet34.yaml" --snn "$tmp/r34.snn" --map "$tmp/r34.map" "${extra[@]}"
    simulate r34_2_1 2 "$root/configs/resnet34.yaml" --snn "$tmp/r34.snn" --map "$tmp/r34.map" "${extra[@]}"
    r34_runs=1
fi

python3 - "$tmp" "$runs" "$r34_runs" <<'PY'
import json, re, statistics, sys
tmp, runs, r34_runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def load(name, ranks, n):
    out = []
    for i in range(1, n + 1):
        base = f"{tmp}/{name}_{ranks}_{i}"
        j = json.load(open(base + ".json"))
        wall = float(open(base + ".wall").read())
        per_rank = [(int(m[0]), int(m[1]), float(m[2]), float(m[3])) for m in
                    re.findall(r"^rank (\d+): ticks \S+ \((\d+) ticks\), ([0-9.]+) s \(([0-9.]+) s CPU\)",
                               open(base + ".out").read(), re.M)]
        if ranks == 1:  # every simulated tick has its cycles
            per_rank = [(0, len(j["cycles"]["per_tick"]), j["seconds"], j["cpu_seconds"])]
        out.append((wall, j["seconds"], per_rank, j))
    return out

def report(label, name, n):
    one, two = load(name, 1, n), load(name, 2, n)
    j = one[0][3]
    for a, b in zip(one, two):  # the merged run is the one-process run
        for key in ("cycles", "counters", "per_core_sops"):
            assert a[3][key] == b[3][key], f"{label}: {key} differs between 1 and 2 ranks"
    med = lambda xs: statistics.median(xs)
    w1, w2 = med([r[0] for r in one]), med([r[0] for r in two])
    s1, s2 = med([r[1] for r in one]), med([r[1] for r in two])
    ticks = sum(r[1] for r in one[0][2])
    c1, c2 = med([r[2][0][3] for r in one]), med([sum(x[3] for x in r[2]) for r in two])
    print(f"{label}: {j['chip']['cores']} cores, {j['images']} images x {j['steps']} steps, {ticks} ticks simulated, "
          f"median of {n} run(s)")
    print(f"  command wall:        1 rank {w1:7.2f} s, 2 ranks {w2:7.2f} s: speed-up {w1 / w2:.2f}, efficiency {w1 / w2 / 2:.0%}")
    print(f"  hardware simulation: 1 rank {s1:7.2f} s, 2 ranks {s2:7.2f} s: speed-up {s1 / s2:.2f}, efficiency {s1 / s2 / 2:.0%}")
    print(f"  CPU seconds of the hardware simulation: 1 rank {c1:.2f} s, 2 ranks {c2:.2f} s in all (work ratio "
          f"{c1 / c2:.2f}: below 1 is overhead; a wall speed-up below it means the ranks did not get a core each)")
    print(f"  1 rank: {ticks} ticks in {s1:.2f} s, {one[0][2][0][3]:.2f} s CPU ({s1 / ticks * 1e3:.1f} ms per tick)")
    for r, t, s, c in two[0][2]:
        print(f"  2 ranks, rank {r}: {t} ticks in {s:.2f} s, {c:.2f} s CPU ({s / max(t, 1) * 1e3:.1f} ms per tick)")

report("ResNet-20 (configs/default.yaml)", "r20", runs)
if r34_runs:
    report("ResNet-34 (configs/resnet34.yaml, sampled ticks)", "r34", r34_runs)
PY
