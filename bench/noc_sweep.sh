#!/usr/bin/env bash
# Benchmark: latency against injection rate of the network-on-chip alone (`neuroemu noc`): an 8 x 8 mesh of the
# default ROLLS routers (configs/chips/rolls.yaml: 4-flit buffers, 3-cycle pipeline, 1-cycle links), uniform
# traffic, 1-flit packets. Prints one row per rate with the zero-load latency and the throughput bounds, where it
# saturates, and the simulated packet-hops per second at a high load below saturation (median of RUNS runs). Not
# part of the tests.
# Usage: bench/noc_sweep.sh [RATES="0.01 0.05 ..."] [RUNS=3]      (NEUROEMU=path/to/neuroemu to pick a build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rates="${1:-0.01 0.05 0.10 0.15 0.20 0.22 0.24 0.25 0.26 0.27 0.28 0.30 0.35 0.40 0.50}"
runs="${2:-3}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
# The chip file is a chip section, not an experiment: passed as one.
common=(noc --set "chip=$root/configs/chips/rolls.yaml" --mesh 8x8 --traffic uniform --packet-flits 1 --warmup 5000 -q)
i=0
for r in $rates; do
    i=$((i + 1))
    "$exe" "${common[@]}" --rate "$r" --cycles 20000 --json "$tmp/sweep.$i.json" >/dev/null
done
# Speed: the highest swept rate that did not saturate, with a longer window, RUNS times.
python3 - "$tmp" "$i" > "$tmp/speed_rate" <<'PY'
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
ok = [json.load(open(f"{tmp}/sweep.{k}.json")) for k in range(1, n + 1)]
ok = [j for j in ok if not j["saturated"]]
print(max(j["traffic"]["rate"] for j in ok) if ok else 0.1)
PY
speed_rate="$(cat "$tmp/speed_rate")"
for k in $(seq 1 "$runs"); do
    "$exe" "${common[@]}" --rate "$speed_rate" --cycles 100000 --json "$tmp/speed.$k.json" >/dev/null
done
python3 - "$tmp" "$i" "$runs" <<'PY'
import json, statistics, sys
tmp, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
js = [json.load(open(f"{tmp}/sweep.{k}.json")) for k in range(1, n + 1)]
j = js[0]
c = j["chip"]
print(f"8 x 8 mesh, uniform traffic, 1-flit packets; router {c['name']}: buffers {c['buffer_depth']} flits, pipeline "
      f"{c['pipeline_cycles']} cycles, links {c['link_cycles']} cycle per flit; {j['cycles']['warmup']} warm-up + "
      f"{j['cycles']['measure']} measured cycles, seed {j['traffic']['seed']}")
print(f"zero-load latency {j['latency_cycles']['zero_load']:.2f} cycles at {j['hops']['expected']:.3f} hops (2k/3); "
      f"bounds: bisection/channels {j['bounds']['channel_flits_per_node_cycle']:.4f} flits/node/cycle "
      f"(4/k = {4 / j['mesh']['width']:.4f}), with credit loops {j['bounds']['credit_flits_per_node_cycle']:.4f}")
print()
print("| rate (packets/node/cycle) | offered (flits/node/cycle) | accepted (flits/node/cycle) | latency mean (cycles) "
      "| network latency mean | latency max | hops mean | saturated |")
print("|---|---|---|---|---|---|---|---|")
for j in js:
    l = j["latency_cycles"]
    print(f"| {j['traffic']['rate']:.2f} | {j['offered']['flits_per_node_cycle']:.4f} | "
          f"{j['accepted']['flits_per_node_cycle']:.4f} | {l['mean']:.2f} | {l['network_mean']:.2f} | {l['max']} | "
          f"{j['hops']['mean']:.3f} | {'**yes**' if j['saturated'] else 'no'} |")
sat = [j for j in js if j["saturated"]]
print()
if sat:
    best = max(j["accepted"]["flits_per_node_cycle"] for j in js)
    print(f"first saturated rate {sat[0]['traffic']['rate']:.2f} ({sat[0]['saturation_reason']}); "
          f"highest accepted throughput {best:.4f} flits/node/cycle")
sp = [json.load(open(f"{tmp}/speed.{k}.json")) for k in range(1, runs + 1)]
rates = [s["simulation"]["packet_hops_per_s"] / 1e6 for s in sp]
s = sp[0]
each = ", ".join(f"{r:.2f}" for r in rates)
print(f"speed at rate {s['traffic']['rate']:.2f} ({s['cycles']['measure']} measured cycles, "
      f"{s['simulation']['packet_hops']:,} packet-hops, saturated: {s['saturated']}): median "
      f"{statistics.median(rates):.2f} M packet-hops/s over {runs} runs ({each}); goal 5")
PY
