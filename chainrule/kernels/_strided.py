"""Convolution with any stride: im2col + GEMM forward, two GEMMs + col2im backward.

Per slab of images: ``im2col`` writes ``(C*kh*kw, nb*Ho*Wo)`` columns, one GEMM per group gives
``(C_out, nb*Ho*Wo)``, and a fused kernel adds the bias while moving it into NCHW. Backward
gathers the output gradient to ``(C_out, nb*Ho*Wo)`` (summing it for the bias gradient), forms
``dw += g @ cols.T`` and ``dx = col2im(w.T @ g)``.
"""

from __future__ import annotations

import numpy as np

from chainrule.kernels._dispatch import jit_serial, prange, use_numba
from chainrule.kernels._gemm import matmul_nt
from chainrule.kernels._parallel import map_slabs, scratch, sum_slab_parts
from chainrule.kernels.im2col import col2im_chunk, im2col_chunk, slab_images
from chainrule.kernels.pointwise import relu_images

__all__ = ["strided_conv", "strided_conv_backward"]

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]


def _scatter_loops(t, b, n0, y):  # pragma: no cover - numba
    # t (Co, nb, P) -> y[n0 + i, co, :] = t[co, i, :] + b[co]
    Co, nb, P = t.shape
    for k in prange(nb * Co):
        i = k // Co
        co = k - i * Co
        bias = b[co]
        src = t[co, i]
        dst = y[n0 + i, co]
        for p in range(P):
            dst[p] = src[p] + bias


def _gather_loops(g, n0, t, db):  # pragma: no cover - numba
    # t[co, i, :] = g[n0 + i, co, :]; db[co] += the sum of those values
    Co, nb, P = t.shape
    for co in prange(Co):
        s = 0.0
        for i in range(nb):
            src = g[n0 + i, co]
            dst = t[co, i]
            for p in range(P):
                dst[p] = src[p]
                s += src[p]
        db[co] += s


_scatter_numba = jit_serial(_scatter_loops)
_gather_numba = jit_serial(_gather_loops, reassociate=True)  # vectorised bias sums


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


def strided_conv(
    x: np.ndarray,
    wg: np.ndarray,
    bias: np.ndarray,
    st: Pair,
    pad: Pad4,
    dl: Pair,
    kh: int,
    kw: int,
    out: np.ndarray,
    relu: bool = False,
) -> None:
    """Convolution of ``x`` (N, C, H, W) into ``out`` (N, C_out, Ho, Wo), any stride.

    ``wg`` is the weight as ``(groups, C_out/groups, C/groups*kh*kw)``; arrays C-contiguous.
    ``relu`` applies ReLU to each slab of the output as it is written.
    """
    N, C = x.shape[:2]
    groups, Cog, Kg = wg.shape
    Co = groups * Cog
    Ho, Wo = out.shape[2], out.shape[3]
    P, K = Ho * Wo, C * kh * kw
    y = out.reshape(N, Co, P)
    dt = x.dtype

    def slab(n0: int, m: int) -> None:
        cols = scratch("strided.cols", K * m * P, dt).reshape(K, m, Ho, Wo)
        im2col_chunk(x, n0, m, kh, kw, st, pad, dl, cols)
        tmp = scratch("strided.out", Co * m * P, dt).reshape(groups, Cog, m * P)
        np.matmul(wg, cols.reshape(groups, Kg, m * P), out=tmp)
        _scatter(tmp.reshape(Co, m, P), bias, n0, y)
        if relu:
            relu_images(out, n0, m)

    map_slabs(slab, N, slab_images(N, K, P, dt.itemsize), use_numba(x))


def strided_conv_backward(
    g: np.ndarray,
    x: np.ndarray,
    wg: np.ndarray,
    st: Pair,
    pad: Pad4,
    dl: Pair,
    kh: int,
    kw: int,
    dx: np.ndarray | None,
    dw: np.ndarray | None,
    db: np.ndarray,
) -> None:
    """Gradients for ``strided_conv``: fills ``dx`` and ``dw`` when given, adds to ``db``.

    Args:
        g: output gradient ``(N, C_out, Ho, Wo)``.
        x: forward input.
        wg: weight as ``(groups, C_out/groups, C/groups*kh*kw)``.
        st: stride pair.
        pad: (top, bottom, left, right).
        dl: dilation pair.
        kh: kernel height.
        kw: kernel width.
        dx: shaped like ``x`` (overwritten) or None.
        dw: shaped like ``wg`` (overwritten) or None.
        db: ``(C_out,)`` float64, incremented.
    """
    N, C = x.shape[:2]
    groups, Cog, Kg = wg.shape
    Co = groups * Cog
    Ho, Wo = g.shape[2], g.shape[3]
    P, K = Ho * Wo, C * kh * kw
    g3 = g.reshape(N, Co, P)
    wgT = wg.transpose(0, 2, 1)
    dt = x.dtype

    def slab(n0: int, m: int) -> tuple[np.ndarray | None, np.ndarray]:
        db_part = np.zeros(Co, dtype=np.float64)
        gt = scratch("strided.grad", Co * m * P, dt).reshape(Co, m, P)
        _gather(g3, n0, gt, db_part)
        gt = gt.reshape(groups, Cog, m * P)
        cols = scratch("strided.cols", K * m * P, dt)
        dw_part = None
        if dw is not None:
            im2col_chunk(x, n0, m, kh, kw, st, pad, dl, cols.reshape(K, m, Ho, Wo))
            c3 = cols.reshape(groups, Kg, m * P)
            dw_part = np.stack([matmul_nt(gt[i], c3[i]) for i in range(groups)])
        if dx is not None:
            dcols = cols.reshape(groups, Kg, m * P)
            np.matmul(wgT, gt, out=dcols)
            col2im_chunk(dcols.reshape(K, m, Ho, Wo), n0, m, kh, kw, st, pad, dl, dx)
        return dw_part, db_part

    parts = map_slabs(slab, N, slab_images(N, K, P, dt.itemsize), use_numba(x))
    sum_slab_parts(parts, dw, db)
