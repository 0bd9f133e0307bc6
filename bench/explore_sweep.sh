#!/usr/bin/env bash
# Benchmark: `neuroemu explore` on configs/sweeps/hardware.yaml (52 points on the shipped Fashion-MNIST ResNet-20:
# functional engine on 100 images, mapping and 1 image on the SystemC chip per point) with JOBS children, from an
# empty cache; then the same sweep again, every point from the cache. Prints the wall time, points, points per
# minute and the ratio against the issue's goal (>= 50 points in <= 15 min on 2 cores). Not part of the tests.
# Usage: bench/explore_sweep.sh [JOBS=2] [OUT=a temporary directory]   (NEUROEMU=path/to/neuroemu to pick a build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${1:-2}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
if [ -n "${2:-}" ]; then out="$2"; rm -rf "$out"; else tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT; out="$tmp/hardware.out"; fi
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
start=$(date +%s.%N)
"$exe" explore "$root/configs/sweeps/hardware.yaml" -o "$out" --jobs "$jobs" --json "$out.cold.json"
cold=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
"$exe" explore "$root/configs/sweeps/hardware.yaml" -o "$out" --jobs "$jobs" --json "$out.warm.json" -q
warm=$(echo "$(date +%s.%N) - $start" | bc)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$cold" "$warm" "$jobs" <<'PY'
import json, sys
out, cold, warm, jobs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
c = json.load(open(out + ".cold.json"))["summary"]
w = json.load(open(out + ".warm.json"))["summary"]
goal = 15 * 60.0
print(f"explore configs/sweeps/hardware.yaml, --jobs {jobs}: {c['points']} points ({c['ok']} ok, "
      f"{c['does_not_fit']} do not fit, {c['failed']} failed), {c['conversions']} conversion(s), Pareto front {c['pareto']}")
print(f"cold cache: {cold:.1f} s wall = {c['points'] / cold * 60:.1f} points/min; "
      f"goal >= 50 points in <= 900 s: {cold / goal:.2f} of the time budget "
      f"({'met' if c['points'] >= 50 and cold <= goal else 'NOT met'})")
print(f"rerun, warm cache: {warm:.2f} s ({w['cached']} cached, {w['computed']} computed)")
PY
