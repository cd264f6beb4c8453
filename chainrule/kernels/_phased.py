"""Strided convolution by wide rows over phase planes: every im2col row one contiguous copy.

A stride-``(sh, sw)`` convolution reads the padded image only at rows ``oh*sh + i`` and columns
``ow*sw + j``. Split the padded image into ``sh*sw`` phase planes,
``P[a, b][r, q] = xpad[r*sh + a, q*sw + b]``; kernel tap ``(i, j)`` then reads plane
``(i % sh, j % sw)`` at rows ``oh + i // sh`` and columns ``ow + j // sw``: a stride-1 window.
With output rows given the plane pitch ``Wq`` (as in ``_wide.py``; ``Wq - Wo`` garbage columns per
row, dropped), each tap's column is one contiguous run of ``Ho * Wq`` values of its plane. The
strided gather of ``im2col`` (one element at a time, measured 9 ms of a 33 ms stride-2 layer per
core) becomes a copy at memory speed; the input gradient folds contiguous runs back onto the
planes and un-splits them.

Layouts: phase planes ``(nb, C, sh*sw, L)`` with ``L = Hq*Wq``; wide columns
``(C*kh*kw, nb, Ho*Wq)``; wide outputs and output gradients ``(C_out, nb, Ho*Wq)``.
Undilated kernels only (``conv.py`` sends dilated ones to ``_strided.py``).
"""

from __future__ import annotations

import numpy as np

from chainrule.kernels._dispatch import jit_serial, use_numba
from chainrule.kernels._gemm import matmul_nt
from chainrule.kernels._parallel import map_slabs, scratch, sum_slab_parts
from chainrule.kernels._wide import _unwiden, _widen
from chainrule.kernels.im2col import slab_images
from chainrule.kernels.pointwise import relu_images

__all__ = ["phased_conv", "phased_conv_backward", "phase_geometry"]

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]


def phase_geometry(kh: int, kw: int, st: Pair, Ho: int, Wo: int) -> tuple[int, int]:
    """``(Hq, Wq)``: rows and pitch of a phase plane (one spare row for the last tap's run)."""
    return Ho + (kh - 1) // st[0] + 1, Wo + (kw - 1) // st[1]


def _split_loops(x, n0, pt, pl, sh, sw, Hq, Wq, out):  # pragma: no cover - numba
    # out[b, c, a*sw + e, r*Wq + q] = x[n0 + b, c, r*sh + a - pt, q*sw + e - pl], 0 outside
    nb, C, _, _ = out.shape
    H, W = x.shape[2], x.shape[3]
    for b in range(nb):
        for c in range(C):
            for a in range(sh):
                for r in range(Hq):
                    h = r * sh + a - pt
                    if h < 0 or h >= H:
                        for e in range(sw):
                            row = out[b, c, a * sw + e, r * Wq : (r + 1) * Wq]
                            for q in range(Wq):
                                row[q] = 0.0
                        continue
                    src = x[n0 + b, c, h]
                    if sw == 2:  # both phases of a source row in one pass (30% faster)
                        row0 = out[b, c, 2 * a, r * Wq : (r + 1) * Wq]
                        row1 = out[b, c, 2 * a + 1, r * Wq : (r + 1) * Wq]
                        for q in range(Wq):
                            w = 2 * q - pl
                            row0[q] = src[w] if 0 <= w < W else 0.0
                            row1[q] = src[w + 1] if 0 <= w + 1 < W else 0.0
                        continue
                    for e in range(sw):
                        row = out[b, c, a * sw + e, r * Wq : (r + 1) * Wq]
                        for q in range(Wq):
                            w = q * sw + e - pl
                            row[q] = src[w] if 0 <= w < W else 0.0


