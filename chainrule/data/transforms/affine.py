"""Batch-vectorised affine warps: rotation, shift, shear, zoom, flips, in one gather per batch.

Geometry (pixel centres at integer coordinates, origin top-left, y down, centre
``c = ((H-1)/2, (W-1)/2)``). The forward map moves content from ``p`` to
``c + t + R S Z (p - c)`` where

- ``R`` rotates counter-clockwise on screen by ``rotation`` degrees (90 gives ``np.rot90``),
- ``S`` shears: x moves by ``tan(shear) * y`` (``shear`` in degrees),
- ``Z`` scales by ``zoom_x``, ``zoom_y`` (above 1 enlarges the content, i.e. zooms in),
- ``t = (shift_y, shift_x)`` in pixels (positive moves content down / right).

Warping samples the source at the inverse map of every output pixel, nearest or bilinear.
Source positions outside the image are filled by ``fill_mode``:

- ``"constant"``: ``cval``;
- ``"nearest"``: the closest edge pixel (``aaaa|abcd|dddd``);
- ``"reflect"``: mirror with the edge repeated (``dcba|abcd|dcba``);
- ``"wrap"``: periodic (``abcd|abcd|abcd``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.data.transforms._layout import from_nchw, restore_dtype, to_nchw

__all__ = [
    "affine_matrices",
    "flip_matrices",
    "apply_affine",
    "rotate",
    "shift",
    "shear",
    "zoom",
    "FILL_MODES",
    "INTERPOLATIONS",
]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
INTERPOLATIONS = ("nearest", "bilinear")


def _per_image(value: Any, n: int, name: str) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        return np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(
            f"affine_matrices: {name} must be a scalar or shape ({n},), got {v.shape}."
        )
    return v


def affine_matrices(
    n: int,
    height: int,
    width: int,
    rotation: Any = 0.0,
    shift_y: Any = 0.0,
    shift_x: Any = 0.0,
    shear: Any = 0.0,
    zoom_y: Any = 1.0,
    zoom_x: Any = 1.0,
) -> np.ndarray:
    """Inverse maps (output pixel -> source position) for ``n`` images, shape ``(n, 3, 3)``.

    Each parameter is a scalar or one value per image; see the module docstring for the
    geometry. The matrices act on ``(y, x, 1)`` column vectors.

    Example:
        >>> m = affine_matrices(1, 3, 3, shift_x=1.0)
        >>> (m[0] @ [1.0, 2.0, 1.0]).tolist()  # output (1, 2) samples source (1, 1)
        [1.0, 1.0, 1.0]
    """
    theta = np.deg2rad(_per_image(rotation, n, "rotation"))
    ty, tx = _per_image(shift_y, n, "shift_y"), _per_image(shift_x, n, "shift_x")
    k = np.tan(np.deg2rad(_per_image(shear, n, "shear")))
    zy, zx = _per_image(zoom_y, n, "zoom_y"), _per_image(zoom_x, n, "zoom_x")
    if np.any(zy == 0) or np.any(zx == 0):
        raise ValueError("affine_matrices: zoom factors must be non-zero.")
    cos, sin = np.cos(theta), np.sin(theta)
    # exact zeros/ones for multiples of 90 degrees, so rot90 is reproduced pixel for pixel
    cos = np.where(np.abs(cos) < 1e-12, 0.0, cos)
    sin = np.where(np.abs(sin) < 1e-12, 0.0, sin)
    # inverse of R S Z in (y, x) coordinates: Z^-1 S^-1 R^-1 with
    # R^-1 = [[cos, sin], [-sin, cos]], S^-1 = [[1, 0], [-k, 1]], Z^-1 = diag(1/zy, 1/zx)
    a = cos / zy
    b = sin / zy
    c = (-k * cos - sin) / zx
    d = (cos - k * sin) / zx
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    oy, ox = cy + ty, cx + tx
    m = np.zeros((n, 3, 3))
    m[:, 0, 0], m[:, 0, 1] = a, b
    m[:, 1, 0], m[:, 1, 1] = c, d
    m[:, 0, 2] = cy - (a * oy + b * ox)
    m[:, 1, 2] = cx - (c * oy + d * ox)
    m[:, 2, 2] = 1.0
    return m


def flip_matrices(
    n: int, height: int, width: int, horizontal: Any = False, vertical: Any = False
) -> np.ndarray:
    """Maps that mirror left-right and/or top-bottom, per image (booleans), shape ``(n, 3, 3)``."""
    h = np.broadcast_to(np.asarray(horizontal, dtype=bool), (n,))
    v = np.broadcast_to(np.asarray(vertical, dtype=bool), (n,))
    m = np.zeros((n, 3, 3))
    m[:, 0, 0] = np.where(v, -1.0, 1.0)
    m[:, 0, 2] = np.where(v, height - 1.0, 0.0)
    m[:, 1, 1] = np.where(h, -1.0, 1.0)
    m[:, 1, 2] = np.where(h, width - 1.0, 0.0)
    m[:, 2, 2] = 1.0
    return m


def _fold(idx: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Map integer positions into [0, size) by the fill mode ("constant" clips; callers mask)."""
    if mode == "wrap":
        return np.mod(idx, size)
    if mode == "reflect":
        period = 2 * size
        m = np.mod(idx, period)
        return np.where(m >= size, period - 1 - m, m)
    return np.clip(idx, 0, size - 1)


