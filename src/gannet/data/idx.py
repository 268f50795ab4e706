"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al.), gzip-compressed or raw.

An IDX file is a big-endian header, magic ``00 00 <type> <ndim>``, then ``ndim`` 32-bit sizes,
then the data. MNIST images are type 0x08 (uint8) with 3 dimensions, labels type 0x08 with 1.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from gannet.data.errors import DataError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_bytes(path: Path) -> bytes:
    """Return the file's decompressed content (``.gz`` or raw)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise DataError(f"{path}: corrupt or truncated gzip file ({err})") from None
    return raw


def parse_idx(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX content into an array, checking the magic number, dimensions and size."""
    if len(content) < 4:
        raise DataError(f"{source}: too short to be an IDX file ({len(content)} bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or type_code not in _DTYPES or ndim == 0:
        raise DataError(f"{source}: bad IDX magic number 0x{content[:4].hex()} (expected 0x0000 then type and ndim)")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{source}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", content[4:header])
    dtype = np.dtype(_DTYPES[type_code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(content) != expected:
        raise DataError(
            f"{source}: header says shape {tuple(shape)} ({expected} bytes) but the file has {len(content)} bytes"
            + (" (truncated)" if len(content) < expected else " (trailing data)")
        )
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file; if ``ndim`` is given, check the number of dimensions."""
    path = Path(path)
    array = parse_idx(read_bytes(path), str(path))
    if ndim is not None and array.ndim != ndim:
        raise DataError(f"{path}: expected a {ndim}-dimensional IDX array, got shape {array.shape}")
    return array


def write_idx(path: str | Path, array: np.ndarray, compress: bool = True) -> None:
    """Write a uint8 array as IDX (used by tests and tools that make small datasets)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    content = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    content += array.tobytes()
    Path(path).write_bytes(gzip.compress(content) if compress else content)
