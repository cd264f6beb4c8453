"""A small PNG decoder (no Pillow): 8-bit gray, gray+alpha, RGB, RGBA and palette images.

PNG stores rows, each prefixed by a filter byte (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth), deflate-
compressed across the IDAT chunks. Sub is a running sum along the row and Up a sum with the row
above, so both are vectorised with NumPy; Average and Paeth depend on the reconstructed left
neighbour and run as a loop over the row's bytes. Interlaced images and bit depths other than 8
are refused with a clear error.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["decode_png", "read_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


def _paeth_row(row: np.ndarray, prior: np.ndarray, bpp: int) -> np.ndarray:
    """Undo the Paeth filter: add whichever of left a, up b, up-left c is nearest to a + b - c.

    With p = a + b - c: |p - a| = |b - c| is known before the loop, |p - b| = |a - c| and
    |p - c| = |a - c + b - c|, so the loop only touches Python ints.
    """
    b = prior.astype(np.int32)
    c = np.concatenate([np.zeros(bpp, np.int32), b[:-bpp]])
    d = b - c
    pa_all, d_all, b_all, c_all = np.abs(d).tolist(), d.tolist(), b.tolist(), c.tolist()
    x = row.tolist()
    out = [0] * len(x)
    for i in range(min(bpp, len(x))):
        out[i] = (x[i] + b_all[i]) & 0xFF  # a = c = 0 on the left edge, so b is nearest
    for i in range(bpp, len(x)):
        a = out[i - bpp]
        ac = a - c_all[i]
        pb = ac if ac >= 0 else -ac
        pc = ac + d_all[i]
        if pc < 0:
            pc = -pc
        pa = pa_all[i]
        if pa <= pb and pa <= pc:
            out[i] = (x[i] + a) & 0xFF
        elif pb <= pc:
            out[i] = (x[i] + b_all[i]) & 0xFF
        else:
            out[i] = (x[i] + c_all[i]) & 0xFF
    return np.asarray(out, dtype=np.uint8)


def _average_row(row: np.ndarray, prior: np.ndarray, bpp: int) -> np.ndarray:
    """Undo the Average filter: add floor((left + up) / 2)."""
    x, up = row.tolist(), prior.tolist()
    out = [0] * len(x)
    for i in range(min(bpp, len(x))):
        out[i] = (x[i] + (up[i] >> 1)) & 0xFF
    for i in range(bpp, len(x)):
        out[i] = (x[i] + ((out[i - bpp] + up[i]) >> 1)) & 0xFF
    return np.asarray(out, dtype=np.uint8)


def _unfilter(raw: bytes, height: int, stride: int, bpp: int, name: str) -> np.ndarray:
    """Reconstruct the (height, stride) byte image from the filtered scanlines."""
    if len(raw) != height * (stride + 1):
        raise ValueError(
            f"{name}: PNG image data holds {len(raw)} bytes; expected {height * (stride + 1)} "
            f"({height} rows of 1 filter byte + {stride} bytes). The file is truncated or corrupt."
        )
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1)
    filters = rows[:, 0]
    bad = np.flatnonzero(filters > 4)
    if bad.size:
        raise ValueError(
            f"{name}: row {int(bad[0])} has filter type {int(filters[bad[0]])}; PNG defines 0-4."
        )
    out = rows[:, 1:].copy()
    prior = np.zeros(stride, dtype=np.uint8)
    for r in range(height):
        kind = filters[r]
        row = out[r]
        if kind == 1:
            row[:] = np.cumsum(row.reshape(-1, bpp), axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:
            row += prior
        elif kind == 3:
            row[:] = _average_row(row, prior, bpp)
        elif kind == 4:
            row[:] = _paeth_row(row, prior, bpp)
        prior = row
    return out


def decode_png(data: bytes, name: str = "<png>") -> np.ndarray:
    """Decode PNG bytes into a uint8 array.

    Args:
        data: the file contents.
        name: file name used in error messages.

    Returns:
        ``(H, W)`` for gray, ``(H, W, 2)`` gray+alpha, ``(H, W, 3)`` RGB and palette images,
        ``(H, W, 4)`` RGBA (palette images with transparency stay RGB).

    Raises:
        ValueError: not a PNG, a CRC error, or an unsupported variant (interlaced, not 8-bit).
    """
    if data[:8] != _SIGNATURE:
        raise ValueError(f"{name}: not a PNG file (the 8-byte signature is {data[:8]!r}).")
    pos, header, palette, idat = 8, None, None, []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        crc_bytes = data[pos + 8 + length : pos + 12 + length]
        if len(body) != length or len(crc_bytes) != 4:
            raise ValueError(f"{name}: PNG chunk {kind!r} is truncated at byte {pos}.")
        if zlib.crc32(kind + body) != struct.unpack(">I", crc_bytes)[0]:
            raise ValueError(f"{name}: CRC mismatch in PNG chunk {kind!r} at byte {pos}.")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        raise ValueError(f"{name}: PNG has no IHDR or no IDAT chunk; the file is truncated.")
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in _CHANNELS or interlace != 0:
        raise ValueError(
            f"{name}: unsupported PNG variant (bit depth {depth}, colour type {color}, interlace "
            f"{interlace}); this decoder reads 8-bit, non-interlaced gray/RGB/RGBA/palette images."
        )
    if color == 3 and palette is None:
        raise ValueError(f"{name}: palette PNG without a PLTE chunk.")
    channels = _CHANNELS[color]
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as err:
        raise ValueError(f"{name}: broken PNG image data ({err}).") from err
    pixels = _unfilter(raw, height, width * channels, channels, name)
    if color == 3:
        return palette[pixels.reshape(height, width)]
    if channels == 1:
        return pixels.reshape(height, width)
    return pixels.reshape(height, width, channels)


def read_png(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG file into a uint8 array (see `decode_png`)."""
    path = Path(path)
    return decode_png(path.read_bytes(), str(path))
