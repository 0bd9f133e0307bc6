#!/usr/bin/env bash
# Benchmark: the shipped ResNet-20 on the SystemC chip model with dead routers and links (chip.faults.dead_*,
# docs/hardware-model.md "Faults"), routed around them (west-first, chip.faults.reroute=true, the default) and not
# (false: every route crossing a dead element is cut). For each case: the (source, destination) routes cut, the
# deliveries that could not be sent, their share of the deliveries wanted, the packet hops and the latency per
# inference. Prints one Markdown row per case. Not part of the tests.
# Usage: bench/dead_routes.sh [IMAGES=2] [STEPS=20]   (NEUROEMU=path/to/neuroemu to pick a build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-2}"
steps="${2:-20}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
# The default chip's mesh is 27 x 27 (router y * 27 + x): the centre router (13, 13) = 364; a block of 4 around
# (10, 10) = 280 281 307 308; links are router * 4 + direction (0 E, 1 W, 2 N, 3 S).
wall="$(seq -s, $((8 * 27 + 13)) 27 $((18 * 27 + 13)) | tr , '\n' | awk '{printf "%s%d", (NR > 1 ? "," : ""), $1 * 4}')"
cases=("none:[]:[]" "centre router:[364]:[]" "4 routers:[280,281,307,308]:[]" "centre E and N links:[]:[1456,1458]"
       "E links of column 13, rows 8-18:[]:[$wall]")
echo "| dead | reroute | routes cut | deliveries not sent | share of wanted | packet hops | latency per inference |"
echo "|---|---|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
    IFS=: read -r name routers links <<<"$c"
    for reroute in true false; do
        [ "$name" = none ] && [ "$reroute" = false ] && continue
        "$exe" simulate "$root/configs/default.yaml" --images "$images" --steps "$steps" -q \
            --set "chip.faults.dead_routers=$routers" --set "chip.faults.dead_links=$links" \
            --set "chip.faults.reroute=$reroute" --json "$tmp/run.json" >/dev/null
        python3 - "$tmp/run.json" "$name" "$reroute" <<'PY'
import json, sys
d, name, reroute = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
f = d["faults"]
wanted = f["deliveries_owed"] + f["undeliverable"]
print(f"| {name} | {reroute} | {len(f['undeliverable_routes']):,} | {f['undeliverable']:,} | "
      f"{100 * f['undeliverable'] / wanted:.3f}% | {d['counters']['hops']:,} | {1e3 * d['latency_s_per_image']:.3f} ms |")
PY
    done
done
