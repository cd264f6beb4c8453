"""Shared pieces of the `chainrule` command tests: a tiny PNG writer and a quick training run."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from chainrule.cli import main

# A run small enough for tests: the MLP on 128 sample images, 4 steps per epoch.
QUICK = ["--model", "mlp", "--sample", "--limit", "128", "--batch-size", "32", "--quiet"]


def write_png(path: Path, pixels: np.ndarray) -> Path:
    """Write uint8 ``(H, W)`` gray or ``(H, W, 3)`` RGB pixels as a PNG (filter 0, one IDAT)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    color = 0 if pixels.ndim == 2 else 2
    rows = pixels.reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
    path.write_bytes(data + chunk(b"IEND", b""))
    return path


def train_run(out: Path, *extra: str) -> int:
    """``chainrule train`` on the quick setting, writing the run folder ``out``."""
    return main(["train", *QUICK, "--out", str(out), *extra])
