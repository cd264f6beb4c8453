"""im2col and col2im: unfold sliding windows of an NCHW batch into a matrix, and fold it back.

Column layout (the one the convolution GEMM reads fastest, measured on OpenBLAS):
``cols`` has shape ``(C*kh*kw, N, Ho, Wo)``. Row ``r = (c*kh + i)*kw + j`` holds, for every image
and output pixel, the input value under kernel tap ``(i, j)`` of channel ``c``. Read as the matrix
``(C*kh*kw, N*Ho*Wo)``, a convolution is one product ``w.reshape(Co, C*kh*kw) @ cols``; the rows
of one group of channels are contiguous, so grouped convolution slices rows. Padding reads as zero.

``col2im`` is the adjoint of ``im2col``: it adds every column entry back to the input pixel it
came from (overlapping windows accumulate), so ``<im2col(x), c> == <x, col2im(c)>``.

Both go through zero-padded planes ``(nb, C, Hp*Wp + tail)`` of pitch ``Wp``, so the inner loops
never test bounds: ``pad_planes`` copies images in, ``planes_to_cols`` reads the windows,
``cols_to_planes`` accumulates them back and ``unpad_planes`` crops the result. The compiled
kernels are single-threaded and release the GIL: the convolutions run them on slabs of images in
parallel on the kernel thread pool (``_parallel.py``); a direct ``im2col`` call is one slab.

1-D signals use the same code with ``H = 1``: pass ``x[:, :, None, :]``, ``kh = 1`` and
``padding = (0, 0, left, right)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels._args import check_ndim, conv_out_size, padding4, pair
from chainrule.kernels._dispatch import jit_serial, prange, use_numba
from chainrule.kernels._parallel import scratch

__all__ = [
    "im2col",
    "col2im",
    "im2col_chunk",
    "col2im_chunk",
    "conv_geometry",
    "pad_planes",
    "unpad_planes",
    "plane_length",
    "slab_images",
]

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]

# Bytes of columns the convolutions build at a time: large enough for efficient GEMMs, small
# enough to stay in cache between being written and being multiplied (2 cores, 1 MiB L2 each,
# 16 MiB L3: 2 MiB beat 4 MiB by 3% on the ResNet-20 layers and tied on the MNIST CNN's).
SLAB_BYTES = 2 * 1024 * 1024


def slab_images(N: int, K: int, P: int, itemsize: int) -> int:
    """Images per slab: as many as fit ``SLAB_BYTES`` of ``K x P`` columns each, at least one."""
    return int(max(1, min(N, SLAB_BYTES // max(1, K * P * itemsize))))


def _pad_loops(x, n0, pt, pl, Wp, out):  # pragma: no cover - numba
    nb, C, L = out.shape
    H, W = x.shape[2], x.shape[3]
    for t in prange(nb * C):
        b = t // C
        c = t - b * C
        plane = out[b, c]
        for k in range(pt * Wp):
            plane[k] = 0.0
        for h in range(H):
            row = plane[(pt + h) * Wp : (pt + h + 1) * Wp]
            src = x[n0 + b, c, h]
            for k in range(pl):
                row[k] = 0.0
            dst = row[pl : pl + W]
            for k in range(W):
                dst[k] = src[k]
            for k in range(pl + W, Wp):
                row[k] = 0.0
        for k in range((pt + H) * Wp, L):
            plane[k] = 0.0


def _unpad_loops(xp, n0, pt, pl, Wp, dx):  # pragma: no cover - numba
    nb, C, _ = xp.shape
    H, W = dx.shape[2], dx.shape[3]
    for t in prange(nb * C):
        b = t // C
        c = t - b * C
        for h in range(H):
            src = xp[b, c, (pt + h) * Wp + pl : (pt + h) * Wp + pl + W]
            dst = dx[n0 + b, c, h]
            for k in range(W):
                dst[k] = src[k]


def _cols_loops(xp, kh, kw, sh, sw, dh, dw, Wp, out):  # pragma: no cover - numba
    K, nb, Ho, Wo = out.shape
    span = (Wo - 1) * sw + 1
    for t in prange(K * nb):
        r = t // nb
        b = t - r * nb
        c = r // (kh * kw)
        i = (r // kw) % kh
        j = r - (r // kw) * kw
        plane = xp[b, c]
        for oh in range(Ho):
            base = (oh * sh + i * dh) * Wp + j * dw
            src = plane[base : base + span]
            dst = out[r, b, oh]
            if sw == 1:
                for k in range(Wo):
                    dst[k] = src[k]
            else:
                for k in range(Wo):
                    dst[k] = src[k * sw]


def _fold_loops(cols, kh, kw, sh, sw, dh, dw, Wp, xp):  # pragma: no cover - numba
    K, nb, Ho, Wo = cols.shape
    _, C, L = xp.shape
    span = (Wo - 1) * sw + 1
    for t in prange(nb * C):
        b = t // C
        c = t - b * C
        plane = xp[b, c]
        for k in range(L):
            plane[k] = 0.0
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                for oh in range(Ho):
                    base = (oh * sh + i * dh) * Wp + j * dw
                    dst = plane[base : base + span]
                    src = cols[r, b, oh]
                    if sw == 1:
                        for k in range(Wo):
                            dst[k] += src[k]
                    else:
                        for k in range(Wo):
                            dst[k * sw] += src[k]


_pad_numba = jit_serial(_pad_loops)
_unpad_numba = jit_serial(_unpad_loops)
_cols_numba = jit_serial(_cols_loops)
_fold_numba = jit_serial(_fold_loops)


def plane_length(
    H: int, W: int, kh: int, kw: int, Ho: int, Wo: int, pad: Pad4, stride: Pair, dilation: Pair
) -> tuple[int, int, int]:
    """``(Hp, Wp, L)``: padded height and pitch, and a plane length every window read fits in.

    Wide-row readers (``_wide.py``) run past the last padded row by up to ``(kw-1)*dw`` elements,
    and ceil-style geometries may reach beyond the bottom padding; ``L`` covers both.
    """
    Hp = H + pad[0] + pad[1]
    Wp = W + pad[2] + pad[3]
    rows = max(Hp, (Ho - 1) * stride[0] + (kh - 1) * dilation[0] + 1)
    last = ((Ho - 1) * stride[0] + (kh - 1) * dilation[0]) * Wp + (kw - 1) * dilation[1]
    L = max(rows * Wp, last + Wp)
    return Hp, Wp, L


def pad_planes(x: np.ndarray, n0: int, pt: int, pl: int, Wp: int, out: np.ndarray) -> None:
    """Copy images ``n0 .. n0+nb-1`` of ``x`` into zero-padded planes ``out`` (nb, C, L).

    Row ``h`` of image plane lands at ``(pt + h) * Wp + pl``; everything else is zero.
    """
    if use_numba(x, out):
        _pad_numba(x, n0, pt, pl, Wp, out)
        return
    nb, C, L = out.shape
    H, W = x.shape[2], x.shape[3]
    out[...] = 0.0
    rows = out[:, :, : (pt + H) * Wp].reshape(nb, C, pt + H, Wp)
    rows[:, :, pt:, pl : pl + W] = x[n0 : n0 + nb]


def unpad_planes(xp: np.ndarray, n0: int, pt: int, pl: int, Wp: int, dx: np.ndarray) -> None:
    """Crop padded planes ``xp`` (nb, C, L) back into ``dx[n0:n0+nb]`` (the inverse copy)."""
    if use_numba(xp, dx):
        _unpad_numba(xp, n0, pt, pl, Wp, dx)
        return
    nb, C, _ = xp.shape
    H, W = dx.shape[2], dx.shape[3]
    rows = xp[:, :, : (pt + H) * Wp].reshape(nb, C, pt + H, Wp)
    dx[n0 : n0 + nb] = rows[:, :, pt:, pl : pl + W]


def _tap(i: int, j: int, Ho: int, Wo: int, stride: Pair, dilation: Pair, Wp: int) -> tuple:
    """Strided 2-D view indices of tap (i, j) in a plane of pitch Wp: (row slice, col slice)."""
    rows = slice(i * dilation[0], i * dilation[0] + (Ho - 1) * stride[0] + 1, stride[0])
    cols = slice(j * dilation[1], j * dilation[1] + (Wo - 1) * stride[1] + 1, stride[1])
    return rows, cols


def planes_to_cols(
    xp: np.ndarray, kh: int, kw: int, stride: Pair, dilation: Pair, Wp: int, out: np.ndarray
) -> None:
    """Read every window of padded planes ``xp`` (nb, C, L) into ``out`` (C*kh*kw, nb, Ho, Wo)."""
    if use_numba(xp, out):
        _cols_numba(xp, kh, kw, stride[0], stride[1], dilation[0], dilation[1], Wp, out)
        return
    K, nb, Ho, Wo = out.shape
    C, L = xp.shape[1], xp.shape[2]
    grid = xp[:, :, : (L // Wp) * Wp].reshape(nb, C, L // Wp, Wp)
    out6 = out.reshape(C, kh, kw, nb, Ho, Wo)
    for i in range(kh):
        for j in range(kw):
            rows, cols = _tap(i, j, Ho, Wo, stride, dilation, Wp)
            out6[:, i, j] = grid[:, :, rows, cols].transpose(1, 0, 2, 3)


def cols_to_planes(
    cols: np.ndarray, kh: int, kw: int, stride: Pair, dilation: Pair, Wp: int, xp: np.ndarray
) -> None:
    """Overwrite padded planes ``xp`` (nb, C, L) with the sum of every window of ``cols``."""
    if use_numba(cols, xp):
        _fold_numba(cols, kh, kw, stride[0], stride[1], dilation[0], dilation[1], Wp, xp)
        return
    K, nb, Ho, Wo = cols.shape
    C, L = xp.shape[1], xp.shape[2]
    xp[...] = 0.0
    grid = xp[:, :, : (L // Wp) * Wp].reshape(nb, C, L // Wp, Wp)
    cols6 = cols.reshape(C, kh, kw, nb, Ho, Wo)
    for i in range(kh):
        for j in range(kw):
            rows, cs = _tap(i, j, Ho, Wo, stride, dilation, Wp)
            grid[:, :, rows, cs] += cols6[:, i, j].transpose(1, 0, 2, 3)


def im2col_chunk(
    x: np.ndarray,
    n0: int,
    nb: int,
    kh: int,
    kw: int,
    stride: Pair,
    pad: Pad4,
    dilation: Pair,
    out: np.ndarray,
) -> None:
    """Write the columns of images ``n0 .. n0+nb-1`` of ``x`` into ``out`` (K, nb, Ho, Wo).

    Arguments are trusted (already normalised by ``conv_geometry``); ``x`` and ``out`` must be
    C-contiguous and of one dtype.
    """
    H, W = x.shape[2], x.shape[3]
    Ho, Wo = out.shape[2], out.shape[3]
    _, Wp, L = plane_length(H, W, kh, kw, Ho, Wo, pad, stride, dilation)
    xp = scratch("im2col.planes", nb * x.shape[1] * L, x.dtype).reshape(nb, x.shape[1], L)
    pad_planes(x, n0, pad[0], pad[2], Wp, xp)
    planes_to_cols(xp, kh, kw, stride, dilation, Wp, out)


def col2im_chunk(
    cols: np.ndarray,
    n0: int,
    nb: int,
    kh: int,
    kw: int,
    stride: Pair,
    pad: Pad4,
    dilation: Pair,
    dx: np.ndarray,
) -> None:
    """Fold ``cols`` (K, nb, Ho, Wo) into ``dx[n0:n0+nb]``, overwriting it (overlaps accumulate)."""
    H, W = dx.shape[2], dx.shape[3]
    Ho, Wo = cols.shape[2], cols.shape[3]
    _, Wp, L = plane_length(H, W, kh, kw, Ho, Wo, pad, stride, dilation)
    xp = scratch("col2im.planes", nb * dx.shape[1] * L, dx.dtype).reshape(nb, dx.shape[1], L)
    cols_to_planes(cols, kh, kw, stride, dilation, Wp, xp)
    unpad_planes(xp, n0, pad[0], pad[2], Wp, dx)


def conv_geometry(
    x_shape: tuple[int, ...], kh: int, kw: int, stride: Any, padding: Any, dilation: Any, where: str
) -> tuple[Pair, Pad4, Pair, int, int]:
    """Normalise stride/padding/dilation and compute the output size of a 2-D sliding window.

    Returns:
        ``(stride, padding4, dilation, Ho, Wo)`` with padding as (top, bottom, left, right).
    """
    st = pair(stride, "stride", where)
    dl = pair(dilation, "dilation", where)
    pd = padding4(padding, where)
    Ho = conv_out_size(x_shape[2], kh, st[0], pd[0], pd[1], dl[0], where)
    Wo = conv_out_size(x_shape[3], kw, st[1], pd[2], pd[3], dl[1], where)
    return st, pd, dl, Ho, Wo


def im2col(
    x: np.ndarray, kh: int, kw: int, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> np.ndarray:
    """Unfold the sliding windows of an NCHW batch into columns.

    Args:
        x: input ``(N, C, H, W)``, float32 or float64.
        kh: kernel height.
        kw: kernel width.
        stride: int or (sh, sw).
        padding: int, (ph, pw), or (top, bottom, left, right); zeros are read outside the image.
        dilation: int or (dh, dw).

    Returns:
        ``cols`` of shape ``(C*kh*kw, N, Ho, Wo)``, row ``(c*kh + i)*kw + j``.

    Example:
        >>> im2col(np.ones((2, 3, 5, 5)), 3, 3).shape
        (27, 2, 3, 3)
    """
    check_ndim(x, 4, "N, C, H, W", "im2col")
    st, pd, dl, Ho, Wo = conv_geometry(x.shape, kh, kw, stride, padding, dilation, "im2col")
    x = np.ascontiguousarray(x)
    N, C = x.shape[:2]
    out = np.empty((C * kh * kw, N, Ho, Wo), dtype=x.dtype)
    im2col_chunk(x, 0, N, kh, kw, st, pd, dl, out)
    return out


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kh: int,
    kw: int,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> np.ndarray:
    """Fold columns back onto an NCHW array, adding overlapping contributions (adjoint of im2col).

    Args:
        cols: ``(C*kh*kw, N, Ho, Wo)`` as produced by ``im2col``.
        x_shape: ``(N, C, H, W)`` of the array to rebuild.
        kh: kernel height.
        kw: kernel width.
        stride: int or (sh, sw).
        padding: int, (ph, pw), or (top, bottom, left, right); padded entries are dropped.
        dilation: int or (dh, dw).

    Returns:
        ``dx`` of shape ``x_shape`` and the dtype of ``cols``.
    """
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {x_shape}.")
    st, pd, dl, Ho, Wo = conv_geometry(x_shape, kh, kw, stride, padding, dilation, "col2im")
    N, C = x_shape[:2]
    expected = (C * kh * kw, N, Ho, Wo)
    if tuple(cols.shape) != expected:
        raise ValueError(f"col2im: expected cols of shape {expected}, got {tuple(cols.shape)}.")
    cols = np.ascontiguousarray(cols)
    dx = np.empty(x_shape, dtype=cols.dtype)
    col2im_chunk(cols, 0, N, kh, kw, st, pd, dl, dx)
    return dx
