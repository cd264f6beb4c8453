"""Shared helpers for batch image transforms: layouts, dtype round-trips, batch structure.

Transforms work on a whole batch at once. Images are ``(N, C, H, W)`` (``"NCHW"``, the
framework's layout), ``(N, H, W, C)`` (``"NHWC"``) or ``(N, H, W)`` (single-channel). A batch may
also be a tuple/list whose first element holds the images (``(images, labels)``) or a dict
with an image entry; only the images change, everything else passes through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["to_nchw", "from_nchw", "restore_dtype", "map_images", "IMAGE_KEYS"]

IMAGE_KEYS = ("image", "images", "x", "input", "inputs")


def to_nchw(images: Any, data_format: str, owner: str) -> tuple[np.ndarray, str]:
    """View ``images`` as ``(N, C, H, W)``; also return the layout tag to undo it."""
    x = np.asarray(images)
    if data_format not in ("NCHW", "NHWC"):
        raise ValueError(f"{owner}: data_format must be 'NCHW' or 'NHWC', got {data_format!r}.")
    if x.ndim == 3:
        return x[:, None], "NHW"
    if x.ndim != 4:
        raise ValueError(
            f"{owner}: expected a batch of images of shape (N, C, H, W), (N, H, W, C) or "
            f"(N, H, W), got shape {x.shape}. Hint: add a batch axis with x[None] for one image."
        )
    if data_format == "NHWC":
        return x.transpose(0, 3, 1, 2), "NHWC"
    return x, "NCHW"


def from_nchw(x: np.ndarray, layout: str) -> np.ndarray:
    """Undo `to_nchw`."""
    if layout == "NHW":
        return x[:, 0]
    if layout == "NHWC":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x


def restore_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast float results back to ``dtype``: integers are rounded and clipped to their range."""
    if values.dtype == dtype:
        return values
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    if dtype == np.bool_:
        return values >= 0.5
    return values.astype(dtype)


def map_images(
    batch: Any, fn: Callable[[np.ndarray], np.ndarray], owner: str, key: str | None = None
) -> Any:
    """Apply ``fn`` to the images of ``batch`` (an array, a tuple/list, or a dict)."""
    if isinstance(batch, Mapping):
        name = key
        if name is None:
            name = next((k for k in IMAGE_KEYS if k in batch), None)
        if name is None or name not in batch:
            raise ValueError(
                f"{owner}: cannot find the images in a dict batch with keys {sorted(batch)}; "
                f"expected one of {IMAGE_KEYS} or pass image_key=."
            )
        out = dict(batch)
        out[name] = fn(np.asarray(batch[name]))
        return out
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise ValueError(f"{owner}: received an empty batch tuple.")
        rest = list(batch[1:])
        first = fn(np.asarray(batch[0]))
        if hasattr(batch, "_fields"):
            return type(batch)(first, *rest)
        return type(batch)([first, *rest])
    return fn(np.asarray(batch))
