#!/usr/bin/env python3
"""Prints a neuroemu AER trace (traces/README.md) as text: one line per packet.

Usage: traces/aer_dump.py FILE[.gz] [--limit N]
Columns: tick cycle source layer unit dest (unit: the index (c * H + y) * W + x in the source layer; the layer
shapes are in the mapping, not in the trace). A reference for the format, not a validator.
"""
import argparse
import gzip
import struct
import sys
import zlib


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise ValueError(f"truncated at byte {pos}")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--limit", type=int, default=-1, help="print at most N packets")
    args = ap.parse_args()
    with open(args.file, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic, version, flags, cores, layers, steps, partition, placement = struct.unpack_from("<8sHHIIIQQ", data, 0)
    if magic != b"NEUROAER":
        sys.exit(f"{args.file}: not a neuroemu AER trace")
    print(f"# version {version}, multicast {'tree' if flags & 1 else 'source'}, {cores} cores (host = {cores}), "
          f"{layers} layers, {steps} steps per image, partition {partition:016x}, placement {placement:016x}")
    print("# tick cycle source layer unit dest")
    pos, tick, cycle, n = 40, 0, 0, 0
    while True:
        t, pos = read_varint(data, pos)
        if t == 0:
            ticks, packets, crc = struct.unpack_from("<QQI", data, pos)
            ok = "ok" if zlib.crc32(data[:pos + 16]) == crc else "MISMATCH"
            print(f"# end: {ticks} ticks ({ticks // steps} images), {packets} packets, CRC-32 {crc:08x} {ok}")
            break
        zz = t - 1
        tick += (zz >> 1) ^ -(zz & 1)
        dc, pos = read_varint(data, pos)
        cycle += dc
        source, pos = read_varint(data, pos)
        layer, pos = read_varint(data, pos)
        unit, pos = read_varint(data, pos)
        dest, pos = read_varint(data, pos)
        if args.limit < 0 or n < args.limit:
            print(tick, cycle, source, layer - 1, unit, dest - 1)
        n += 1


if __name__ == "__main__":
    main()