def _gather(
    flat: np.ndarray, base: np.ndarray, iy: np.ndarray, ix: np.ndarray, width: int
) -> np.ndarray:
    """Values at valid positions (iy, ix) of every channel.

    flat: the batch as one contiguous 1-D array; base: (N, C, 1) offsets of each image channel;
    iy, ix: (N, P). A single ``take`` on the flat array beats ``take_along_axis`` several-fold.
    """
    return flat.take(base + (iy * width + ix)[:, None, :])


def apply_affine(
    images: Any,
    matrices: np.ndarray,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    cval: float = 0.0,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Warp a batch: output pixel ``p`` takes the source value at ``matrices[i] @ p``.

    Args:
        images: ``(N, C, H, W)``, ``(N, H, W, C)`` (with ``data_format="NHWC"``) or ``(N, H, W)``.
        matrices: ``(N, 3, 3)`` or ``(N, 2, 3)`` inverse maps on ``(y, x, 1)``, e.g. from
            `affine_matrices` (compose with ``@``).
        interpolation: ``"nearest"`` or ``"bilinear"``.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        cval: fill value for ``"constant"``.
        data_format: ``"NCHW"`` or ``"NHWC"`` for 4-D input.

    Returns:
        The warped batch with the input's shape and dtype (integers rounded and clipped).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"apply_affine: interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}."
        )
    if fill_mode not in FILL_MODES:
        raise ValueError(f"apply_affine: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}.")
    x, layout = to_nchw(images, data_format, "apply_affine")
    n, ch, h, w = x.shape
    mats = np.asarray(matrices, dtype=np.float64)
    if mats.shape not in ((n, 3, 3), (n, 2, 3)):
        raise ValueError(f"apply_affine: expected matrices of shape ({n}, 3, 3), got {mats.shape}.")
    if n == 0 or h == 0 or w == 0:
        return np.array(images, copy=True)
    work = np.float64 if x.dtype == np.float64 else np.float32
    ys, xs = np.divmod(np.arange(h * w), w)
    ys, xs = ys.astype(work), xs.astype(work)
    m = mats.astype(work)
    src_y = m[:, 0, 0, None] * ys + m[:, 0, 1, None] * xs + m[:, 0, 2, None]
    src_x = m[:, 1, 0, None] * ys + m[:, 1, 1, None] * xs + m[:, 1, 2, None]
    flat = np.ascontiguousarray(x).reshape(-1)
    base = (np.arange(n * ch, dtype=np.int64) * (h * w)).reshape(n, ch, 1)
    constant = fill_mode == "constant"

    if interpolation == "nearest":
        iy = np.rint(src_y).astype(np.int64)
        ix = np.rint(src_x).astype(np.int64)
        out = _gather(flat, base, _fold(iy, h, fill_mode), _fold(ix, w, fill_mode), w)
        if constant:
            outside = (iy < 0) | (iy >= h) | (ix < 0) | (ix >= w)
            if outside.any():
                fill = restore_dtype(np.asarray([cval], dtype=np.float64), x.dtype)[0]
                out = np.where(outside[:, None, :], fill, out)
        return from_nchw(out.reshape(n, ch, h, w), layout)

    y0f, x0f = np.floor(src_y), np.floor(src_x)
    wy, wx = (src_y - y0f)[:, None, :], (src_x - x0f)[:, None, :]
    y0, x0 = y0f.astype(np.int64), x0f.astype(np.int64)
    ys_, xs_ = (y0, y0 + 1), (x0, x0 + 1)
    rows = [_fold(i, h, fill_mode) for i in ys_]
    cols = [_fold(i, w, fill_mode) for i in xs_]
    # the four neighbours (top-left, top-right, bottom-left, bottom-right) in one gather
    pos = np.stack([r * w + c for r in rows for c in cols])  # (4, N, P)
    vals = flat.take(base[None] + pos[:, :, None, :]).astype(work)  # (4, N, C, P)
    if constant:
        out_y = [(i < 0) | (i >= h) for i in ys_]
        out_x = [(i < 0) | (i >= w) for i in xs_]
        outside = np.stack([oy | ox for oy in out_y for ox in out_x])
        if outside.any():
            vals = np.where(outside[:, :, None, :], work(cval), vals)
    v00, v01, v10, v11 = vals
    # separable interpolation, in place: along x on both rows, then along y
    v01 -= v00
    v01 *= wx
    v01 += v00
    v11 -= v10
    v11 *= wx
    v11 += v10
    v11 -= v01
    v11 *= wy
    v11 += v01
    out = restore_dtype(v11, x.dtype)
    return from_nchw(out.reshape(n, ch, h, w), layout)


