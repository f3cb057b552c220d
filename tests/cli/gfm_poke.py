#!/usr/bin/python3
"""Writes a copy of a .gfm file (model/checkpoint.h layout) with element
INDEX of tensor NAME set to VALUE ('nan', 'inf', '1e10', ...) and that
tensor's CRC32 recomputed: a file whose bytes are intact but whose weights
are not, as a diverged training run would leave. Exit 2 on a bad file.

Usage: gfm_poke.py IN.gfm OUT.gfm NAME INDEX VALUE"""
import struct
import sys
import zlib


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    src, dst, want, index, value = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    data = bytearray(open(src, "rb").read())
    if data[:8] != b"\x89GFM\r\n\x1a\n":
        print(f"{src}: not a .gfm file", file=sys.stderr)
        return 2
    n_tensors = struct.unpack_from("<I", data, 24)[0]
    pos = 56 + struct.unpack_from("<Q", data, 48)[0] + 4
    for _ in range(n_tensors):
        start = pos
        name_len, ndim = struct.unpack_from("<HH", data, pos)
        name = data[pos + 4:pos + 4 + name_len].decode()
        pos += 4 + name_len
        n = 1
        for d in struct.unpack_from(f"<{ndim}q", data, pos):
            n *= d
        pos += 8 * ndim
        if name == want and 0 <= index < n:
            struct.pack_into("<f", data, pos + 4 * index, value)
            struct.pack_into("<I", data, pos + 4 * n, zlib.crc32(bytes(data[start:pos + 4 * n])))
            open(dst, "wb").write(data)
            return 0
        pos += 4 * n + 4
    print(f"{src}: no element {index} in a tensor '{want}'", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
