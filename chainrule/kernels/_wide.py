"""Stride-1 convolution by wide rows: every im2col row becomes one contiguous copy.

Pad a slab of images into planes of pitch ``Wp`` (the padded width). For stride 1, the values that
kernel tap ``(i, j)`` sees across all outputs of a plane are then the contiguous run of
``Ho * Wp`` elements starting at ``i*dh*Wp + j*dw`` — provided each output row is also given the
pitch ``Wp``: the ``Wp - Wo`` extra columns per row are garbage that the GEMM computes and the
unpacking drops (their output gradient is set to zero, so they contribute nothing backward).
This trades ``Wp/Wo - 1`` extra GEMM work for copies that run at memory speed.

Layouts: padded planes ``(nb, C, L)``; wide columns ``(C*kh*kw, nb, Ho*Wp)`` (rows as in
``im2col``); wide outputs and output gradients ``(C_out, nb, Ho*Wp)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.kernels._dispatch import jit_serial, prange, use_numba
from chainrule.kernels._gemm import matmul_nt
from chainrule.kernels._parallel import map_slabs, scratch, sum_slab_parts
from chainrule.kernels.im2col import pad_planes, plane_length, slab_images
from chainrule.kernels.pointwise import relu_images

__all__ = ["wide_conv", "wide_conv_dw"]

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]


def _cols_loops(xp, kh, kw, dh, dw, Wp, out):  # pragma: no cover - numba
    K, nb, L = out.shape
    for t in prange(K * nb):
        r = t // nb
        b = t - r * nb
        c = r // (kh * kw)
        i = (r // kw) % kh
        j = r - (r // kw) * kw
        off = i * dh * Wp + j * dw
        src = xp[b, c, off : off + L]
        dst = out[r, b]
        for k in range(L):
            dst[k] = src[k]


def _unwiden_loops(t, bias, n0, Wp, y):  # pragma: no cover - numba
    Co, nb, _ = t.shape
    Ho, Wo = y.shape[2], y.shape[3]
    for q in prange(nb * Co):
        b = q // Co
        co = q - b * Co
        v = bias[co]
        for oh in range(Ho):
            src = t[co, b, oh * Wp : oh * Wp + Wo]
            dst = y[n0 + b, co, oh]
            for k in range(Wo):
                dst[k] = src[k] + v


def _widen_loops(g, n0, Wp, out, db):  # pragma: no cover - numba
    Co, nb, _ = out.shape
    Ho, Wo = g.shape[2], g.shape[3]
    for co in prange(Co):
        s = 0.0
        for b in range(nb):
            for oh in range(Ho):
                src = g[n0 + b, co, oh]
                dst = out[co, b, oh * Wp : (oh + 1) * Wp]
                for k in range(Wo):
                    dst[k] = src[k]
                    s += src[k]
                for k in range(Wo, Wp):
                    dst[k] = 0.0
        db[co] += s


_cols_numba = jit_serial(_cols_loops)
_unwiden_numba = jit_serial(_unwiden_loops)
_widen_numba = jit_serial(_widen_loops, reassociate=True)  # vectorised bias sums


def _wide_cols(xp: np.ndarray, kh: int, kw: int, dl: Pair, Wp: int, out: np.ndarray) -> None:
    """Fill wide columns ``out`` (C*kh*kw, nb, Ho*Wp) from padded planes ``xp`` (nb, C, L)."""
    if use_numba(xp, out):
        _cols_numba(xp, kh, kw, dl[0], dl[1], Wp, out)
        return
    K, nb, Lo = out.shape
    C = xp.shape[1]
    out5 = out.reshape(C, kh, kw, nb, Lo)
    for i in range(kh):
        for j in range(kw):
            off = i * dl[0] * Wp + j * dl[1]
            out5[:, i, j] = xp[:, :, off : off + Lo].transpose(1, 0, 2)


def _unwiden(t: np.ndarray, bias: np.ndarray, n0: int, Wp: int, y: np.ndarray) -> None:
    """Drop the garbage columns of ``t`` (C_out, nb, Ho*Wp), add ``bias``, store in ``y[n0:]``."""
    if use_numba(t, bias, y):
        _unwiden_numba(t, bias, n0, Wp, y)
        return
    Co, nb, _ = t.shape
    Ho, Wo = y.shape[2], y.shape[3]
    t4 = t.reshape(Co, nb, Ho, Wp)[:, :, :, :Wo].transpose(1, 0, 2, 3)
    np.add(t4, bias[:, None, None], out=y[n0 : n0 + nb])


def _widen(g: np.ndarray, n0: int, Wp: int, out: np.ndarray, db: np.ndarray) -> None:
    """Copy ``g[n0:n0+nb]`` into wide ``out`` (C_out, nb, Ho*Wp), zero garbage; sums into ``db``."""
    if use_numba(g, out):
        _widen_numba(g, n0, Wp, out, db)
        return
    Co, nb, _ = out.shape
    Ho, Wo = g.shape[2], g.shape[3]
    o4 = out.reshape(Co, nb, Ho, Wp)
    o4[:, :, :, Wo:] = 0.0
    o4[:, :, :, :Wo] = g[n0 : n0 + nb].transpose(1, 0, 2, 3)
    db += g[n0 : n0 + nb].sum(axis=(0, 2, 3), dtype=np.float64)


def _geometry(
    src_shape: tuple, kh: int, kw: int, Ho: int, Wo: int, pad: Pad4, dl: Pair
) -> tuple[int, int, int]:
    """``(Wp, L, Lo)``: plane pitch, plane length and wide output length of one image."""
    _, Wp, L = plane_length(src_shape[2], src_shape[3], kh, kw, Ho, Wo, pad, (1, 1), dl)
    return Wp, L, Ho * Wp


def wide_conv(
    src: np.ndarray,
    wg: np.ndarray,
    bias: np.ndarray,
    pad: Pad4,
    dl: Pair,
    kh: int,
    kw: int,
    out: np.ndarray,
    relu: bool = False,
    tasks: Sequence[Callable[[], Any]] = (),
) -> None:
    """Stride-1 convolution of ``src`` (N, C, H, W) into ``out`` (N, C_out, Ho, Wo).

    Args:
        src: C-contiguous input.
        wg: weight as ``(groups, C_out/groups, C/groups*kh*kw)``.
        bias: ``(C_out,)``.
        pad: (top, bottom, left, right).
        dl: dilation pair.
        kh: kernel height.
        kw: kernel width.
        out: the output, overwritten.
        relu: apply ReLU to each slab of the output as it is written.
        tasks: independent work for ``map_slabs`` to overlap with the slabs.
    """
    N, C = src.shape[:2]
    groups, Cog, Kg = wg.shape
    Co = groups * Cog
    Ho, Wo = out.shape[2], out.shape[3]
    Wp, L, Lo = _geometry(src.shape, kh, kw, Ho, Wo, pad, dl)
    K = C * kh * kw
    dt = src.dtype

    def slab(n0: int, m: int) -> None:
        xp = scratch("wide.planes", m * C * L, dt).reshape(m, C, L)
        pad_planes(src, n0, pad[0], pad[2], Wp, xp)
        cols = scratch("wide.cols", K * m * Lo, dt).reshape(K, m, Lo)
        _wide_cols(xp, kh, kw, dl, Wp, cols)
        tmp = scratch("wide.out", Co * m * Lo, dt).reshape(groups, Cog, m * Lo)
        np.matmul(wg, cols.reshape(groups, Kg, m * Lo), out=tmp)
        _unwiden(tmp.reshape(Co, m, Lo), bias, n0, Wp, out)
        if relu:
            relu_images(out, n0, m)

    map_slabs(slab, N, slab_images(N, K, Lo, dt.itemsize), use_numba(src), tasks)


def wide_conv_dw(
    g: np.ndarray,
    x: np.ndarray,
    dw: np.ndarray,
    db: np.ndarray,
    pad: Pad4,
    dl: Pair,
    kh: int,
    kw: int,
) -> None:
    """Stride-1 weight and bias gradients: ``dw = g @ cols(x).T`` summed over slabs.

    Args:
        g: output gradient ``(N, C_out, Ho, Wo)``, C-contiguous.
        x: forward input ``(N, C, H, W)``, C-contiguous.
        dw: ``(groups, C_out/groups, C/groups*kh*kw)``, overwritten.
        db: ``(C_out,)`` float64, incremented by the sums of ``g``.
        pad: (top, bottom, left, right).
        dl: dilation pair.
        kh: kernel height.
        kw: kernel width.
    """
    N, C = x.shape[:2]
    groups, Cog, Kg = dw.shape
    Co = groups * Cog
    Ho, Wo = g.shape[2], g.shape[3]
    Wp, L, Lo = _geometry(x.shape, kh, kw, Ho, Wo, pad, dl)
    K = C * kh * kw
    dt = x.dtype

    def slab(n0: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        db_part = np.zeros(Co, dtype=np.float64)
        gw = scratch("wide.grad", Co * m * Lo, dt).reshape(Co, m, Lo)
        _widen(g, n0, Wp, gw, db_part)
        xp = scratch("wide.planes", m * C * L, dt).reshape(m, C, L)
        pad_planes(x, n0, pad[0], pad[2], Wp, xp)
        cols = scratch("wide.cols", K * m * Lo, dt).reshape(K, m, Lo)
        _wide_cols(xp, kh, kw, dl, Wp, cols)
        g3, c3 = gw.reshape(groups, Cog, m * Lo), cols.reshape(groups, Kg, m * Lo)
        return np.stack([matmul_nt(g3[i], c3[i]) for i in range(groups)]), db_part

    parts = map_slabs(slab, N, slab_images(N, K, Lo, dt.itemsize), use_numba(x))
    sum_slab_parts(parts, dw, db)
