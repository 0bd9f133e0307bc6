#!/usr/bin/env bash
# Benchmark: `neuroemu map` at ImageNet scale (zoo ResNet-34 and ResNet-50, configs/resnet34.yaml and
# configs/resnet50.yaml, ROLLS-style cores). For each: median wall time and peak RSS over RUNS runs (each run maps,
# places, routes and writes the mapping file), against the issue's targets (10 s, 4 GB); the neuron, synapse and
# core counts; and the placement against the naive baseline measured in the same run (row-major start, no
# refinement): link traversals (hops) per time step and their ratio. Not part of the tests.
# Usage: bench/map_scale.sh [RUNS=3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-3}"
exe="$root/build/cli/neuroemu"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
[ -x /usr/bin/time ] || { echo "map_scale.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for net in resnet34 resnet50; do
    cfg="$root/configs/$net.yaml"
    for i in $(seq 1 "$runs"); do
        /usr/bin/time -v -o "$tmp/$net.$i.time" "$exe" map "$cfg" --set mapping.traffic=estimate -o "$tmp/$net.map" --json "$tmp/$net.json" -q >/dev/null
    done
    "$exe" map "$cfg" --set mapping.traffic=estimate -o '' -q --json "$tmp/$net.base.json" --set mapping.placement=row_major \
        --set mapping.refine_passes=0 >/dev/null
    python3 - "$net" "$tmp" "$runs" "$(stat -c %s "$tmp/$net.map")" <<'PY'
import json, re, statistics, sys
net, tmp, runs, map_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def field(text, name):
    return re.search(re.escape(name) + r": (.*)", text).group(1).strip()
walls, rss = [], []
for i in range(1, runs + 1):
    t = open(f"{tmp}/{net}.{i}.time").read()
    m, s = field(t, "Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")[-2:]
    walls.append(60 * float(m) + float(s))
    rss.append(int(field(t, "Maximum resident set size (kbytes)")) / 1024)
j = json.load(open(f"{tmp}/{net}.json"))
b = json.load(open(f"{tmp}/{net}.base.json"))
wall, peak = statistics.median(walls), max(rss)
print(f"{net}: {j['bounds']['if_neurons']:,} IF neurons, {j['bounds']['units']:,} neuron slots "
      f"({j['bounds']['partial_units']:,} partial-sum), {j['bounds']['synapses']:,} synapse entries -> "
      f"{j['cores']:,} cores on a {j['mesh']['width']} x {j['mesh']['height']} mesh; binding: {j['binding']}")
print(f"  map: median {wall:.2f} s over {runs} runs ({', '.join(f'{w:.2f}' for w in walls)}), peak RSS {peak:.0f} MiB, "
      f"mapping file {map_bytes / 1048576:.1f} MiB; targets 10 s, 4096 MiB: "
      f"{'met' if wall <= 10 and peak <= 4096 else 'NOT met'}")
print(f"  stages (last run): " + ", ".join(f"{k} {v:.2f} s" for k, v in j["seconds"].items()))
h, hb = j["traffic_per_step"]["hops"], b["traffic_per_step"]["hops"]
print(f"  hops per step at {j['settings'].get('mapping.estimated_rate', '?')} spikes/neuron/step: placed {h:,.0f}, "
      f"row-major baseline {hb:,.0f}, ratio {hb / h:.2f}x; worst link {j['traffic_per_step']['worst_link']['packets']:,.0f} "
      f"vs {b['traffic_per_step']['worst_link']['packets']:,.0f} packets/step")
PY
done
