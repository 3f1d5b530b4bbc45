"""Read and write IDX files, the simple binary format MNIST ships in.

Layout (all big-endian): two zero bytes, a dtype code byte, a byte with the number of
dimensions n, then n unsigned 32-bit sizes, then the values in C order. Files are often
gzipped; we recognise gzip by its magic bytes, not by the file name.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..files import write_bytes

GZIP_MAGIC = b"\x1f\x8b"

# IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}


class IDXError(ValueError):
    """A file is not a valid IDX file; the message names the file and what is wrong."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def decompress(raw: bytes, path: str | os.PathLike) -> bytes:
    """`raw` gunzipped if it starts with gzip's magic bytes, else `raw` itself."""
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        # BadGzipFile is an OSError; a cut-off stream raises EOFError.
        raise IDXError(path, f"corrupt gzip stream ({e})") from e


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a native-endian, writable NumPy array."""
    with open(path, "rb") as f:
        raw = f.read()
    return decode_idx(decompress(raw, path), path)


def decode_idx(data: bytes, path: str | os.PathLike) -> np.ndarray:
    """Parse the (uncompressed) bytes of an IDX file; `path` only names it in errors."""
    shape, dtype, header = _parse_header(data, path)
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        what = "truncated payload" if found < expected else "payload too long"
        raise IDXError(
            path,
            f"{what}: shape {shape} of {dtype.name} needs {expected} bytes, found {found}",
        )
    # astype copies into native byte order, which also makes the array writable.
    flat = np.frombuffer(data, dtype=dtype, offset=header)
    return flat.reshape(shape).astype(dtype.newbyteorder("="))


def read_idx_shape(path: str | os.PathLike) -> tuple[int, ...]:
    """The shape an IDX file declares, from its header alone (cheap even for big files)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == GZIP_MAGIC else open
    try:
        with opener(path, "rb") as f:
            start = f.read(4)
            rest = f.read(4 * start[3]) if len(start) == 4 else b""
    except (OSError, EOFError, zlib.error) as e:
        raise IDXError(path, f"corrupt gzip stream ({e})") from e
    return _parse_header(start + rest, path)[0]


def _parse_header(data: bytes, path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header size) from the start of an IDX file, or IDXError."""
    if len(data) < 4:
        raise IDXError(path, f"truncated header: expected at least 4 bytes, found {len(data)}")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00":
        raise IDXError(
            path, f"bad magic number: expected the first two bytes 00 00, found {zero.hex(' ')}"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IDXError(path, f"unknown dtype code 0x{code:02X} (expected one of {known})")
    if ndim == 0:
        raise IDXError(path, "number of dimensions is 0 (expected at least 1)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(
            path,
            f"truncated header: {ndim} dimensions need {header} header bytes, found {len(data)}",
        )
    return struct.unpack(f">{ndim}I", data[4:header]), IDX_DTYPES[code], header


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write `array` as an IDX file; gzip it when `compress` is true (default: name ends .gz)."""
    arr = np.asarray(array)
    code = _CODE_OF_KIND.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        names = ", ".join(dt.name for dt in IDX_DTYPES.values())
        raise TypeError(f"write_idx: IDX cannot store dtype {arr.dtype} (use one of: {names})")
    if not 1 <= arr.ndim <= 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got {arr.ndim}")
    if any(n >= 2**32 for n in arr.shape):
        raise ValueError(f"write_idx: every dimension must be < 2**32, got shape {arr.shape}")
    header = struct.pack(f">2sBB{arr.ndim}I", b"\x00\x00", code, arr.ndim, *arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, mtime=0)  # mtime=0: same array, same bytes
    write_bytes(path, payload)
