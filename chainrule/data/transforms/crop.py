"""Pad-and-random-crop: the CIFAR augmentation of He et al. (pad 4, crop 32x32 at random)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.backend import get_rng
from chainrule.data.transforms._layout import from_nchw, map_images, to_nchw
from chainrule.data.transforms.affine import FILL_MODES

__all__ = ["pad", "random_crop", "RandomCrop"]

_NP_MODES = {"constant": "constant", "nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def _pad_nchw(x: np.ndarray, padding: int, fill_mode: str, cval: float) -> np.ndarray:
    if fill_mode not in FILL_MODES:
        raise ValueError(f"pad: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}.")
    if padding < 0:
        raise ValueError(f"pad: padding must be >= 0, got {padding}.")
    widths = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    mode = _NP_MODES[fill_mode]
    if mode == "constant":
        fill = np.asarray(cval).astype(x.dtype)
        return np.pad(x, widths, mode="constant", constant_values=fill)
    return np.pad(x, widths, mode=mode)


def pad(
    images: Any,
    padding: int,
    fill_mode: str = "constant",
    cval: float = 0.0,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Pad every image by ``padding`` pixels on each side, filled as in `apply_affine`."""
    x, layout = to_nchw(images, data_format, "pad")
    return from_nchw(_pad_nchw(x, padding, fill_mode, cval), layout)


def random_crop(
    images: Any,
    padding: int = 4,
    size: tuple[int, int] | None = None,
    fill_mode: str = "constant",
    cval: float = 0.0,
    rng: np.random.Generator | None = None,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Pad each image, then cut a window at an independent random position per image.

    Args:
        images: a batch.
        padding: pixels added on every side before cropping.
        size: ``(height, width)`` of the crop; default: the input size.
        fill_mode: how the padding is filled (``"constant"``, ``"nearest"``, ``"reflect"``,
            ``"wrap"``).
        cval: the constant fill value.
        rng: random source; default: the package generator.
        data_format: ``"NCHW"`` or ``"NHWC"``.
    """
    rng = rng if rng is not None else get_rng()
    x, layout = to_nchw(images, data_format, "random_crop")
    n, _, h, w = x.shape
    ch, cw = (h, w) if size is None else (int(size[0]), int(size[1]))
    padded = _pad_nchw(x, padding, fill_mode, cval)
    ph, pw = padded.shape[2], padded.shape[3]
    if ch > ph or cw > pw or ch < 1 or cw < 1:
        raise ValueError(
            f"random_crop: crop size {(ch, cw)} must be positive and fit the padded size "
            f"{(ph, pw)}."
        )
    oy = rng.integers(0, ph - ch + 1, size=n)
    ox = rng.integers(0, pw - cw + 1, size=n)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (ch, cw), axis=(2, 3))
    out = windows[np.arange(n), :, oy, ox]  # (n, C, ch, cw)
    return from_nchw(np.ascontiguousarray(out), layout)


class RandomCrop:
    """Batch transform: pad-and-random-crop; labels pass through unchanged.

    Args:
        padding: pixels added on every side. Default: 4.
        size: crop ``(height, width)``; default: the input size.
        fill_mode: padding fill. Default: ``"constant"``.
        cval: constant fill value. Default: 0.
        data_format: ``"NCHW"`` or ``"NHWC"``.
    """

    def __init__(
        self,
        padding: int = 4,
        size: tuple[int, int] | None = None,
        fill_mode: str = "constant",
        cval: float = 0.0,
        data_format: str = "NCHW",
    ) -> None:
        if fill_mode not in FILL_MODES:
            raise ValueError(
                f"RandomCrop: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}."
            )
        self.padding, self.size, self.fill_mode, self.cval = padding, size, fill_mode, cval
        self.data_format = data_format

    def __call__(self, batch: Any, rng: np.random.Generator | None = None) -> Any:
        rng = rng if rng is not None else get_rng()

        def crop(x: np.ndarray) -> np.ndarray:
            return random_crop(
                x, self.padding, self.size, self.fill_mode, self.cval, rng, self.data_format
            )

        return map_images(batch, crop, "RandomCrop")

    def __repr__(self) -> str:
        return f"RandomCrop(padding={self.padding}, size={self.size}, fill_mode={self.fill_mode!r})"
