#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (issue 20): builds the libFuzzer targets in fuzz/ with clang, ASan and
# UBSan in their own build folder (build-fuzz/), seeds each corpus from the project's real files (fuzz/seeds/,
# tests/data, configs/, traces/, generated IDX/CIFAR/datagram records) and runs each target for SECONDS under
# -rss_limit_mb=2048 -timeout=10. Prints per target: executions, execs/s, coverage (edges), and the crashes,
# leaks, timeouts and out-of-memory kills found (their reproducers are left in build-fuzz/fuzz-artifacts/<target>/;
# minimise with `<target>_fuzz -minimize_crash=1 -runs=100000 FILE` and keep them in tests/data/fuzz/<target>/).
# The corpora stay in build-fuzz/fuzz-corpus/ and grow across runs. Not part of the tests. Needs clang (Debian
# `clang`, whose libclang_rt.fuzzer provides libFuzzer) and protoc (the ONNX seed).
# Usage: bench/fuzz.sh [SECONDS=60] [TARGET...]     (JOBS=2: build parallelism; FUZZ_BUILD=folder; RUNS=N: stop a
# target after N executions, e.g. RUNS=1000000 for the issue's goal, or after SECONDS, whichever comes first)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-60}"
shift || true
all=(onnx snn map nir config sweep idx cifar image datagram control aer)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
build="${FUZZ_BUILD:-$root/build-fuzz}"
command -v clang++ >/dev/null || { echo "bench/fuzz.sh: needs clang++ (apt-get install clang)" >&2; exit 1; }

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEUROEMU_FUZZ=ON -DNEUROEMU_TESTS=OFF \
    "${launcher[@]}" >/dev/null
make -C "$build" -j"${JOBS:-2}" $(printf '%s_fuzz ' "${targets[@]}") >/dev/null

seeds="$build/fuzz-seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{onnx,snn,map,nir,config,sweep,idx,cifar,image,datagram,control,aer}
grep -v '^#' "$root/fuzz/seeds/tiny_resnet.onnx.txt" |
    protoc --encode=onnx.ModelProto -I/usr/include /usr/include/onnx/onnx.proto >"$seeds/onnx/tiny.onnx"
cp "$root/fuzz/seeds/tiny.snn" "$root"/tests/data/snn/*.snn "$seeds/snn/"
cp "$root/fuzz/seeds/tiny.map" "$seeds/map/"
cp "$root"/fuzz/seeds/control/* "$seeds/control/"
cp "$root"/tests/data/nir/*.nir "$seeds/nir/"
cp "$root"/configs/*.yaml "$root"/configs/chips/*.yaml "$root"/configs/sweeps/*.yaml "$root/fuzz/seeds/tiny.yaml" \
    "$seeds/config/" 2>/dev/null || true
cp "$root"/configs/sweeps/*.yaml "$seeds/sweep/"
find "$root/tests/data/fixtures/imagefolder" \( -iname '*.png' -o -iname '*.jp*g' \) -exec cp {} "$seeds/image/" \;
cp "$root"/fuzz/seeds/tiny.aer* "$root"/traces/*.aer* "$seeds/aer/"
python3 - "$seeds" <<'PY'
import struct, sys
s = sys.argv[1]
# config: a file in fuzz/config_fuzz.cpp's schema, then NUL and --set overrides
open(f"{s}/config/schema.yaml", "wb").write(
    b"model:\n  input: a.onnx\n  name: r\n  fold_bn: false\nsim:\n  steps: 8\n  dt_s: 1.0e-4\n  engine: dense\n"
    b"data:\n  shape: [3, 32, 32]\n  mean: [0.5, 0.25, 0.125]\n\0sim.steps=16\ndata.shape=[1,2]\nmodel.fold_bn=yes")
# idx: u32 length of the images file, the images file (2 images 3x3), the labels file
images = struct.pack(">IIII", 0x803, 2, 3, 3) + bytes(range(18))
labels = struct.pack(">II", 0x801, 2) + bytes([3, 7])
open(f"{s}/idx/two.idx", "wb").write(struct.pack("<I", len(images)) + images + labels)
# cifar: two CIFAR-10 records, two CIFAR-100 records
open(f"{s}/cifar/c10.bin", "wb").write(b"".join(bytes([k]) + bytes((k * 7 + i) % 256 for i in range(3072)) for k in (1, 9)))
open(f"{s}/cifar/c100.bin", "wb").write(b"".join(bytes([k, 5 * k]) + bytes(3072) for k in (2, 19)))
# datagrams: header magic "NEEV", version 1, type, flags, sequence, count, tick, aux, reserved; then records
def dg(type_, flags, count, aux, body):
    return struct.pack("<IBBHIIQiI", 0x5645454E, 1, type_, flags, 3, count, 0, aux, 0) + body
open(f"{s}/datagram/events_cyx", "wb").write(dg(1, 0, 2, -1, struct.pack("<HHHHHH", 0, 1, 2, 2, 31, 31)))
open(f"{s}/datagram/events_flat_counts", "wb").write(dg(1, 1 | 2 | 8 | 16, 2, 4, struct.pack("<IHIH", 5, 2, 3071, 9)))
open(f"{s}/datagram/spikes", "wb").write(dg(2, 32, 3, 0, struct.pack("<III", 1, 5, 9)))
open(f"{s}/datagram/tick", "wb").write(dg(3, 0, 2, 0, struct.pack("<QQ", 1, 99)))
open(f"{s}/datagram/classification", "wb").write(dg(4, 0, 4, 7, struct.pack("<IIff", 7, 20, 0.5, -1.0)))
PY

# The file-reading targets write each input to a file: in memory (/dev/shm) when there is one.
tmp="$build/fuzz-tmp"
[ -w /dev/shm ] && tmp="$(mktemp -d /dev/shm/neuroemu-fuzz.XXXXXX)"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

printf '%-9s %12s %9s %8s %6s %8s  %s\n' target executions execs/s "cov" feat corpus "crashes/leaks/timeouts/OOMs"
status=0
for t in "${targets[@]}"; do
    corpus="$build/fuzz-corpus/$t"
    artifacts="$build/fuzz-artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    dict=()
    [ -f "$root/fuzz/dicts/$t.dict" ] && dict=(-dict="$root/fuzz/dicts/$t.dict")
    log="$build/fuzz-$t.log"
    # libhdf5 (uninstrumented) asks malloc for whatever size a damaged object header states and handles a null
    # answer; ASan would report the request itself. A size our own code asks for still fails as an uncaught
    # std::bad_alloc, and over 2 GiB as libFuzzer's out-of-memory.
    asan="${ASAN_OPTIONS:-}"
    [ "$t" = nir ] && asan="allocator_may_return_null=1${asan:+:$asan}"
    set +e
    (TMPDIR="$tmp" ASAN_OPTIONS="$asan" LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp" "$build/fuzz/${t}_fuzz" -max_total_time="$secs" ${RUNS:+-runs="$RUNS"} -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" "$seeds/$t") \
        >"$log" 2>&1
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$line")
    count() { find "$artifacts" -maxdepth 1 -name "$1-*" | wc -l; }
    found="$(count crash)/$(count leak)/$(count timeout)/$(count oom)"
    [ "$found" = "0/0/0/0" ] || status=1
    printf '%-9s %12s %9s %8s %6s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found"
done
[ $status -eq 0 ] || echo "findings: reproducers in $build/fuzz-artifacts/<target>/, logs in $build/fuzz-<target>.log"
exit $status
