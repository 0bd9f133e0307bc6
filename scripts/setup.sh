#!/usr/bin/env bash
# Installs neuroemu's build dependencies (Debian 12, as root) and builds it. Sourced by main.sh and test.sh.
# Usage: scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(build-essential cmake pkg-config libsystemc-dev libyaml-cpp-dev libfmt-dev libboost-dev libgtest-dev
          libgmock-dev libbenchmark-dev libonnx-dev libprotobuf-dev protobuf-compiler libcli11-dev libopenmpi-dev
          openmpi-bin nlohmann-json3-dev libeigen3-dev zlib1g-dev dataset-fashion-mnist
          libjpeg62-turbo-dev libpng-dev   # image dataset readers: JPEG and PNG decoding
          libhdf5-dev python3-h5py   # NIR files (HDF5); h5py: the tests' independent reader of them
          gtkwave   # gtkwave: vcd2fst/fst2vcd for the VCD round-trip test
          python3   # the serve Python client's tests (standard library only)
          chromium)  # the report's and the live page's browser tests: headless screenshot of report.html, decoded with libpng
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "neuroemu setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
build="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
