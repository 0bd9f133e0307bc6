#!/usr/bin/env bash
# Benchmark: the SystemC chip model at ImageNet scale (zoo ResNet-34 and ResNet-50 at 224 x 224, configs/resnet34.yaml
# and configs/resnet50.yaml, about 50,000 and 100,000+ ROLLS-style cores, mapping.traffic=estimate), one image,
# STEPS ticks, against the shipped ResNet-20 (configs/default.yaml, about 300 cores) measured in the same run. For
# each: the hardware simulation's wall time and the CPU time of its thread (`simulate --json`: `seconds`,
# `cpu_seconds`; on a shared machine the wall time includes waiting for a CPU), packet-hops, packet-hops per second
# of each, and the whole command's peak RSS (/usr/bin/time -v). The issue's goal: >= 5 M packet-hops/s on one core
# and <= 4 GB. With --callgrind, also the instructions per packet-hop of the SystemC run alone (callgrind, collected
# inside TickController::run) on ResNet-34 at 64 x 64 (about 3,800 cores) and on ResNet-20: the repeatable figure. Not part of
# the tests.
# Usage: bench/chip_scale.sh [STEPS=2] [--callgrind] [--only resnet34|resnet50]
#   NEUROEMU=path/to/neuroemu picks a build; NEUROEMU_VG=... the build for valgrind (default build-vg/cli/neuroemu,
#   configured with -DNEUROEMU_NATIVE=OFF: valgrind does not know every -march=native instruction).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps=2
callgrind=0
nets=(resnet34 resnet50)
while [ $# -gt 0 ]; do
    case "$1" in
        --callgrind) callgrind=1 ;;
        --only) shift; nets=("$1") ;;
        [0-9]*) steps="$1" ;;
        *) echo "usage: bench/chip_scale.sh [STEPS=2] [--callgrind] [--only resnet34|resnet50]" >&2; exit 2 ;;
    esac
    shift
done
exe="${NEUROEMU:-$root/build/cli/neuroemu}"
vg_exe="${NEUROEMU_VG:-$root/build-vg/cli/neuroemu}"
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
[ -x /usr/bin/time ] || { echo "chip_scale.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

# name config extra-args...: one simulate run, its JSON and /usr/bin/time -v report into $tmp/name.*
run() {
    local name="$1" cfg="$2"
    shift 2
    /usr/bin/time -v -o "$tmp/$name.time" "$exe" simulate "$root/configs/$cfg" --images 1 -q --json "$tmp/$name.json" \
        "$@" >/dev/null
}
run resnet20 default.yaml --steps 16
for net in "${nets[@]}"; do
    run "$net" "$net.yaml" --steps "$steps" --set mapping.traffic=estimate
done

summary() {
    python3 - "$tmp" "$@" <<'PY'
import json, re, sys
tmp, names = sys.argv[1], sys.argv[2:]
def rss_mb(name):
    text = open(f"{tmp}/{name}.time").read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
base = None
for name in names:
    j = json.load(open(f"{tmp}/{name}.json"))
    hops, wall, cpu = j["counters"]["hops"], j["seconds"], j["cpu_seconds"]
    rate_wall, rate_cpu = hops / wall / 1e6, hops / cpu / 1e6
    if base is None:
        base = rate_cpu
    print(f"{name}: {j['chip']['cores']:,} cores ({j['chip']['mesh'][0]} x {j['chip']['mesh'][1]}), "
          f"{j['images']} image x {j['steps']} ticks: {hops:,} packet-hops, {j['counters']['deliveries']:,} deliveries")
    print(f"  simulation {wall:.2f} s wall ({rate_wall:.2f} M packet-hops/s), {cpu:.2f} s CPU "
          f"({rate_cpu:.2f} M packet-hops/s, {rate_cpu / base:.2f} x ResNet-20's); peak RSS {rss_mb(name):,.0f} MB"
          + ("" if name == "resnet20" else " (goal: 5 M/s, 4 GB)"))
PY
}
summary resnet20 "${nets[@]}"

[ "$callgrind" = 1 ] || exit 0
command -v valgrind >/dev/null || { echo "chip_scale.sh: --callgrind needs valgrind" >&2; exit 1; }
[ -x "$vg_exe" ] || { echo "chip_scale.sh: no $vg_exe (configure build-vg with -DNEUROEMU_NATIVE=OFF)" >&2; exit 1; }
# name config args...: instructions inside TickController::run (the SystemC run alone) per packet-hop.
cg() {
    local name="$1" cfg="$2"
    shift 2
    valgrind --tool=callgrind --collect-atstart=no "--toggle-collect=neuroemu::TickController::run(long)" \
        --callgrind-out-file="$tmp/$name.cg" "$vg_exe" simulate "$root/configs/$cfg" --images 1 -q \
        --json "$tmp/$name.cg.json" "$@" >/dev/null 2>"$tmp/$name.cg.log"
    python3 - "$tmp" "$name" <<'PY'
import json, sys
tmp, name = sys.argv[1], sys.argv[2]
ir = 0
for line in open(f"{tmp}/{name}.cg"):
    if line.startswith("summary:") or line.startswith("totals:"):
        ir = int(line.split()[1])
j = json.load(open(f"{tmp}/{name}.cg.json"))
hops = j["counters"]["hops"]
print(f"callgrind {name}: {j['chip']['cores']:,} cores, {hops:,} packet-hops, {ir:,} instructions in the SystemC run: "
      f"{ir / hops:,.0f} per packet-hop")
PY
}
cg resnet20 default.yaml --steps 4
cg resnet34_64 resnet34.yaml --steps 1 --set model.input=[3,64,64] --set mapping.traffic=estimate
