#!/usr/bin/env bash
# README command (1): set up, build (Release) and run the main job on the shipped default model.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" "$root/build" -DNEUROEMU_TESTS=OFF
out="$root/out"
mkdir -p "$out"
exe="$root/build/cli/neuroemu"
cfg="$root/configs/default.yaml"
"$exe" info "$cfg" --json "$out/info.json"
"$exe" evaluate "$cfg" --ann --json "$out/evaluate.json"
"$exe" convert "$cfg" -o "$out/resnet20.snn" --json "$out/convert.json"
"$exe" map "$cfg" --snn "$out/resnet20.snn" -o "$out/resnet20.map" --json "$out/map.json"
# The report: the S-ResNet for 350 steps on 500 test images, the mapped chip in SystemC on one, energy vs the FPGA.
"$exe" report "$cfg" --snn "$out/resnet20.snn" --steps 350 --images 500 -o "$out/report"
echo "results: $out/info.json, $out/evaluate.json, $out/convert.json, $out/map.json, $out/report/report.json;" \
    "S-ResNet: $out/resnet20.snn; mapping: $out/resnet20.map; report: $out/report/report.html"