def _cols_loops(planes, kh, kw, sh, sw, Wq, out):  # pragma: no cover - numba
    K, nb, Lo = out.shape
    for r in range(K):
        c = r // (kh * kw)
        i = (r // kw) % kh
        j = r - (r // kw) * kw
        phase = (i % sh) * sw + j % sw
        off = (i // sh) * Wq + j // sw
        for b in range(nb):
            src = planes[b, c, phase, off : off + Lo]
            dst = out[r, b]
            for k in range(Lo):
                dst[k] = src[k]


def _fold_loops(cols, kh, kw, sh, sw, Wq, planes):  # pragma: no cover - numba
    K, nb, Lo = cols.shape
    C = planes.shape[1]
    for b in range(nb):
        for c in range(C):
            for p in range(sh * sw):
                plane = planes[b, c, p]
                for k in range(plane.shape[0]):
                    plane[k] = 0.0
            for i in range(kh):
                for j in range(kw):
                    r = (c * kh + i) * kw + j
                    off = (i // sh) * Wq + j // sw
                    dst = planes[b, c, (i % sh) * sw + j % sw, off : off + Lo]
                    src = cols[r, b]
                    for k in range(Lo):
                        dst[k] += src[k]


def _merge_loops(planes, n0, pt, pl, sh, sw, Hq, Wq, dx):  # pragma: no cover - numba
    # dx[n0 + b, c, h, w] = planes[b, c, phase of (h + pt, w + pl)] at (row, col), 0 beyond
    nb, C, _, _ = planes.shape
    H, W = dx.shape[2], dx.shape[3]
    for b in range(nb):
        for c in range(C):
            for h in range(H):
                r = (h + pt) // sh
                a = (h + pt) - r * sh
                dst = dx[n0 + b, c, h]
                for w in range(W):
                    dst[w] = 0.0
                if r >= Hq:
                    continue
                for e in range(sw):
                    src = planes[b, c, a * sw + e, r * Wq : (r + 1) * Wq]
                    # columns w = q*sw + e - pl of this phase, for q with 0 <= w < W
                    q0 = max(0, (pl - e + sw - 1) // sw)
                    q1 = min(Wq, (W - 1 + pl - e) // sw + 1)
                    for q in range(q0, q1):
                        dst[q * sw + e - pl] = src[q]


_split_numba = jit_serial(_split_loops)
_cols_numba = jit_serial(_cols_loops)
_fold_numba = jit_serial(_fold_loops)
_merge_numba = jit_serial(_merge_loops)


def _split(
    x: np.ndarray, n0: int, pt: int, pl: int, st: Pair, Hq: int, Wq: int, out: np.ndarray
) -> None:
    """Pad images ``n0 ..`` of ``x`` and split them into phase planes ``out`` (nb, C, sh*sw, L)."""
    sh, sw = st
    if use_numba(x, out):
        _split_numba(x, n0, pt, pl, sh, sw, Hq, Wq, out)
        return
    nb, C = out.shape[:2]
    H, W = x.shape[2], x.shape[3]
    grid = np.zeros((nb, C, Hq * sh, Wq * sw), dtype=x.dtype)
    rows, cols = min(H, Hq * sh - pt), min(W, Wq * sw - pl)
    grid[:, :, pt : pt + rows, pl : pl + cols] = x[n0 : n0 + nb, :, :rows, :cols]
    phases = grid.reshape(nb, C, Hq, sh, Wq, sw).transpose(0, 1, 3, 5, 2, 4)
    out[...] = phases.reshape(nb, C, sh * sw, Hq * Wq)


def _cols(planes: np.ndarray, kh: int, kw: int, st: Pair, Wq: int, out: np.ndarray) -> None:
    """Wide columns ``out`` (C*kh*kw, nb, Ho*Wq) from phase planes."""
    sh, sw = st
    if use_numba(planes, out):
        _cols_numba(planes, kh, kw, sh, sw, Wq, out)
        return
    K, nb, Lo = out.shape
    C = planes.shape[1]
    out5 = out.reshape(C, kh, kw, nb, Lo)
    for i in range(kh):
        for j in range(kw):
            off = (i // sh) * Wq + j // sw
            run = planes[:, :, (i % sh) * sw + j % sw, off : off + Lo]
            out5[:, i, j] = run.transpose(1, 0, 2)


def _fold(cols: np.ndarray, kh: int, kw: int, st: Pair, Wq: int, planes: np.ndarray) -> None:
    """Overwrite ``planes`` with the sum of the wide columns' runs (adjoint of ``_cols``)."""
    sh, sw = st
    if use_numba(cols, planes):
        _fold_numba(cols, kh, kw, sh, sw, Wq, planes)
        return
    K, nb, Lo = cols.shape
    C = planes.shape[1]
    planes[...] = 0.0
    cols5 = cols.reshape(C, kh, kw, nb, Lo)
    for i in range(kh):
        for j in range(kw):
            off = (i // sh) * Wq + j // sw
            run = planes[:, :, (i % sh) * sw + j % sw, off : off + Lo]
            run += cols5[:, i, j].transpose(1, 0, 2)


def _merge(
    planes: np.ndarray, n0: int, pt: int, pl: int, st: Pair, Hq: int, Wq: int, dx: np.ndarray
) -> None:
    """Un-split phase planes into ``dx[n0 ..]``, dropping the padding (adjoint of ``_split``)."""
    sh, sw = st
    if use_numba(planes, dx):
        _merge_numba(planes, n0, pt, pl, sh, sw, Hq, Wq, dx)
        return
    nb, C = planes.shape[:2]
    H, W = dx.shape[2], dx.shape[3]
    grid = planes.reshape(nb, C, sh, sw, Hq, Wq).transpose(0, 1, 4, 2, 5, 3)
    grid = grid.reshape(nb, C, Hq * sh, Wq * sw)
    rows, cols = max(0, min(H, Hq * sh - pt)), max(0, min(W, Wq * sw - pl))
    dx[n0 : n0 + nb] = 0.0
    dx[n0 : n0 + nb, :, :rows, :cols] = grid[:, :, pt : pt + rows, pl : pl + cols]


def phased_conv(
    x: np.ndarray,
    wg: np.ndarray,
    bias: np.ndarray,
    st: Pair,
    pad: Pad4,
    kh: int,
    kw: int,
    out: np.ndarray,
    relu: bool = False,
) -> None:
    """Strided convolution of ``x`` (N, C, H, W) into ``out`` (N, C_out, Ho, Wo), undilated.

    ``wg`` is the weight as ``(groups, C_out/groups, C/groups*kh*kw)``; arrays C-contiguous.
    ``relu`` applies ReLU to each slab of the output as it is written.
    """
    N, C = x.shape[:2]
    groups, Cog, Kg = wg.shape
    Co = groups * Cog
    Ho, Wo = out.shape[2], out.shape[3]
    Hq, Wq = phase_geometry(kh, kw, st, Ho, Wo)
    P, L, Lo, K = st[0] * st[1], Hq * Wq, Ho * Wq, C * kh * kw
    dt = x.dtype

    def slab(n0: int, m: int) -> None:
        planes = scratch("phased.planes", m * C * P * L, dt).reshape(m, C, P, L)
        _split(x, n0, pad[0], pad[2], st, Hq, Wq, planes)
        cols = scratch("phased.cols", K * m * Lo, dt).reshape(K, m, Lo)
        _cols(planes, kh, kw, st, Wq, cols)
        tmp = scratch("phased.out", Co * m * Lo, dt).reshape(groups, Cog, m * Lo)
        np.matmul(wg, cols.reshape(groups, Kg, m * Lo), out=tmp)
        _unwiden(tmp.reshape(Co, m, Lo), bias, n0, Wq, out)
        if relu:
            relu_images(out, n0, m)

    map_slabs(slab, N, slab_images(N, K, Lo, dt.itemsize), use_numba(x))


def phased_conv_backward(
    g: np.ndarray,
    x: np.ndarray,
    wg: np.ndarray,
    st: Pair,
    pad: Pad4,
    kh: int,
    kw: int,
    dx: np.ndarray | None,
    dw: np.ndarray | None,
    db: np.ndarray,
) -> None:
    """Gradients for ``phased_conv``: fills ``dx`` and ``dw`` when given, adds to ``db``.

    Args:
        g: output gradient ``(N, C_out, Ho, Wo)``, C-contiguous.
        x: forward input ``(N, C, H, W)``, C-contiguous (only its shape is read without ``dw``).
        wg: weight as ``(groups, C_out/groups, C/groups*kh*kw)``.
        st: stride pair.
        pad: (top, bottom, left, right).
        kh: kernel height.
        kw: kernel width.
        dx: shaped like ``x`` (overwritten) or None.
        dw: shaped like ``wg`` (overwritten) or None.
        db: ``(C_out,)`` float64, incremented by the sums of ``g``.
    """
    N, C = x.shape[:2]
    groups, Cog, Kg = wg.shape
    Co = groups * Cog
    Ho, Wo = g.shape[2], g.shape[3]
    Hq, Wq = phase_geometry(kh, kw, st, Ho, Wo)
    P, L, Lo, K = st[0] * st[1], Hq * Wq, Ho * Wq, C * kh * kw
    wgT = wg.transpose(0, 2, 1)
    dt = x.dtype

    def slab(n0: int, m: int) -> tuple[np.ndarray | None, np.ndarray]:
        db_part = np.zeros(Co, dtype=np.float64)
        gw = scratch("phased.grad", Co * m * Lo, dt).reshape(Co, m, Lo)
        _widen(g, n0, Wq, gw, db_part)  # garbage columns zeroed: they add nothing below
        g3 = gw.reshape(groups, Cog, m * Lo)
        planes = scratch("phased.planes", m * C * P * L, dt).reshape(m, C, P, L)
        cols = scratch("phased.cols", K * m * Lo, dt).reshape(K, m, Lo)
        dw_part = None
        if dw is not None:
            _split(x, n0, pad[0], pad[2], st, Hq, Wq, planes)
            _cols(planes, kh, kw, st, Wq, cols)
            c3 = cols.reshape(groups, Kg, m * Lo)
            dw_part = np.stack([matmul_nt(g3[i], c3[i]) for i in range(groups)])
        if dx is not None:
            np.matmul(wgT, g3, out=cols.reshape(groups, Kg, m * Lo))
            _fold(cols, kh, kw, st, Wq, planes)
            _merge(planes, n0, pad[0], pad[2], st, Hq, Wq, dx)
        return dw_part, db_part

    parts = map_slabs(slab, N, slab_images(N, K, Lo, dt.itemsize), use_numba(x))
    sum_slab_parts(parts, dw, db)
