#!/usr/bin/env bash
# README command (2): set up, build and run every test, then again under AddressSanitizer + UBSan.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" "$root/build"
(cd "$root/build" && ctest --output-on-failure -j"$(nproc)")
"$root/scripts/setup.sh" "$root/build-asan" -DNEUROEMU_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$root/tests/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$(nproc)")
echo "neuroemu: all tests passed (Release and ASan+UBSan)"
