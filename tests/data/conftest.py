"""Fixtures for the data tests: the shared data folder, file encoders, an isolated cache."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def _shared_root() -> Path:
    env = os.environ.get("CHAINRULE_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The project's shared data folder; the test is skipped when it is absent."""
    root = _shared_root()
    if not root.is_dir():
        pytest.skip(f"shared data folder {root} is absent")
    return root.resolve()


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the user's cache and data folders."""
    base = tmp_path_factory.mktemp("chainrule-env")
    monkeypatch.setenv("CHAINRULE_CACHE", str(base / "cache"))
    monkeypatch.setenv("CHAINRULE_DATA", str(base / "data"))


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as an IDX file (uint8, int8, int16, int32, float32, float64)."""
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[array.dtype.str[1:]]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.fixture
def make_idx() -> Callable[..., bytes]:
    return idx_bytes


def _filter_row(kind: int, row: np.ndarray, prior: np.ndarray, bpp: int) -> np.ndarray:
    x = row.astype(np.int32)
    b = prior.astype(np.int32)
    a = np.concatenate([np.zeros(bpp, np.int32), x[:-bpp]])
    c = np.concatenate([np.zeros(bpp, np.int32), b[:-bpp]])
    if kind == 0:
        pred = np.zeros_like(x)
    elif kind == 1:
        pred = a
    elif kind == 2:
        pred = b
    elif kind == 3:
        pred = (a + b) // 2
    else:
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
    return ((x - pred) & 0xFF).astype(np.uint8)


def png_bytes(
    pixels: np.ndarray,
    filters: Callable[[int], int] | int = 0,
    color_type: int | None = None,
    palette: np.ndarray | None = None,
    interlace: int = 0,
) -> bytes:
    """A minimal PNG encoder for tests: 8-bit, chosen filter type per row."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if color_type is None:
        color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = pixels.reshape(h, w * channels)
    raw = bytearray()
    prior = np.zeros(w * channels, np.uint8)
    for r in range(h):
        kind = filters(r) if callable(filters) else filters
        raw.append(kind)
        raw += _filter_row(kind, rows[r], prior, channels).tobytes()
        prior = rows[r]

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, interlace))
    if palette is not None:
        out += chunk(b"PLTE", np.asarray(palette, np.uint8).tobytes())
    out += chunk(b"IDAT", zlib.compress(bytes(raw)))
    return out + chunk(b"IEND", b"")


@pytest.fixture
def make_png() -> Callable[..., bytes]:
    return png_bytes


@pytest.fixture
def gz() -> Callable[[bytes], bytes]:
    return lambda data: gzip.compress(data, mtime=0)
