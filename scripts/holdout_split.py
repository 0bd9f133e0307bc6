#!/usr/bin/env python3
"""Make a dataset folder whose test split is a slice of another folder's training split (standard library only).

    scripts/holdout_split.py FIRST COUNT OUT_DIR [SRC_DIR]

OUT_DIR gets t10k-{images-idx3,labels-idx1}-ubyte.gz holding training images FIRST .. FIRST+COUNT-1 of SRC_DIR
(default: Debian's /usr/share/datasets/fashion-mnist), and links to SRC_DIR's own training files. Given as
`--set dataset.path=OUT_DIR`, calibration and the ζ search still read the first training images, while
`evaluate` scores a training slice that neither of them saw: a place to choose settings without the test set.
"""
import gzip
import os
import struct
import sys


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 8 or struct.unpack(">I", data[:4])[0] != magic:
        sys.exit(f"{path}: not an IDX file with magic {magic:#x}")
    return data


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    try:
        first, count = int(argv[1]), int(argv[2])
    except ValueError:
        sys.exit(f"FIRST and COUNT must be integers, got '{argv[1]}' and '{argv[2]}'")
    out = argv[3]
    src = argv[4] if len(argv) == 5 else "/usr/share/datasets/fashion-mnist"
    images = read_idx(os.path.join(src, "train-images-idx3-ubyte.gz"), 2051)
    labels = read_idx(os.path.join(src, "train-labels-idx1-ubyte.gz"), 2049)
    n, rows, cols = struct.unpack(">III", images[4:16])
    if first < 0 or count < 1 or first + count > n:
        sys.exit(f"images {first}..{first + count - 1} requested; the training split has 0..{n - 1}")
    size = rows * cols
    os.makedirs(out, exist_ok=True)
    with gzip.open(os.path.join(out, "t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, count, rows, cols))
        f.write(images[16 + first * size:16 + (first + count) * size])
    with gzip.open(os.path.join(out, "t10k-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 2049, count))
        f.write(labels[8 + first:8 + first + count])
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        link = os.path.join(out, name)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.abspath(os.path.join(src, name)), link)
    print(f"{out}: test split = training images {first}..{first + count - 1} of {src}")


if __name__ == "__main__":
    main(sys.argv)
