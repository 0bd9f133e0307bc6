#!/bin/bash
# Train several Fashion-MNIST nets at once, one process each, and keep a log per
# net. Used to train the deeper nets of the paper experiments on a GPU machine:
#   scripts/train_parallel.sh DATA_DIR OUT_DIR DEVICE EPOCHS ARCH...
# e.g. scripts/train_parallel.sh /usr/share/datasets/fashion-mnist out/gpu cuda 12 \
#        resnet32 resnet44 resnet56 plain20 plain32 plain44 plain56
# Each net writes OUT_DIR/<arch>_fmnist.pt, .train.json and .log (--skip-export);
# export the ONNX files here with Debian's torch:
#   /usr/bin/python3 scripts/train_fmnist.py --arch ARCH --from-pt OUT_DIR/ARCH_fmnist.pt
# PYTHON picks the interpreter (default python3).
set -u
data=$1 out=$2 device=$3 epochs=$4; shift 4
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
pids=()
for arch in "$@"; do
    ${PYTHON:-python3} -u "$here/train_fmnist.py" --arch "$arch" --epochs "$epochs" \
        --device "$device" --data-dir "$data" --out-dir "$out" --skip-export \
        >"$out/${arch}_fmnist.log" 2>&1 &
    pids+=($!)
done
rc=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "train_parallel: ${*:$((i + 1)):1} failed; see its log" >&2
        rc=1
    fi
done
exit $rc
