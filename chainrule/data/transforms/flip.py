"""Flips: deterministic mirrors and a random per-image flip transform."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.backend import get_rng
from chainrule.data.transforms._layout import from_nchw, map_images, to_nchw

__all__ = ["hflip", "vflip", "random_flip", "RandomFlip"]


def hflip(images: Any, data_format: str = "NCHW") -> np.ndarray:
    """Mirror every image left-right (an involution: ``hflip(hflip(x)) == x``)."""
    x, layout = to_nchw(images, data_format, "hflip")
    return from_nchw(np.ascontiguousarray(x[..., ::-1]), layout)


def vflip(images: Any, data_format: str = "NCHW") -> np.ndarray:
    """Mirror every image top-bottom (an involution)."""
    x, layout = to_nchw(images, data_format, "vflip")
    return from_nchw(np.ascontiguousarray(x[..., ::-1, :]), layout)


def random_flip(
    images: Any,
    horizontal: bool = True,
    vertical: bool = False,
    p: float = 0.5,
    rng: np.random.Generator | None = None,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Flip each image independently with probability ``p`` (left-right and/or top-bottom).

    Args:
        images: a batch (see `chainrule.data.transforms`).
        horizontal: allow left-right flips.
        vertical: allow top-bottom flips (decided independently).
        p: probability of each flip.
        rng: random source; default: the package generator.
        data_format: ``"NCHW"`` or ``"NHWC"``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"random_flip: p must lie in [0, 1], got {p}.")
    rng = rng if rng is not None else get_rng()
    x, layout = to_nchw(images, data_format, "random_flip")
    out = x
    n = x.shape[0]
    if horizontal:
        mask = rng.random(n) < p
        out = np.where(mask[:, None, None, None], out[..., ::-1], out)
    if vertical:
        mask = rng.random(n) < p
        out = np.where(mask[:, None, None, None], out[..., ::-1, :], out)
    if out is x:
        out = x.copy()
    return from_nchw(out, layout)


class RandomFlip:
    """Batch transform: random per-image flips; labels pass through unchanged.

    Args:
        horizontal: allow left-right flips. Default: True.
        vertical: allow top-bottom flips. Default: False.
        p: probability of each flip. Default: 0.5.
        data_format: ``"NCHW"`` or ``"NHWC"``.
    """

    def __init__(
        self,
        horizontal: bool = True,
        vertical: bool = False,
        p: float = 0.5,
        data_format: str = "NCHW",
    ) -> None:
        self.horizontal, self.vertical, self.p, self.data_format = (
            horizontal,
            vertical,
            p,
            data_format,
        )

    def __call__(self, batch: Any, rng: np.random.Generator | None = None) -> Any:
        rng = rng if rng is not None else get_rng()
        return map_images(
            batch,
            lambda x: random_flip(x, self.horizontal, self.vertical, self.p, rng, self.data_format),
            "RandomFlip",
        )

    def __repr__(self) -> str:
        return f"RandomFlip(horizontal={self.horizontal}, vertical={self.vertical}, p={self.p})"
