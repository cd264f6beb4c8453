"""`ImageAugmenter`: Keras-ImageDataGenerator-style random augmentation of whole batches.

Every image of a batch gets its own random rotation, shifts, shear, zoom and flips; all of them
are folded into one inverse map per image, so the batch is warped with a single vectorised
gather (see `chainrule.data.transforms.affine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.backend import get_rng
from chainrule.data.transforms._layout import map_images, to_nchw
from chainrule.data.transforms.affine import (
    FILL_MODES,
    INTERPOLATIONS,
    affine_matrices,
    apply_affine,
    flip_matrices,
)

__all__ = ["ImageAugmenter", "AugmentParams"]


@dataclass
class AugmentParams:
    """The random draws for one batch (one entry per image); see `ImageAugmenter.sample`."""

    rotation: np.ndarray
    shift_y: np.ndarray
    shift_x: np.ndarray
    shear: np.ndarray
    zoom_y: np.ndarray
    zoom_x: np.ndarray
    flip_horizontal: np.ndarray
    flip_vertical: np.ndarray


def _range(value: Any, name: str) -> float:
    v = float(value)
    if v < 0:
        raise ValueError(f"ImageAugmenter: {name} must be >= 0, got {value}.")
    return v


class ImageAugmenter:
    """Random affine augmentation of image batches, usable as a `DataLoader` batch transform.

    Args:
        rotation_range: degrees; each image rotates by U(-r, r).
        width_shift_range: below 1, a fraction of the width (shift U(-r*W, r*W) pixels); from 1
            on, whole pixels drawn from the integers in [-r, r].
        height_shift_range: the same for the height.
        shear_range: degrees; shear angle U(-s, s).
        zoom_range: ``z`` for factors U(1-z, 1+z), or a pair ``(low, high)``; drawn separately
            for rows and columns. A factor above 1 enlarges the content (zooms in).
        horizontal_flip: mirror left-right with probability 1/2.
        vertical_flip: mirror top-bottom with probability 1/2.
        fill_mode: ``"constant"``, ``"nearest"`` (default, as in Keras), ``"reflect"`` or
            ``"wrap"``.
        cval: fill value for ``"constant"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        data_format: ``"NCHW"`` (default) or ``"NHWC"`` for 4-D batches; ``(N, H, W)`` batches
            are always accepted.
        image_key: for dict batches, the key of the images (default: ``image``, ``images``,
            ``x``, ``input`` or ``inputs``, whichever is present).

    Called on a batch it returns the augmented batch: on an array, the array; on a tuple such
    as ``(images, labels)``, the tuple with only the images changed; on a dict, the dict with
    only the image entry changed. The output keeps the input's shape and dtype (integer images
    are rounded and clipped to their range).

    Example:
        >>> aug = ImageAugmenter(rotation_range=15, width_shift_range=0.1, horizontal_flip=True)
        >>> x = np.zeros((8, 3, 32, 32), dtype=np.uint8)
        >>> aug(x, rng=np.random.default_rng(0)).shape
        (8, 3, 32, 32)
    """

    def __init__(
        self,
        rotation_range: float = 0.0,
        width_shift_range: float = 0.0,
        height_shift_range: float = 0.0,
        shear_range: float = 0.0,
        zoom_range: float | tuple[float, float] = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        interpolation: str = "bilinear",
        data_format: str = "NCHW",
        image_key: str | None = None,
    ) -> None:
        if fill_mode not in FILL_MODES:
            raise ValueError(
                f"ImageAugmenter: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}."
            )
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"ImageAugmenter: interpolation must be one of {INTERPOLATIONS}, "
                f"got {interpolation!r}."
            )
        if data_format not in ("NCHW", "NHWC"):
            raise ValueError(
                f"ImageAugmenter: data_format must be 'NCHW' or 'NHWC', got {data_format!r}."
            )
        self.rotation_range = _range(rotation_range, "rotation_range")
        self.width_shift_range = _range(width_shift_range, "width_shift_range")
        self.height_shift_range = _range(height_shift_range, "height_shift_range")
        self.shear_range = _range(shear_range, "shear_range")
        if self.shear_range >= 90:
            raise ValueError(
                f"ImageAugmenter: shear_range must be below 90 degrees, got {shear_range}."
            )
        if isinstance(zoom_range, (int, float, np.number)):
            z = _range(zoom_range, "zoom_range")
            low, high = 1.0 - z, 1.0 + z
        else:
            low, high = (float(v) for v in zoom_range)
        if not 0 < low <= high:
            raise ValueError(
                f"ImageAugmenter: zoom_range must give factors 0 < low <= high, got {zoom_range!r}."
            )
        self.zoom_range = (low, high)
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        self.fill_mode = fill_mode
        self.cval = float(cval)
        self.interpolation = interpolation
        self.data_format = data_format
        self.image_key = image_key

    def _shift(self, r: float, size: int, n: int, rng: np.random.Generator) -> np.ndarray:
        if r == 0:
            return np.zeros(n)
        if r < 1:
            return rng.uniform(-r * size, r * size, n)
        return rng.integers(-int(r), int(r) + 1, n).astype(np.float64)

    def sample(
        self, n: int, height: int, width: int, rng: np.random.Generator | None = None
    ) -> AugmentParams:
        """Draw the parameters for ``n`` images of size ``height`` x ``width``."""
        rng = rng if rng is not None else get_rng()
        zero = np.zeros(n)
        low, high = self.zoom_range
        return AugmentParams(
            rotation=rng.uniform(-self.rotation_range, self.rotation_range, n)
            if self.rotation_range
            else zero,
            shift_y=self._shift(self.height_shift_range, height, n, rng),
            shift_x=self._shift(self.width_shift_range, width, n, rng),
            shear=rng.uniform(-self.shear_range, self.shear_range, n) if self.shear_range else zero,
            zoom_y=rng.uniform(low, high, n) if low != high else np.full(n, low),
            zoom_x=rng.uniform(low, high, n) if low != high else np.full(n, low),
            flip_horizontal=rng.random(n) < 0.5 if self.horizontal_flip else np.zeros(n, bool),
            flip_vertical=rng.random(n) < 0.5 if self.vertical_flip else np.zeros(n, bool),
        )

    def apply(self, images: Any, params: AugmentParams) -> np.ndarray:
        """Warp ``images`` (an array) with given parameters; deterministic."""
        x, _ = to_nchw(images, self.data_format, "ImageAugmenter")
        n, _, h, w = x.shape
        m = affine_matrices(
            n,
            h,
            w,
            rotation=params.rotation,
            shift_y=params.shift_y,
            shift_x=params.shift_x,
            shear=params.shear,
            zoom_y=params.zoom_y,
            zoom_x=params.zoom_x,
        )
        m = m @ flip_matrices(n, h, w, params.flip_horizontal, params.flip_vertical)
        if np.array_equal(m, np.broadcast_to(np.eye(3), m.shape)):
            return np.array(images, copy=True)
        return apply_affine(
            images, m, self.interpolation, self.fill_mode, self.cval, self.data_format
        )

    def augment(self, images: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        """Augment an array of images with freshly drawn parameters."""
        x, _ = to_nchw(images, self.data_format, "ImageAugmenter")
        return self.apply(images, self.sample(x.shape[0], x.shape[2], x.shape[3], rng))

    def __call__(self, batch: Any, rng: np.random.Generator | None = None) -> Any:
        rng = rng if rng is not None else get_rng()
        return map_images(batch, lambda x: self.augment(x, rng), "ImageAugmenter", self.image_key)

    def __repr__(self) -> str:
        return (
            f"ImageAugmenter(rotation_range={self.rotation_range}, "
            f"width_shift_range={self.width_shift_range}, "
            f"height_shift_range={self.height_shift_range}, shear_range={self.shear_range}, "
            f"zoom_range={self.zoom_range}, horizontal_flip={self.horizontal_flip}, "
            f"vertical_flip={self.vertical_flip}, fill_mode={self.fill_mode!r}, cval={self.cval})"
        )
