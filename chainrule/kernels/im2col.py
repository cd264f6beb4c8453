"""im2col and col2im: unfold sliding windows of an NCHW batch into a matrix, and fold it back.

Column layout (the one the convolution GEMM reads fastest, measured on OpenBLAS):
``cols`` has shape ``(C*kh*kw, N, Ho, Wo)``. Row ``r = (c*kh + i)*kw + j`` holds, for every image
and output pixel, the input value under kernel tap ``(i, j)`` of channel ``c``. Read as the matrix
``(C*kh*kw, N*Ho*Wo)``, a convolution is one product ``w.reshape(Co, C*kh*kw) @ cols``; the rows
of one group of channels are contiguous, so grouped convolution slices rows. Padding reads as zero.

``col2im`` is the adjoint of ``im2col``: it adds every column entry back to the input pixel it
came from (overlapping windows accumulate), so ``<im2col(x), c> == <x, col2im(c)>``.

1-D signals use the same code with ``H = 1``: pass ``x[:, :, None, :]``, ``kh = 1`` and
``padding = (0, 0, left, right)``.

The ``*_chunk`` variants work on images ``n0 .. n0+nb-1`` of a batch with already-normalised
arguments; the convolution kernels use them to keep one cache-sized slab of columns at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels._args import check_ndim, conv_out_size, padding4, pair
from chainrule.kernels._dispatch import jit, jit_helper, prange, use_numba

__all__ = ["im2col", "col2im", "im2col_chunk", "col2im_chunk", "conv_geometry"]

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]


@jit_helper
def _valid(start: int, step: int, size: int, n_out: int) -> tuple[int, int]:
    """Range [lo, hi) of outputs o whose input index start + o*step lies in [0, size)."""
    lo = 0
    if start < 0:
        lo = (-start + step - 1) // step
    hi = 0
    if size - 1 - start >= 0:
        hi = min(n_out, (size - 1 - start) // step + 1)
    lo = min(lo, n_out)
    if lo > hi:
        lo = hi
    return lo, hi


def _im2col_loops(x, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, out):  # pragma: no cover - numba
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    Ho, Wo = out.shape[2], out.shape[3]
    for t in prange(C * kh * kw * nb):
        r = t // nb
        b = t - r * nb
        c = r // (kh * kw)
        i = (r // kw) % kh
        j = r % kw
        lo, hi = _valid(j * dw - pl, sw, W, Wo)
        w0 = j * dw - pl
        for oh in range(Ho):
            h = oh * sh - pt + i * dh
            if h < 0 or h >= H:
                for ow in range(Wo):
                    out[r, b, oh, ow] = 0.0
            else:
                for ow in range(lo):
                    out[r, b, oh, ow] = 0.0
                for ow in range(lo, hi):
                    out[r, b, oh, ow] = x[n0 + b, c, h, w0 + ow * sw]
                for ow in range(hi, Wo):
                    out[r, b, oh, ow] = 0.0


def _col2im_loops(cols, n0, nb, kh, kw, sh, sw, pt, pl, dh, dw, dx):  # pragma: no cover - numba
    C, H, W = dx.shape[1], dx.shape[2], dx.shape[3]
    Ho, Wo = cols.shape[2], cols.shape[3]
    for t in prange(nb * C):
        b = t // C
        c = t - b * C
        n = n0 + b
        for h in range(H):
            for w in range(W):
                dx[n, c, h, w] = 0.0
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                w0 = j * dw - pl
                lo, hi = _valid(w0, sw, W, Wo)
                for oh in range(Ho):
                    h = oh * sh - pt + i * dh
                    if h >= 0 and h < H:
                        for ow in range(lo, hi):
                            dx[n, c, h, w0 + ow * sw] += cols[r, b, oh, ow]


_im2col_numba = jit(_im2col_loops)
_col2im_numba = jit(_col2im_loops)


def _tap_slices(i: int, j: int, Ho: int, Wo: int, stride: Pair, dilation: Pair) -> tuple:
    """Strided slices of the padded input that kernel tap (i, j) sees across all outputs."""
    sh, sw = stride
    dh, dw = dilation
    rows = slice(i * dh, i * dh + (Ho - 1) * sh + 1, sh)
    colsl = slice(j * dw, j * dw + (Wo - 1) * sw + 1, sw)
    return rows, colsl


def _padded_extent(
    H: int, W: int, kh: int, kw: int, Ho: int, Wo: int, pad: Pad4, stride: Pair, dilation: Pair
) -> tuple[int, int]:
    """Height and width of a padded buffer that every tap slice fits in."""
    Hp = max(H + pad[0] + pad[1], (Ho - 1) * stride[0] + (kh - 1) * dilation[0] + 1)
    Wp = max(W + pad[2] + pad[3], (Wo - 1) * stride[1] + (kw - 1) * dilation[1] + 1)
    return Hp, Wp


def _im2col_numpy(x, n0, nb, kh, kw, stride, pad, dilation, out) -> None:
    N, C, H, W = x.shape
    Ho, Wo = out.shape[2], out.shape[3]
    Hp, Wp = _padded_extent(H, W, kh, kw, Ho, Wo, pad, stride, dilation)
    xp = np.zeros((nb, C, Hp, Wp), dtype=out.dtype)
    xp[:, :, pad[0] : pad[0] + H, pad[2] : pad[2] + W] = x[n0 : n0 + nb]
    out6 = out.reshape(C, kh, kw, nb, Ho, Wo)
    for i in range(kh):
        for j in range(kw):
            rows, colsl = _tap_slices(i, j, Ho, Wo, stride, dilation)
            out6[:, i, j] = xp[:, :, rows, colsl].transpose(1, 0, 2, 3)


def _col2im_numpy(cols, n0, nb, kh, kw, stride, pad, dilation, dx) -> None:
    N, C, H, W = dx.shape
    Ho, Wo = cols.shape[2], cols.shape[3]
    Hp, Wp = _padded_extent(H, W, kh, kw, Ho, Wo, pad, stride, dilation)
    dxp = np.zeros((C, nb, Hp, Wp), dtype=dx.dtype)
    cols6 = cols.reshape(C, kh, kw, nb, Ho, Wo)
    for i in range(kh):
        for j in range(kw):
            rows, colsl = _tap_slices(i, j, Ho, Wo, stride, dilation)
            dxp[:, :, rows, colsl] += cols6[:, i, j]
    dx[n0 : n0 + nb] = dxp[:, :, pad[0] : pad[0] + H, pad[2] : pad[2] + W].transpose(1, 0, 2, 3)


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
    if use_numba(x, out):
        _im2col_numba(
            x, n0, nb, kh, kw, stride[0], stride[1], pad[0], pad[2], dilation[0], dilation[1], out
        )
    else:
        _im2col_numpy(x, n0, nb, kh, kw, stride, pad, dilation, out)


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
    if use_numba(cols, dx):
        _col2im_numba(
            cols, n0, nb, kh, kw, stride[0], stride[1], pad[0], pad[2], dilation[0], dilation[1], dx
        )
    else:
        _col2im_numpy(cols, n0, nb, kh, kw, stride, pad, dilation, dx)


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
