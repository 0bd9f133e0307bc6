#!/usr/bin/env bash
# The paper's conversion experiments (§4.1-4.2) on our Fashion-MNIST models; results in docs/results.md.
# Usage: scripts/paper_experiments.sh [IMAGES=2000] [OUT=out/exp]
# Each line is one experiment; every result is a --json file that scripts/summarise_experiments.py turns into
# the tables. The models ship in models/ (models/README.md says how they were trained); missing ones are
# skipped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images="${1:-2000}"
out="${2:-$root/out/exp}"
exe="${NEUROEMU:-$root/build/cli/neuroemu}"  # NEUROEMU: another build, e.g. a copy kept while rebuilding
[ -x "$exe" ] || "$root/scripts/setup.sh" "$root/build"
mkdir -p "$out"
run() {  # run NAME MODEL STEPS [--set ...]
    local name="$1" model="$2" steps="$3"
    shift 3
    [ -f "$root/models/${model}_fmnist.onnx" ] || { echo "skip $name: models/${model}_fmnist.onnx not trained"; return; }
    [ -f "$out/$name.json" ] && { echo "have $name"; return; }
    echo "run  $name"
    "$exe" evaluate "$root/configs/default.yaml" --set model.onnx="$root/models/${model}_fmnist.onnx" \
        --steps "$steps" --images "$images" --set simulation.checkpoints=[32,64,128,256,350] -q \
        --json "$out/$name.json" "$@"
}
comp=(--set conversion.compensation.enabled=true --set conversion.compensation.images=300)
residual=(resnet8 resnet20 resnet32 resnet44 resnet56)
plain=(plain20 plain32 plain44 plain56)
# Cheapest-first by table, so that an interrupted run (kill it, run it again later: finished runs are kept)
# has the most complete tables: the paper's method everywhere, then Table 2's ablation, then Table 3's
# compensation runs (each one also fits Table 1's p, q).
for m in "${residual[@]}" "${plain[@]}"; do run "${m}_paper" "$m" 350; done
for m in "${residual[@]}"; do run "${m}_noshortcut" "$m" 350 --set conversion.shortcut_normalisation=false; done
for m in resnet8 resnet20 plain20 resnet32 plain32 resnet44 plain44 resnet56 plain56; do  # shallow first
    run "${m}_comp" "$m" 350 "${comp[@]}"
done
run resnet20_beyond resnet20 350 --set conversion.v_init=0.5 --set conversion.channel_wise=true
run resnet20_beyond_comp resnet20 350 --set conversion.v_init=0.5 --set conversion.channel_wise=true "${comp[@]}"
/usr/bin/python3 "$root/scripts/summarise_experiments.py" "$out"
