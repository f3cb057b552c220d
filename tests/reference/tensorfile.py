"""Reader and writer of genoformer's tiny tensor-file format (tests/reftensor.h is
the C twin), used to pass test cases and reference results between the C tests
and the PyTorch reference.

    "GFTS" | u32 version (1) | u32 count
    count x { u16 name length | name | u8 dtype | u8 ndim | i64 dims[ndim] | data }

All integers and data little-endian; data is the row-major array of
prod(dims) elements. dtype: 0 f32, 1 i32, 2 u8, 3 f64, 4 u64.
"""

import struct

import numpy as np

MAGIC = b"GFTS"
VERSION = 1
DTYPES = {0: np.float32, 1: np.int32, 2: np.uint8, 3: np.float64, 4: np.uint64}
CODES = {np.dtype(t): c for c, t in DTYPES.items()}


def read(path):
    """Returns an ordered dict name -> numpy array."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != MAGIC:
        raise ValueError(f"{path}: not a GFTS tensor file")
    version, count = struct.unpack_from("<II", buf, 4)
    if version != VERSION:
        raise ValueError(f"{path}: tensor-file version {version}, expected {VERSION}")
    pos = 12
    out = {}
    for i in range(count):
        (nlen,) = struct.unpack_from("<H", buf, pos)
        pos += 2
        name = buf[pos:pos + nlen].decode()
        pos += nlen
        code, ndim = struct.unpack_from("<BB", buf, pos)
        pos += 2
        if code not in DTYPES:
            raise ValueError(f"{path}: entry {i} ({name}): unknown dtype {code}")
        dims = struct.unpack_from(f"<{ndim}q", buf, pos)
        pos += 8 * ndim
        dt = np.dtype(DTYPES[code]).newbyteorder("<")
        n = int(np.prod(dims, dtype=np.int64))
        if pos + n * dt.itemsize > len(buf):
            raise ValueError(f"{path}: entry {i} ({name}): truncated data")
        out[name] = np.frombuffer(buf, dtype=dt, count=n, offset=pos).reshape(dims).copy()
        pos += n * dt.itemsize
    if pos != len(buf):
        raise ValueError(f"{path}: {len(buf) - pos} trailing bytes")
    return out


def write(path, tensors):
    """Writes name -> array (anything np.asarray takes, of a supported dtype)."""
    parts = [MAGIC, struct.pack("<II", VERSION, len(tensors))]
    for name, value in tensors.items():
        a = np.ascontiguousarray(value)
        if a.dtype not in CODES:
            raise ValueError(f"{name}: unsupported dtype {a.dtype}")
        nb = name.encode()
        parts.append(struct.pack("<H", len(nb)) + nb)
        parts.append(struct.pack("<BB", CODES[a.dtype], a.ndim))
        parts.append(struct.pack(f"<{a.ndim}q", *a.shape))
        parts.append(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
    with open(path, "wb") as f:
        f.write(b"".join(parts))
