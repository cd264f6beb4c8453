"""3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3).

The larger sibling of ``_winograd.py``: each 4x4 block of outputs of one channel pair needs 36
multiplications instead of 144 (2.25 per output, against 4 for F(2x2, 3x3)), from 6x6 input tiles
(2.25x the input moves through memory, against 4x). With the interpolation points 0, 1, -1, 2, -2
and infinity, ``Y = A^T [(G g G^T) * (B^T d B)] A`` with

    B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
           [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
    G   = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6],
           [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]
    A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]

(``A^T`` evaluates at the points, ``G`` holds the kernel's values there divided by the Lagrange
denominators, ``B^T`` the matching coefficients; the tests check the identity against direct
correlation in float64). Summed over input channels the products are 36 GEMMs
``M[k] = U[k] @ V[k]``. The weight gradient is the dual F(3x3, 4x4): from
``sum_i c_i y_i = sum_k (A c)_k (G g)_k (B^T d)_k``, the gradient of a 3x3 kernel over one 6x6
input tile and the 4x4 output-gradient tile ``c`` over it is ``G^T [(A c A^T) * (B^T d B)] G``,
summed over tiles as 36 GEMMs ``(C_out, tiles) @ (tiles, C)``.

The larger coefficients cost accuracy: in float32 the largest error is 2.5e-6 to 6e-6 of the
largest output on the ResNet-20 shapes (about 40 ulps; F(2x2) and im2col stay below 8e-7), well
inside the 1e-4 that float32 results are compared at; float64 stays at a few 1e-15. Slabs,
threading and the cropping of odd sizes are those of ``_winograd.py``; the input transform pads
each strip of rows itself, and the 36 matrices of a slab are laid out ``_SKEW`` elements apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.kernels._dispatch import jit_serial, use_numba
from chainrule.kernels._gemm import serial_matmul
from chainrule.kernels._parallel import (
    Once,
    map_slabs,
    map_slabs_later,
    resolve,
    scratch,
    sum_slab_parts,
)
from chainrule.kernels.im2col import pad_planes
from chainrule.kernels.pointwise import relu_images

__all__ = ["winograd4_conv", "winograd4_conv_dw", "winograd4_weights", "BT4", "G4", "AT4"]

Pad4 = tuple[int, int, int, int]

# Bytes of transformed input tiles per slab. 1 MiB against 4 MiB, whole steps alternated in one
# process on 2 threads: resnet20 train 508 -> 476 ms, inference 157 -> 147; cnn train 59 -> 54
# (a slab's tiles and products stay nearer the per-core caches, and more, smaller slabs balance
# the two workers better); forward + backward 11-16% faster on the 32-channel layers at 16x16
# and the 16-channel ones at 32x32 (weight gradient), 64 channels at 8x8 within noise.
_SLAB_BYTES = 1024 * 1024
# Extra elements between the 36 matrices of a slab's transformed tiles and products. Without
# them all 36 start at the same address modulo 4 KiB (the sizes are powers of two), the
# transforms' 36 interleaved streams fall into one L1 set and evict each other (measured: the
# input transform ran 2.5x slower than F(2x2)'s).
_SKEW = 16

BT4 = np.array(
    [
        [4.0, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ]
)
G4 = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1.0],
    ]
)
AT4 = np.array(
    [
        [1.0, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ]
)
# G (x) G: the kernel transform of every channel pair as one GEMM (row 6a+b, column 3i+j)
_GG = np.kron(G4, G4)


def _input_loops(src, n0, pt, pl, th, tw, v, cst):  # pragma: no cover - numba
    # src (N, C, H, W) unpadded; v (36, C, nb*th*tw) transformed tiles of images n0 .. n0+nb-1
    # zero-padded by pt rows on top and pl columns on the left. One strip of tiles (tile row a)
    # at a time: B^T down the strip's 6 rows, read in place (a row of zeros stands in for the
    # padding rows; padding columns stay zero in e), vectorised along the row, then B along
    # each tile's 6 columns. No padded copy of the slab (measured per 128 images at 64-64 @8x8:
    # 2.38 ms with one, 1.18 without).
    two, four, five = cst[0], cst[1], cst[2]
    _, C, NT = v.shape
    H, W = src.shape[2], src.shape[3]
    T = th * tw
    nb = NT // T
    span = 4 * tw + 2
    end = min(span, pl + W)
    zero = np.zeros(W, dtype=v.dtype)
    e = np.zeros((6, span), dtype=v.dtype)  # columns outside pl .. end-1 stay zero
    for c in range(C):
        for b in range(nb):
            img = src[n0 + b, c]
            vc = v[:, c, b * T : (b + 1) * T]
            for a in range(th):
                r = 4 * a - pt
                p0 = img[r] if 0 <= r < H else zero
                p1 = img[r + 1] if 0 <= r + 1 < H else zero
                p2 = img[r + 2] if 0 <= r + 2 < H else zero
                p3 = img[r + 3] if 0 <= r + 3 < H else zero
                p4 = img[r + 4] if 0 <= r + 4 < H else zero
                p5 = img[r + 5] if 0 <= r + 5 < H else zero
                for x in range(pl, end):
                    d0 = p0[x - pl]
                    d1 = p1[x - pl]
                    d2 = p2[x - pl]
                    d3 = p3[x - pl]
                    d4 = p4[x - pl]
                    d5 = p5[x - pl]
                    t1 = d4 - four * d2
                    t2 = d3 - four * d1
                    t3 = d4 - d2
                    t4 = two * (d3 - d1)
                    e[0, x] = four * d0 - five * d2 + d4
                    e[1, x] = t1 + t2
                    e[2, x] = t1 - t2
                    e[3, x] = t3 + t4
                    e[4, x] = t3 - t4
                    e[5, x] = four * d1 - five * d3 + d5
                for i in range(6):
                    k = 6 * i
                    row = e[i]
                    for q in range(tw):
                        t = a * tw + q
                        s = 4 * q
                        d0 = row[s]
                        d1 = row[s + 1]
                        d2 = row[s + 2]
                        d3 = row[s + 3]
                        d4 = row[s + 4]
                        d5 = row[s + 5]
                        t1 = d4 - four * d2
                        t2 = d3 - four * d1
                        t3 = d4 - d2
                        t4 = two * (d3 - d1)
                        vc[k, t] = four * d0 - five * d2 + d4
                        vc[k + 1, t] = t1 + t2
                        vc[k + 2, t] = t1 - t2
                        vc[k + 3, t] = t3 + t4
                        vc[k + 4, t] = t3 - t4
                        vc[k + 5, t] = four * d1 - five * d3 + d5


def _output_loops(m, bias, n0, th, tw, y, cst):  # pragma: no cover - numba
    # m (36, Co, nb*th*tw) products; y (N, Co, Ho, Wo) receives A^T m A + bias, cropped.
    # A few images' tiles at a time: both halves of A^T . A run along the tile index, where
    # every operand is a contiguous row (vectorised; tile-by-tile loops of 2-4 tiles per image
    # row measured 1.65x slower at 8x8), then each 4x4 result block is copied into place.
    two, four, eight = cst[0], cst[1], cst[3]
    _, Co, NT = m.shape
    T = th * tw
    nb = NT // T
    Ho, Wo = y.shape[2], y.shape[3]
    ib = max(1, 128 // T)  # images per chunk
    f = np.empty((24, ib * T), dtype=m.dtype)  # f[6i + j]: row i of A^T m, column j
    o = np.empty((16, ib * T), dtype=m.dtype)  # o[4i + j]: output (i, j) of each tile
    for co in range(Co):
        bv = bias[co]
        for b0 in range(0, nb, ib):
            b1 = min(nb, b0 + ib)
            t0 = b0 * T
            n = (b1 - b0) * T
            for j in range(6):
                r0 = m[j, co, t0 : t0 + n]
                r1 = m[6 + j, co, t0 : t0 + n]
                r2 = m[12 + j, co, t0 : t0 + n]
                r3 = m[18 + j, co, t0 : t0 + n]
                r4 = m[24 + j, co, t0 : t0 + n]
                r5 = m[30 + j, co, t0 : t0 + n]
                f0 = f[j]
                f1 = f[6 + j]
                f2 = f[12 + j]
                f3 = f[18 + j]
                for t in range(n):
                    s12 = r1[t] + r2[t]
                    d12 = r1[t] - r2[t]
                    s34 = r3[t] + r4[t]
                    d34 = r3[t] - r4[t]
                    f0[t] = r0[t] + s12 + s34
                    f1[t] = d12 + two * d34
                    f2[t] = s12 + four * s34
                    f3[t] = d12 + eight * d34 + r5[t]
            for i in range(4):
                k = 6 * i
                g0 = f[k]
                g1 = f[k + 1]
                g2 = f[k + 2]
                g3 = f[k + 3]
                g4 = f[k + 4]
                g5 = f[k + 5]
                o0 = o[4 * i]
                o1 = o[4 * i + 1]
                o2 = o[4 * i + 2]
                o3 = o[4 * i + 3]
                for t in range(n):
                    s12 = g1[t] + g2[t]
                    d12 = g1[t] - g2[t]
                    s34 = g3[t] + g4[t]
                    d34 = g3[t] - g4[t]
                    o0[t] = g0[t] + s12 + s34 + bv
                    o1[t] = d12 + two * d34 + bv
                    o2[t] = s12 + four * s34 + bv
                    o3[t] = d12 + eight * d34 + g5[t] + bv
            for b in range(b0, b1):
                out = y[n0 + b, co]
                base = (b - b0) * T
                for a in range(th):
                    for i in range(4):
                        h = 4 * a + i
                        if h < Ho:
                            row = out[h]
                            for q in range(tw):
                                t = base + a * tw + q
                                x = 4 * q
                                for c in range(min(4, Wo - x)):
                                    row[x + c] = o[4 * i + c, t]


def _grad_loops(g, n0, th, tw, gt, db, cst):  # pragma: no cover - numba
    # g (N, Co, Ho, Wo) output gradient; gt (36, Co, nb*th*tw) receives A c A^T per 4x4 tile c
    # (zero beyond the output); db[co] += sum of g. A down each strip's 4 rows, then across.
    two, four, eight = cst[0], cst[1], cst[3]
    _, Co, NT = gt.shape
    T = th * tw
    nb = NT // T
    Ho, Wo = g.shape[2], g.shape[3]
    e = np.zeros((6, 4 * tw), dtype=gt.dtype)
    zero = np.zeros(Wo, dtype=g.dtype)  # stands in for rows below the output
    for co in range(Co):
        s = 0.0
        for b in range(nb):
            gp = g[n0 + b, co]
            gc = gt[:, co, b * T : (b + 1) * T]
            for a in range(th):
                h = 4 * a
                g0 = gp[h]
                g1 = gp[h + 1] if h + 1 < Ho else zero
                g2 = gp[h + 2] if h + 2 < Ho else zero
                g3 = gp[h + 3] if h + 3 < Ho else zero
                for x in range(Wo):
                    c0 = g0[x]
                    c1 = g1[x]
                    c2 = g2[x]
                    c3 = g3[x]
                    s += (c0 + c1) + (c2 + c3)
                    ev = c0 + c2
                    od = c1 + c3
                    ev4 = c0 + four * c2
                    od8 = two * c1 + eight * c3
                    e[0, x] = c0
                    e[1, x] = ev + od
                    e[2, x] = ev - od
                    e[3, x] = ev4 + od8
                    e[4, x] = ev4 - od8
                    e[5, x] = c3
                for i in range(6):
                    k = 6 * i
                    row = e[i]
                    for q in range(tw):
                        t = a * tw + q
                        x = 4 * q
                        c0 = row[x]
                        c1 = row[x + 1]
                        c2 = row[x + 2]
                        c3 = row[x + 3]
                        ev = c0 + c2
                        od = c1 + c3
                        ev4 = c0 + four * c2
                        od8 = two * c1 + eight * c3
                        gc[k, t] = c0
                        gc[k + 1, t] = ev + od
                        gc[k + 2, t] = ev - od
                        gc[k + 3, t] = ev4 + od8
                        gc[k + 4, t] = ev4 - od8
                        gc[k + 5, t] = c3
        db[co] += s


def _constants(dtype: np.dtype) -> np.ndarray:
    """The transforms' coefficients 2, 4, 5, 8 in the data's dtype.

    A float literal would make numba compute float32 data in float64 and convert every value
    back (measured: the transforms ran 2-3x slower).
    """
    return np.array([2.0, 4.0, 5.0, 8.0], dtype=dtype)


_input_numba = jit_serial(_input_loops)
_output_numba = jit_serial(_output_loops)
_grad_numba = jit_serial(_grad_loops)


def _input_numpy(
    src: np.ndarray, n0: int, pt: int, pl: int, th: int, tw: int, v: np.ndarray, cst: np.ndarray
) -> None:
    _, C, NT = v.shape
    nb = NT // (th * tw)
    Hp, Wp = max(4 * th + 2, pt + src.shape[2]), max(4 * tw + 2, pl + src.shape[3])
    xp = np.empty((nb, C, Hp * Wp), dtype=src.dtype)
    pad_planes(src, n0, pt, pl, Wp, xp)
    grid = xp.reshape(nb, C, Hp, Wp)
    tiles = np.empty((6, 6, C, nb, th, tw), dtype=src.dtype)
    for i in range(6):
        for j in range(6):
            tiles[i, j] = grid[:, :, i : i + 4 * th : 4, j : j + 4 * tw : 4].transpose(1, 0, 2, 3)
    bt = BT4.astype(src.dtype)
    out = np.einsum("ai,ijcnpq,bj->abcnpq", bt, tiles, bt, optimize=True)
    v[...] = out.reshape(36, C, NT)


def _output_numpy(
    m: np.ndarray, bias: np.ndarray, n0: int, th: int, tw: int, y: np.ndarray
) -> None:
    _, Co, NT = m.shape
    nb = NT // (th * tw)
    Ho, Wo = y.shape[2], y.shape[3]
    at = AT4.astype(m.dtype)
    blocks = np.einsum(
        "ia,abcnpq,jb->ijcnpq", at, m.reshape(6, 6, Co, nb, th, tw), at, optimize=True
    )
    # blocks[i, j, co, n, p, q] is output (4p + i, 4q + j)
    full = blocks.transpose(3, 2, 4, 0, 5, 1).reshape(nb, Co, 4 * th, 4 * tw)
    np.add(full[:, :, :Ho, :Wo], bias[:, None, None], out=y[n0 : n0 + nb])


def _grad_numpy(g: np.ndarray, n0: int, th: int, tw: int, gt: np.ndarray, db: np.ndarray) -> None:
    _, Co, NT = gt.shape
    nb = NT // (th * tw)
    Ho, Wo = g.shape[2], g.shape[3]
    full = np.zeros((nb, Co, 4 * th, 4 * tw), dtype=g.dtype)
    full[:, :, :Ho, :Wo] = g[n0 : n0 + nb]
    tiles = full.reshape(nb, Co, th, 4, tw, 4).transpose(3, 5, 1, 0, 2, 4)  # (4, 4, Co, n, p, q)
    a = AT4.T.astype(g.dtype)
    out = np.einsum("ai,ijcnpq,bj->abcnpq", a, tiles, a, optimize=True)
    gt[...] = out.reshape(36, Co, NT)
    db += g[n0 : n0 + nb].sum(axis=(0, 2, 3), dtype=np.float64)


def _skewed(name: str, rows: int, cols: int, dt: np.dtype) -> np.ndarray:
    """A ``(36, rows, cols)`` scratch array whose matrices lie ``rows * cols + _SKEW`` apart."""
    step = rows * cols + _SKEW
    buf = scratch(name, 36 * step, dt)
    return buf.reshape(36, step)[:, : rows * cols].reshape(36, rows, cols)


def winograd4_weights(w: np.ndarray, groups: int) -> np.ndarray:
    """Transformed kernels ``U = G g G^T`` as ``(36, groups, C_out/groups, C/groups)``."""
    Co, Cg = w.shape[:2]
    # in the weight's own dtype: float32 rounding adds ~1e-7 to U, far below F(4x4)'s own error,
    # at half the time of a float64 transform (0.12 against 0.28 ms at 64x64 channels)
    gg = _GG.astype(w.dtype, copy=False)
    u = serial_matmul(gg, np.ascontiguousarray(w.reshape(Co * Cg, 9).T))  # (36, Co*Cg)
    return np.ascontiguousarray(u.reshape(36, groups, Co // groups, Cg), dtype=w.dtype)


def winograd4_conv(
    src: np.ndarray,
    u: np.ndarray | Once,
    bias: np.ndarray,
    pad: Pad4,
    out: np.ndarray,
    relu: bool = False,
    tasks: Sequence[Callable[[], Any]] = (),
) -> None:
    """3x3 stride-1 convolution of ``src`` (N, C, H, W) into ``out`` (N, C_out, Ho, Wo).

    Args:
        src: C-contiguous input.
        u: transformed kernels from ``winograd4_weights``, or a ``Once`` making them (with
            its ``shape`` given), which one thread computes while the others transform inputs.
        bias: ``(C_out,)``.
        pad: (top, bottom, left, right).
        out: the output, overwritten.
        relu: apply ReLU to each slab of the output as it is written.
        tasks: further independent work for ``map_slabs`` to overlap with the slabs.
    """
    N, C, H, W = src.shape
    _, groups, Cog, Cg = u.shape
    Co = groups * Cog
    Ho, Wo = out.shape[2], out.shape[3]
    th, tw = (Ho + 3) // 4, (Wo + 3) // 4
    T = th * tw
    dt = src.dtype
    nb = int(max(1, min(N, _SLAB_BYTES // max(1, 36 * C * T * dt.itemsize))))
    numba_path = use_numba(src)

    def slab(n0: int, m_: int) -> None:
        v = _skewed("winograd.tiles", C, m_ * T, dt)
        if numba_path:
            _input_numba(src, n0, pad[0], pad[2], th, tw, v, _constants(dt))
        else:
            _input_numpy(src, n0, pad[0], pad[2], th, tw, v, _constants(dt))
        prod = _skewed("winograd.products", Co, m_ * T, dt)
        uu = resolve(u)
        np.matmul(uu, v.reshape(36, groups, Cg, m_ * T), out=prod.reshape(36, groups, Cog, m_ * T))
        if numba_path:
            _output_numba(prod, bias, n0, th, tw, out, _constants(dt))
        else:
            _output_numpy(prod, bias, n0, th, tw, out)
        if relu:
            relu_images(out, n0, m_)

    if isinstance(u, Once):
        tasks = (u, *tasks)
    map_slabs(slab, N, nb, numba_path, tasks)


def winograd4_conv_dw(
    g: np.ndarray,
    x: np.ndarray,
    dw: np.ndarray,
    db: np.ndarray,
    pad: Pad4,
    tasks: Sequence[Callable[[], Any]] = (),
    defer: bool = False,
    background: bool = False,
) -> Callable[[], None] | None:
    """Weight and bias gradients of a 3x3 stride-1 convolution by Winograd F(3x3, 4x4).

    Args:
        g: output gradient ``(N, C_out, Ho, Wo)``, C-contiguous.
        x: forward input ``(N, C, H, W)``, C-contiguous.
        dw: ``(C_out, C/groups, 3, 3)``, overwritten.
        db: ``(C_out,)`` float64, incremented by the sums of ``g``.
        pad: (top, bottom, left, right).
        tasks: further independent work for ``map_slabs`` to overlap with the slabs.
        defer: leave the final (serial) reduction of the slabs' parts undone and return it as
            a call, for the caller to overlap with its next slabs (``map_slabs(tasks=...)``).
        background: inside a backward pass, leave the whole computation to the kernel threads
            (``map_slabs_later``): ``dw`` and ``db`` are written later, ``dw`` marked pending.

    Returns:
        With ``defer``, the call that writes ``dw`` and adds to ``db``; else None (both done).
    """
    N, C, H, W = x.shape
    Co, Cg = dw.shape[:2]
    groups = C // Cg
    Cog = Co // groups
    Ho, Wo = g.shape[2], g.shape[3]
    th, tw = (Ho + 3) // 4, (Wo + 3) // 4
    T = th * tw
    dt = x.dtype
    nb = int(max(1, min(N, _SLAB_BYTES // max(1, 36 * C * T * dt.itemsize))))
    numba_path = use_numba(x)

    def slab(n0: int, m_: int) -> tuple[np.ndarray, np.ndarray]:
        db_part = np.zeros(Co, dtype=np.float64)
        v = _skewed("winograd.tiles", C, m_ * T, dt)
        gt = _skewed("winograd.grad", Co, m_ * T, dt)
        if numba_path:
            _input_numba(x, n0, pad[0], pad[2], th, tw, v, _constants(dt))
            _grad_numba(g, n0, th, tw, gt, db_part, _constants(dt))
        else:
            _input_numpy(x, n0, pad[0], pad[2], th, tw, v, _constants(dt))
            _grad_numpy(g, n0, th, tw, gt, db_part)
        v4 = v.reshape(36, groups, Cg, m_ * T).transpose(0, 1, 3, 2)
        return np.matmul(gt.reshape(36, groups, Cog, m_ * T), v4), db_part

    def finish(parts: list[tuple[np.ndarray, np.ndarray]]) -> None:
        total = parts[0][0]
        sum_slab_parts(parts, total, db)
        m = total.reshape(36, Co * Cg).astype(np.float64)
        dw[...] = serial_matmul(_GG.T, m).T.reshape(Co, Cg, 3, 3)  # G^T M G for each pair

    if background:
        map_slabs_later(slab, N, nb, numba_path, finish, dw, tasks)
        return None
    parts = map_slabs(slab, N, nb, numba_path, tasks)
    if defer:
        return lambda: finish(parts)
    finish(parts)
    return None
