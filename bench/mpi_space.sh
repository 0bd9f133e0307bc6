#!/usr/bin/env bash
# Benchmark: the space-parallel chip (hardware.distribute=chips, docs/hardware-model.md "Space-parallel chip").
# ResNet-20 (configs/default.yaml) on 2 x 2 chips of 14 x 14 cores, run by 1 and by 2 ranks in the same run; the
# simulation's wall time (JSON `seconds`), median of 3 each. Prints the speed-up, the windows per tick, the bytes
# exchanged per window and the wall time per window, for inter-chip links of 200, 20 (the default) and 1 cycles
# (the lookahead L; with 1, a collective every cycle: what a cut inside a chip would cost). Needs mpirun; not part
# of the tests. First the collective alone (bench/mpi_all_to_all.cpp, built with mpicxx): what a window costs at
# least.
# Usage: bench/mpi_space.sh [images=2] [steps=8]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-2}"
steps="${2:-8}"
exe="$root/build/cli/neuroemu"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
config="$root/configs/default.yaml"
"$exe" convert "$config" -q -o "$tmp/r20.snn"
mpicxx -O2 "$root/bench/mpi_all_to_all.cpp" -o "$tmp/all_to_all"
for ranks in 2 3; do mpirun --allow-run-as-root --oversubscribe -np "$ranks" "$tmp/all_to_all"; done
chips="--set chip.noc.chips=0 --set chip.noc.width=14 --set chip.noc.height=14 --set hardware.distribute=chips"
mpirun_="mpirun --allow-run-as-root --oversubscribe"

# run RANKS LINK_CYCLES TAG: the summary line of windows and bytes, and the JSON.
run() {
    local args="simulate $config --snn $tmp/r20.snn --images $images --steps $steps --json $tmp/$3.json $chips \
                --set chip.noc.inter_chip_link_cycles=$2"
    if [ "$1" = 1 ]; then "$exe" $args -v > "$tmp/$3.out"; else $mpirun_ -np "$1" "$exe" $args > "$tmp/$3.out"; fi
    grep '^windows of' "$tmp/$3.out" > "$tmp/$3.windows"
}
for link in 200 20 1; do
    for ranks in 1 2; do
        for k in 1 2 3; do run "$ranks" "$link" "l${link}_np${ranks}_$k"; done
    done
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, re, statistics, sys
tmp = sys.argv[1]
for link in (200, 20, 1):
    res = {}
    for ranks in (1, 2):
        secs = [json.load(open(f"{tmp}/l{link}_np{ranks}_{k}.json"))["seconds"] for k in (1, 2, 3)]
        line = open(f"{tmp}/l{link}_np{ranks}_1.windows").read()
        m = re.search(r"windows of \d+ cycles: (\d+) \(([\d.]+) per tick\); exchanged between ranks: (\d+) messages, "
                      r"(\d+) bytes", line)
        windows, per_tick, messages, nbytes = int(m[1]), float(m[2]), int(m[3]), int(m[4])
        res[ranks] = statistics.median(secs)
        print(f"inter-chip link {link:3d} cycles, {ranks} rank(s): {res[ranks]:.3f} s (median of 3), {windows} windows "
              f"({per_tick:.1f} per tick), {1e6 * res[ranks] / windows:.1f} us per window, {messages} messages, "
              f"{nbytes / windows:.0f} bytes exchanged per window")
    print(f"inter-chip link {link:3d} cycles: speed-up 2 ranks / 1 rank: {res[1] / res[2]:.2f}")
PY