def _warp(
    images: Any, data_format: str, interpolation: str, fill_mode: str, cval: float, **params: Any
) -> np.ndarray:
    x, _ = to_nchw(images, data_format, "affine transform")
    n, _, h, w = x.shape
    mats = affine_matrices(n, h, w, **params)
    return apply_affine(images, mats, interpolation, fill_mode, cval, data_format)


def rotate(
    images: Any,
    angle: Any,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    cval: float = 0.0,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Rotate each image counter-clockwise by ``angle`` degrees (scalar or one per image).

    Example:
        >>> x = np.arange(9, dtype=np.uint8).reshape(1, 3, 3)
        >>> bool((rotate(x, 90) == np.rot90(x, axes=(1, 2))).all())
        True
    """
    return _warp(images, data_format, interpolation, fill_mode, cval, rotation=angle)


def shift(
    images: Any,
    dy: Any = 0.0,
    dx: Any = 0.0,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    cval: float = 0.0,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Move the content by ``dy`` pixels down and ``dx`` pixels right."""
    return _warp(images, data_format, interpolation, fill_mode, cval, shift_y=dy, shift_x=dx)


def shear(
    images: Any,
    angle: Any,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    cval: float = 0.0,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Shear along x by ``angle`` degrees (rows move by ``tan(angle)`` pixels per row)."""
    return _warp(images, data_format, interpolation, fill_mode, cval, shear=angle)


def zoom(
    images: Any,
    zy: Any,
    zx: Any | None = None,
    interpolation: str = "bilinear",
    fill_mode: str = "constant",
    cval: float = 0.0,
    data_format: str = "NCHW",
) -> np.ndarray:
    """Scale the content about the centre by ``zy`` (rows) and ``zx`` (columns; default ``zy``)."""
    zx = zy if zx is None else zx
    return _warp(images, data_format, interpolation, fill_mode, cval, zoom_y=zy, zoom_x=zx)
