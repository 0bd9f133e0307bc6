#!/usr/bin/env bash
# Benchmark of `neuroemu serve` (issue 18; figures in docs/results.md). Not part of the tests.
# (a) input events per second from a loopback client into the running engine (free running) with the outputs
#     going to a subscriber, p50/p99 latency event arrival -> tick start and tick end -> TICK received, against
#     the same events stepped in process (no sockets) and raw loopback UDP, measured in the same run; then a
#     flood (a tick's worth of events for the next tick, back to back: the ingest ceiling, bounded per tick);
#     (each throughput figure the best of 3 alternated runs of SECONDS: the machine may be shared);
# (b) 1 ms real-time pacing of the shipped ResNet-20 on streamed Fashion-MNIST Poisson input: deadline misses.
# Usage: bench/serve.sh [SECONDS=1] [PACING_TICKS=5000] [CONFIG=configs/default.yaml]  (BUILD=dir picks a build;
#        JSON=file also writes the figures)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-1}"
ticks="${2:-5000}"
config="${3:-$root/configs/default.yaml}"
build="${BUILD:-$root/build}"
exe="$build/bench/serve_bench"
[ -x "$exe" ] || cmake --build "$build" -j2 --target serve_bench >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$exe" "$config" --seconds "$seconds" --flood --pacing-ticks "$ticks" --tick-us 1000 ${JSON:+--json "$JSON"}
