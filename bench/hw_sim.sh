#!/usr/bin/env bash
# Benchmark: the SystemC hardware model on the converted ResNet-20 (configs/default.yaml) on its mapped ROLLS-style
# chip. Prints the time steps (ticks) simulated per second and the simulated packet-hops per second of the
# hardware simulation alone (wall time of the SystemC runs, not the functional engine or the conversion), over
# RUNS runs (median), with the chip-side results (cycles per tick, latency per inference). The issue's goal:
# >= 5 million packet-hops/s. Not part of the tests.
# Usage: bench/hw_sim.sh [IMAGES=2] [STEPS=100] [RUNS=3]      (NEUROEMU=path/to/neuroemu to pick a build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-2}"
steps="${2:-100}"
runs="${3:-3}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
"$exe" convert "$root/configs/default.yaml" -o "$tmp/r20.snn" -q >/dev/null
"$exe" map "$root/configs/default.yaml" --snn "$tmp/r20.snn" -o "$tmp/r20.map" -q >/dev/null
for i in $(seq 1 "$runs"); do
    "$exe" simulate "$root/configs/default.yaml" --snn "$tmp/r20.snn" --map "$tmp/r20.map" --images "$images" \
        --steps "$steps" -q --json "$tmp/sim.$i.json" >/dev/null
done
python3 - "$tmp" "$runs" <<'PY'
import json, statistics, sys
tmp, runs = sys.argv[1], int(sys.argv[2])
js = [json.load(open(f"{tmp}/sim.{i}.json")) for i in range(1, runs + 1)]
j = js[0]
ticks = j["images"] * j["steps"]
secs = [x["seconds"] for x in js]
hops = j["counters"]["hops"]
s = statistics.median(secs)
print(f"ResNet-20 on {j['chip']['cores']} cores ({j['chip']['mesh'][0]} x {j['chip']['mesh'][1]}), {j['images']} images x {j['steps']} steps, "
      f"{j['chip']['multicast']} multicast")
print(f"  hardware simulation: median {s:.2f} s over {runs} runs ({', '.join(f'{x:.2f}' for x in secs)}): "
      f"{ticks / s:.1f} ticks/s, {hops / s / 1e6:.2f} M packet-hops/s (goal 5)")
print(f"  chip: {j['cycles']['per_tick_mean']:.0f} cycles per tick (max {j['cycles']['per_tick_max']}), "
      f"{j['latency_s_per_image'] * 1e3:.2f} ms per inference at {j['chip']['clock_hz'] / 1e6:.0f} MHz; "
      f"per image {j['counters']['packets'] / j['images']:,.0f} packets, {hops / j['images']:,.0f} hops, "
      f"{j['counters']['sops'] / j['images']:,.0f} SOPs")
PY
