#!/usr/bin/env bash
# ThreadSanitizer run (issue 20): builds neuroemu with -fsanitize=thread in its own folder (build-tsan) and runs what
# is multi-threaded: the spiking engine (evaluate, simulation.threads=2), the sweep runner (explore, a pool of 2),
# and the server (the `serve`-labelled tests: server, session, live page, serve CLI). Any data race ends the run
# (halt_on_error) with the report; "tsan: clean" at the end means none was found.
# Not part of .ci/run (the TSan build of everything would not fit the CI's time budget); its last run is recorded
# in docs/results.md.
# Usage: scripts/tsan.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-tsan}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEUROEMU_TSAN=ON -DNEUROEMU_TESTS=ON >/dev/null
serve_tests=(serve_stepper_tests serve_session_tests serve_session_chip_tests serve_protocol_tests serve_server_tests
             serve_cli_tests live_view_tests page_server_tests live_page_server_tests live_page_cli_tests)
cmake --build "$build" -j"$(nproc)" --target neuroemu "${serve_tests[@]}"
# OpenMPI's own threads (uninstrumented) are outside neuroemu: suppressed by library (tests/tsan.supp).
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp"
exe="$build/cli/neuroemu"
work="$build/tsan-run"
rm -rf "$work" && mkdir -p "$work"

echo "tsan: evaluate, 2 threads"
"$exe" evaluate "$root/configs/default.yaml" -q --images 4 --steps 8 --set conversion.calibration_images=20 \
  --set simulation.threads=2 --set simulation.encoding=poisson

echo "tsan: explore, a pool of 2"
cat > "$work/sweep.yaml" <<YAML
experiment: $root/configs/fmnist/resnet8.yaml
set: {dataset.images: 4, simulation.steps: 4, conversion.calibration_images: 20, mapping.traffic_images: 1,
      chip.noc.chips: 1, chip.noc.height: 16}
mode: hardware
hw_images: 1
grid:
  chip.noc.width: [4, 17]
  chip.noc.multicast: [tree, source]
YAML
"$exe" explore "$work/sweep.yaml" -o "$work/sweep.out" --jobs 2 -q

echo "tsan: the server's tests"
for t in "${serve_tests[@]}"; do
  echo "tsan: $t"
  (cd "$build/tests" && "./$t" --gtest_brief=1)
done
echo "tsan: clean"
