"""The IDX file format (MNIST's), plain or gzip-compressed."""

from __future__ import annotations

import gzip
import math
import struct
import zlib

import numpy as np

from ..errors import DataFormatError
from ..validation import check_path

__all__ = ["read_idx"]

#: IDX type codes -> big-endian NumPy dtypes (the format stores everything big-endian).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path):
    """The (decompressed, for ``.gz``) bytes of ``path``; a broken gzip is a DataFormatError."""
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFormatError(f"{str(path)!r} is not a valid gzip file ({exc})") from None
    return path.read_bytes()


def read_idx(path):
    """Read one IDX file (the MNIST format), plain or gzip-compressed.

    The header is two zero bytes, a type code (``0x08`` unsigned byte,
    ``0x09`` signed byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32,
    ``0x0E`` float64), the number of dimensions, then each dimension as a
    big-endian uint32; the data follow in row-major, big-endian order.

    Parameters
    ----------
    path : str or os.PathLike
        The file; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    numpy.ndarray
        Of the stored shape, in native byte order (``uint8`` for MNIST).

    Raises
    ------
    DataFormatError
        A wrong magic number, an unknown type code, a truncated header or
        data, or trailing bytes; the message names the file.
    DataNotFoundError
        ``path`` does not exist.
    """
    path = check_path("path", path, what="IDX file")
    raw = _read_bytes(path)
    name = repr(str(path))
    if len(raw) < 4:
        raise DataFormatError(f"{name} is truncated: {len(raw)} bytes, too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _IDX_DTYPES:
        raise DataFormatError(
            f"{name} is not an IDX file: wrong magic number 0x{raw[:4].hex()} (expected 0x0000 "
            f"followed by a type code in {sorted(hex(c) for c in _IDX_DTYPES)} and the rank, "
            "e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    if ndim == 0:
        raise DataFormatError(f"{name} declares 0 dimensions; an IDX file needs at least one")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(
            f"{name} is truncated: its header declares {ndim} dimensions ({header} bytes) "
            f"but the file has {len(raw)} bytes"
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    found = len(raw) - header
    if found < expected:
        raise DataFormatError(
            f"{name} is truncated: dimensions {dims} need {expected} bytes of {dtype.name} data "
            f"but only {found} follow the header"
        )
    if found > expected:
        raise DataFormatError(
            f"{name} has {found - expected} unexpected trailing bytes after the {expected} bytes "
            f"of data its dimensions {dims} declare"
        )
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(dims), offset=header)
    return data.reshape(dims).astype(dtype.newbyteorder("="))
