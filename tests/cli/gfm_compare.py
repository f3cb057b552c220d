#!/usr/bin/python3
"""Compares the model tensors of two .gfm files (model/checkpoint.h layout):
same names and shapes, and every element within ATOL + RTOL*|b|. Prints the
largest difference; exit 0 when within, 1 when not, 2 on a malformed file.

Usage: gfm_compare.py A.gfm B.gfm ATOL [RTOL]"""
import struct
import sys

import numpy as np


def tensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89GFM\r\n\x1a\n":
        sys.exit(f"{path}: not a .gfm file")
    n_tensors = struct.unpack_from("<I", data, 24)[0]
    records_len = struct.unpack_from("<Q", data, 48)[0]
    pos = 56 + records_len + 4
    out = {}
    for _ in range(n_tensors):
        name_len, ndim = struct.unpack_from("<HH", data, pos)
        pos += 4
        name = data[pos:pos + name_len].decode()
        pos += name_len
        shape = struct.unpack_from(f"<{ndim}q", data, pos)
        pos += 8 * ndim
        n = int(np.prod(shape))
        out[name] = np.frombuffer(data, "<f4", n, pos).reshape(shape)
        pos += 4 * n + 4
    return out


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
    atol = float(sys.argv[3])
    rtol = float(sys.argv[4]) if len(sys.argv) == 5 else 0.0
    if list(a) != list(b):
        print(f"tensor names differ: {list(a)} / {list(b)}")
        return 1
    worst, where = 0.0, ""
    bad = 0
    for name in a:
        if a[name].shape != b[name].shape:
            print(f"{name}: shape {a[name].shape} / {b[name].shape}")
            return 1
        d = np.abs(a[name].astype(np.float64) - b[name])
        lim = atol + rtol * np.abs(b[name].astype(np.float64))
        bad += int(np.count_nonzero(d > lim))
        if d.size and d.max() > worst:
            worst, where = float(d.max()), name
    n = sum(t.size for t in a.values())
    print(f"{n} parameters, largest difference {worst:.3g} ({where or 'none'}), {bad} beyond {atol:g} + {rtol:g}*|b|")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
