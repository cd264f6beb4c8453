"""Normalisation: scale integers to [0, 1] floats and standardise each channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.backend import default_dtype
from chainrule.data.transforms._layout import from_nchw, map_images, to_nchw

__all__ = ["to_float", "normalize", "channel_stats", "ToFloat", "Normalize"]


def to_float(images: Any, scale: float | None = None, dtype: Any = None) -> np.ndarray:
    """Convert to floats; integer images are divided by their maximum (255 for uint8) by default.

    Example:
        >>> to_float(np.array([[0, 255]], dtype=np.uint8)).tolist()
        [[0.0, 1.0]]
    """
    x = np.asarray(images)
    out_dtype = default_dtype() if dtype is None else np.dtype(dtype)
    if scale is None:
        scale = 1.0 / np.iinfo(x.dtype).max if np.issubdtype(x.dtype, np.integer) else 1.0
    return (x.astype(out_dtype) * out_dtype.type(scale)).astype(out_dtype, copy=False)


def channel_stats(images: Any, data_format: str = "NCHW") -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of a batch (computed in float64)."""
    x, _ = to_nchw(images, data_format, "channel_stats")
    x = x.astype(np.float64)
    return x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3))


def normalize(
    images: Any,
    mean: float | Sequence[float],
    std: float | Sequence[float],
    data_format: str = "NCHW",
    dtype: Any = None,
) -> np.ndarray:
    """``(x - mean) / std`` per channel, as floats (the default dtype unless given).

    Args:
        images: a batch; integers are used as they are (apply `to_float` first to work in
            [0, 1]).
        mean: one value, or one per channel.
        std: one value, or one per channel (all non-zero).
        data_format: ``"NCHW"`` or ``"NHWC"``.
        dtype: result dtype.
    """
    x, layout = to_nchw(images, data_format, "normalize")
    out_dtype = default_dtype() if dtype is None else np.dtype(dtype)
    m = np.asarray(mean, dtype=out_dtype).reshape(-1)
    s = np.asarray(std, dtype=out_dtype).reshape(-1)
    c = x.shape[1]
    for name, v in (("mean", m), ("std", s)):
        if v.size not in (1, c):
            raise ValueError(
                f"normalize: {name} needs 1 or {c} values (one per channel), got {v.size}."
            )
    if np.any(s == 0):
        raise ValueError(f"normalize: std must be non-zero, got {s.tolist()}.")
    out = (x.astype(out_dtype) - m[None, :, None, None]) / s[None, :, None, None]
    return from_nchw(out, layout)


class ToFloat:
    """Batch transform: `to_float` on the images; labels pass through unchanged."""

    def __init__(self, scale: float | None = None, dtype: Any = None) -> None:
        self.scale, self.dtype = scale, dtype

    def __call__(self, batch: Any) -> Any:
        return map_images(batch, lambda x: to_float(x, self.scale, self.dtype), "ToFloat")

    def __repr__(self) -> str:
        return f"ToFloat(scale={self.scale})"


class Normalize:
    """Batch transform: `normalize` on the images; labels pass through unchanged.

    Example:
        >>> Normalize(0.5, 0.5)(np.ones((1, 1, 2, 2))).tolist()
        [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(
        self, mean: float | Sequence[float], std: float | Sequence[float], data_format: str = "NCHW"
    ) -> None:
        self.mean, self.std, self.data_format = mean, std, data_format

    def __call__(self, batch: Any) -> Any:
        return map_images(
            batch, lambda x: normalize(x, self.mean, self.std, self.data_format), "Normalize"
        )

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"
