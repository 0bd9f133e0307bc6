#!/usr/bin/env bash
# README command (1): set up, build (Release) and run the main job on the shipped default model.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" "$root/build" -DNEUROEMU_TESTS=OFF
mkdir -p "$root/out"
"$root/build/cli/neuroemu" info "$root/configs/default.yaml" --json "$root/out/info.json"
"$root/build/cli/neuroemu" evaluate "$root/configs/default.yaml" --ann --json "$root/out/evaluate.json"
echo "results: $root/out/info.json, $root/out/evaluate.json"
