"""Convolution (cross-correlation, as every framework computes it) forward and backward on NCHW.

Forward: for each slab of ``nb`` images, ``im2col`` writes the columns ``(C*kh*kw, nb*Ho*Wo)``,
one GEMM per group multiplies them by ``w.reshape(Co, C/groups*kh*kw)``, and a fused kernel adds
the bias while moving the result from ``(Co, nb, Ho*Wo)`` to the NCHW output. The slab is sized to
stay in the last-level cache, so the columns are written and read back without touching memory.

Backward, per slab: the output gradient is gathered to ``(Co, nb*Ho*Wo)`` (its sum over pixels is
the bias gradient), ``dw += g @ cols.T`` (columns recomputed, never stored between passes), and
``dx = col2im(w.T @ g)``. Every GEMM goes to BLAS through ``np.matmul`` with ``out=``.

1-D convolution is the 2-D one with ``H = 1`` (``conv1d_forward``/``conv1d_backward``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels._args import check_float, check_ndim, pair
from chainrule.kernels._dispatch import jit, prange, use_numba
from chainrule.kernels.im2col import col2im_chunk, conv_geometry, im2col_chunk

__all__ = ["conv2d_forward", "conv2d_backward", "conv1d_forward", "conv1d_backward"]

# Bytes of columns processed per slab: large enough for efficient GEMMs, small enough for cache.
_SLAB_BYTES = 4 * 1024 * 1024


def _scatter_loops(t, b, n0, y):  # pragma: no cover - numba
    # t (Co, nb, P) -> y[n0 + i, co, :] = t[co, i, :] + b[co]
    Co, nb, P = t.shape
    for k in prange(nb * Co):
        i = k // Co
        co = k - i * Co
        bias = b[co]
        for p in range(P):
            y[n0 + i, co, p] = t[co, i, p] + bias


def _gather_loops(g, n0, t, db):  # pragma: no cover - numba
    # t[co, i, :] = g[n0 + i, co, :]; db[co] += sum of those values
    Co, nb, P = t.shape
    for co in prange(Co):
        s = 0.0
        for i in range(nb):
            for p in range(P):
                v = g[n0 + i, co, p]
                t[co, i, p] = v
                s += v
        db[co] += s


_scatter_numba = jit(_scatter_loops)
_gather_numba = jit(_gather_loops)


def _scatter(t: np.ndarray, b: np.ndarray, n0: int, y: np.ndarray) -> None:
    if use_numba(t, b, y):
        _scatter_numba(t, b, n0, y)
    else:
        nb = t.shape[1]
        np.add(t.transpose(1, 0, 2), b[:, None], out=y[n0 : n0 + nb])


def _gather(g: np.ndarray, n0: int, t: np.ndarray, db: np.ndarray) -> None:
    if use_numba(g, t):
        _gather_numba(g, n0, t, db)
    else:
        nb = t.shape[1]
        t[...] = g[n0 : n0 + nb].transpose(1, 0, 2)
        db += t.sum(axis=(1, 2), dtype=np.float64)


def _check_conv(x: Any, w: Any, groups: int, where: str) -> None:
    check_ndim(x, 4, "N, C, H, W", where)
    check_ndim(w, 4, "C_out, C_in/groups, kh, kw", where)
    check_float(x, where, "input")
    check_float(w, where, "weight")
    if x.dtype != w.dtype:
        raise TypeError(f"{where}: input dtype {x.dtype} differs from weight dtype {w.dtype}.")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}.")
    Co, Cg = w.shape[:2]
    C = x.shape[1]
    if C % groups or Co % groups:
        raise ValueError(
            f"{where}: groups={groups} must divide in_channels={C} and out_channels={Co}."
        )
    if Cg * groups != C:
        raise ValueError(
            f"{where}: weight {tuple(w.shape)} expects {Cg * groups} input channels "
            f"(groups={groups}), got input of shape {tuple(x.shape)}."
        )


def _slab(N: int, K: int, P: int, itemsize: int) -> int:
    """Images per slab: as many as fit ``_SLAB_BYTES`` of columns, at least one."""
    return int(max(1, min(N, _SLAB_BYTES // max(1, K * P * itemsize))))


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D cross-correlation ``y[n, o] = b[o] + sum_{c,i,j} w[o, c, i, j] x[n, c, s*h + d*i, ...]``.

    Args:
        x: input ``(N, C, H, W)``, float32 or float64, NCHW.
        w: weight ``(C_out, C/groups, kh, kw)``.
        b: bias ``(C_out,)`` or None.
        stride: int or (sh, sw).
        padding: int, (ph, pw) or (top, bottom, left, right) zeros; 'same' is the caller's job.
        dilation: int or (dh, dw).
        groups: number of channel groups; both channel counts must be divisible by it.

    Returns:
        ``y`` of shape ``(N, C_out, Ho, Wo)`` in the dtype of ``x``.
    """
    where = "conv2d"
    _check_conv(x, w, groups, where)
    Co, Cg, kh, kw = w.shape
    st, pd, dl, Ho, Wo = conv_geometry(x.shape, kh, kw, stride, padding, dilation, where)
    x = np.ascontiguousarray(x)
    N, C = x.shape[:2]
    P, K, Kg = Ho * Wo, C * kh * kw, Cg * kh * kw
    bias = np.zeros(Co, x.dtype) if b is None else np.ascontiguousarray(b, dtype=x.dtype)
    if bias.shape != (Co,):
        raise ValueError(f"{where}: bias must have shape ({Co},), got {tuple(bias.shape)}.")
    wg = np.ascontiguousarray(w).reshape(groups, Co // groups, Kg)
    y = np.empty((N, Co, P), dtype=x.dtype)
    nb = _slab(N, K, P, x.dtype.itemsize)
    cols_buf = np.empty(K * nb * P, dtype=x.dtype)
    tmp_buf = np.empty(Co * nb * P, dtype=x.dtype)
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        cols = cols_buf[: K * m * P].reshape(K, m, Ho, Wo)
        im2col_chunk(x, n0, m, kh, kw, st, pd, dl, cols)
        tmp = tmp_buf[: Co * m * P].reshape(groups, Co // groups, m * P)
        np.matmul(wg, cols.reshape(groups, Kg, m * P), out=tmp)
        _scatter(tmp.reshape(Co, m, P), bias, n0, y)
    return y.reshape(N, Co, Ho, Wo)


def conv2d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    need_dx: bool = True,
    need_dw: bool = True,
    need_db: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of ``conv2d_forward`` with respect to input, weight and bias.

    Args:
        grad_out: ``(N, C_out, Ho, Wo)``, gradient of the loss with respect to ``y``.
        x: the forward input ``(N, C, H, W)``.
        w: the forward weight ``(C_out, C/groups, kh, kw)``.
        stride: as in the forward call.
        padding: as in the forward call.
        dilation: as in the forward call.
        groups: as in the forward call.
        need_dx: compute the input gradient (skip it for a network's first layer).
        need_dw: compute the weight gradient.
        need_db: compute the bias gradient.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(C_out,)``; None where not needed.
    """
    where = "conv2d_backward"
    _check_conv(x, w, groups, where)
    Co, Cg, kh, kw = w.shape
    st, pd, dl, Ho, Wo = conv_geometry(x.shape, kh, kw, stride, padding, dilation, where)
    N, C = x.shape[:2]
    if tuple(grad_out.shape) != (N, Co, Ho, Wo):
        raise ValueError(
            f"{where}: expected grad_out of shape {(N, Co, Ho, Wo)}, got {tuple(grad_out.shape)}."
        )
    x = np.ascontiguousarray(x)
    g = np.ascontiguousarray(grad_out, dtype=x.dtype).reshape(N, Co, Ho * Wo)
    P, K, Kg, Cog = Ho * Wo, C * kh * kw, Cg * kh * kw, Co // groups
    wg = np.ascontiguousarray(w).reshape(groups, Cog, Kg)
    wgT = wg.transpose(0, 2, 1)
    dx = np.empty_like(x) if need_dx else None
    dw = np.zeros((groups, Cog, Kg), dtype=x.dtype) if need_dw else None
    db = np.zeros(Co, dtype=np.float64)
    nb = _slab(N, K, P, x.dtype.itemsize)
    cols_buf = np.empty(K * nb * P, dtype=x.dtype) if (need_dx or need_dw) else None
    g_buf = np.empty(Co * nb * P, dtype=x.dtype)
    dw_tmp = np.empty_like(dw) if need_dw else None
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        gt = g_buf[: Co * m * P].reshape(Co, m, P)
        _gather(g, n0, gt, db)
        gt = gt.reshape(groups, Cog, m * P)
        if need_dw:
            cols = cols_buf[: K * m * P].reshape(K, m, Ho, Wo)
            im2col_chunk(x, n0, m, kh, kw, st, pd, dl, cols)
            cols_g = cols.reshape(groups, Kg, m * P)
            if n0 == 0:
                np.matmul(gt, cols_g.transpose(0, 2, 1), out=dw)
            else:
                np.matmul(gt, cols_g.transpose(0, 2, 1), out=dw_tmp)
                dw += dw_tmp
        if need_dx:
            dcols = cols_buf[: K * m * P].reshape(groups, Kg, m * P)
            np.matmul(wgT, gt, out=dcols)
            col2im_chunk(dcols.reshape(K, m, Ho, Wo), n0, m, kh, kw, st, pd, dl, dx)
    dw_out = dw.reshape(w.shape) if need_dw else None
    db_out = db.astype(x.dtype) if need_db else None
    return dx, dw_out, db_out


def _as_2d_args(stride: Any, padding: Any, dilation: Any, where: str) -> tuple[Any, Any, Any]:
    """1-D stride/padding/dilation as the 2-D arguments of a height-1 convolution."""
    s = pair(stride, "stride", where)[0] if not isinstance(stride, (tuple, list)) else stride[0]
    d = (
        pair(dilation, "dilation", where)[0]
        if not isinstance(dilation, (tuple, list))
        else (dilation[0])
    )
    if isinstance(padding, (tuple, list)):
        if len(padding) == 1:
            left = right = int(padding[0])
        elif len(padding) == 2:
            left, right = int(padding[0]), int(padding[1])
        else:
            raise ValueError(
                f"{where}: padding must be an int, (p,) or (left, right), got {padding!r}."
            )
    else:
        left = right = int(padding)
    return (1, int(s)), (0, 0, left, right), (1, int(d))


def conv1d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """1-D cross-correlation on ``(N, C, L)`` with weight ``(C_out, C/groups, k)``.

    Runs ``conv2d_forward`` with height 1; ``padding`` is an int or ``(left, right)``.

    Returns:
        ``y`` of shape ``(N, C_out, L_out)``.
    """
    check_ndim(x, 3, "N, C, L", "conv1d")
    check_ndim(w, 3, "C_out, C_in/groups, k", "conv1d")
    st, pd, dl = _as_2d_args(stride, padding, dilation, "conv1d")
    y = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, st, pd, dl, groups)
    return y[:, :, 0, :]


def conv1d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    need_dx: bool = True,
    need_dw: bool = True,
    need_db: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of ``conv1d_forward``: ``(dx (N, C, L), dw (C_out, C/groups, k), db (C_out,))``."""
    check_ndim(x, 3, "N, C, L", "conv1d_backward")
    check_ndim(w, 3, "C_out, C_in/groups, k", "conv1d_backward")
    check_ndim(grad_out, 3, "N, C_out, L_out", "conv1d_backward")
    st, pd, dl = _as_2d_args(stride, padding, dilation, "conv1d_backward")
    dx, dw, db = conv2d_backward(
        grad_out[:, :, None, :],
        x[:, :, None, :],
        w[:, :, None, :],
        st,
        pd,
        dl,
        groups,
        need_dx,
        need_dw,
        need_db,
    )
    return (
        None if dx is None else dx[:, :, 0, :],
        None if dw is None else dw[:, :, 0, :],
        db,
    )
