"""3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3).

Each 2x2 block of outputs of one channel pair needs 16 multiplications instead of 36:
``Y = A^T [(G g G^T) * (B^T d B)] A`` for a 4x4 input tile ``d`` and 3x3 kernel ``g``, with

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

Summed over input channels, the elementwise products become 16 independent GEMMs,
``M[k] = U[k] @ V[k]`` with ``U[k]`` ``(C_out, C)`` (transformed kernels) and ``V[k]``
``(C, tiles)`` (transformed input tiles), so the convolution costs 2.25x fewer multiply-adds
than im2col + GEMM and moves 4x the input (not 9x) through memory. Rounding differs from direct
summation by a few ulps of the inputs' magnitude. Per slab of images: pad, transform tiles,
16 GEMMs (one batched ``np.matmul``), inverse-transform and crop (odd output sizes compute a
discarded last row/column).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.kernels._dispatch import jit_serial, use_numba
from chainrule.kernels._gemm import serial_matmul
from chainrule.kernels._parallel import Once, map_slabs, resolve, scratch, sum_slab_parts
from chainrule.kernels.im2col import pad_planes
from chainrule.kernels.pointwise import relu_images

__all__ = ["winograd_conv", "winograd_conv_dw", "winograd_weights"]

Pad4 = tuple[int, int, int, int]

# Bytes of transformed input tiles per slab (they play the part of im2col's columns)
_SLAB_BYTES = 4 * 1024 * 1024

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_BT = np.array([[1.0, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
_AT = np.array([[1.0, 1, 1, 0], [0, 1, -1, -1]])
# G (x) G: row 4a+b, column 3i+j holds G[a, i] G[b, j], so that the kernel transform of every
# channel pair is one GEMM, ``U = GG @ g.reshape(9)`` (and the weight gradient's ``GG.T @ M``)
_GG = np.kron(_G, _G)


def _input_loops(xp, Wp, th, tw, v):  # pragma: no cover - numba
    # xp (nb, C, L) padded planes of pitch Wp; v (16, C, nb*th*tw) transformed tiles.
    # One strip of tiles (tile row a) at a time: B^T over the strip's 4 rows, vectorised along
    # the row, then B along each tile's 4 columns.
    nb, C, _ = xp.shape
    T = th * tw
    e = np.empty((4, Wp), dtype=xp.dtype)
    for c in range(C):
        for b in range(nb):
            plane = xp[b, c]
            vc = v[:, c, b * T : (b + 1) * T]
            for a in range(th):
                r = 2 * a * Wp
                for x in range(Wp):
                    x1 = plane[r + Wp + x]
                    x2 = plane[r + 2 * Wp + x]
                    e[0, x] = plane[r + x] - x2
                    e[1, x] = x1 + x2
                    e[2, x] = x2 - x1
                    e[3, x] = x1 - plane[r + 3 * Wp + x]
                for i in range(4):
                    k = 4 * i
                    for q in range(tw):
                        t = a * tw + q
                        e1 = e[i, 2 * q + 1]
                        e2 = e[i, 2 * q + 2]
                        vc[k, t] = e[i, 2 * q] - e2
                        vc[k + 1, t] = e1 + e2
                        vc[k + 2, t] = e2 - e1
                        vc[k + 3, t] = e1 - e[i, 2 * q + 3]


def _output_loops(m, bias, n0, th, tw, y):  # pragma: no cover - numba
    # m (16, Co, nb*th*tw) products; y (N, Co, Ho, Wo) receives A^T m A + bias, cropped.
    _, Co, NT = m.shape
    T = th * tw
    nb = NT // T
    Ho, Wo = y.shape[2], y.shape[3]
    f = np.empty((8, tw), dtype=m.dtype)
    for co in range(Co):
        bv = bias[co]
        for b in range(nb):
            mc = m[:, co, b * T : (b + 1) * T]
            out = y[n0 + b, co]
            for a in range(th):
                for j in range(4):  # rows of A^T m, column j, for every tile of the strip
                    top = f[j]
                    bottom = f[4 + j]
                    for q in range(tw):
                        t = a * tw + q
                        top[q] = mc[j, t] + mc[4 + j, t] + mc[8 + j, t]
                        bottom[q] = mc[4 + j, t] - mc[8 + j, t] - mc[12 + j, t]
                for i in range(2):
                    h = 2 * a + i
                    if h < Ho:
                        full = Wo // 2
                        for q in range(full):
                            g1 = f[4 * i + 1, q]
                            g2 = f[4 * i + 2, q]
                            out[h, 2 * q] = f[4 * i, q] + g1 + g2 + bv
                            out[h, 2 * q + 1] = g1 - g2 - f[4 * i + 3, q] + bv
                        if full < tw:  # odd width: the last tile's left column only
                            out[h, 2 * full] = (
                                f[4 * i, full] + f[4 * i + 1, full] + (f[4 * i + 2, full] + bv)
                            )


def _grad_loops(g, n0, th, tw, gt, db):  # pragma: no cover - numba
    # g (N, Co, Ho, Wo) output gradient; gt (16, Co, nb*th*tw) receives A gtile A^T per 2x2 tile
    # (zero beyond the output), A = [[1, 0], [1, 1], [1, -1], [0, -1]]; db[co] += sum of g.
    # One strip of tiles at a time: A over the strip's two rows, vectorised, then A^T per tile.
    _, Co, NT = gt.shape
    T = th * tw
    nb = NT // T
    Ho, Wo = g.shape[2], g.shape[3]
    e = np.zeros((4, 2 * tw), dtype=gt.dtype)
    for co in range(Co):
        s = 0.0
        for b in range(nb):
            gp = g[n0 + b, co]
            gc = gt[:, co, b * T : (b + 1) * T]
            for a in range(th):
                h = 2 * a
                for x in range(Wo):
                    g0 = gp[h, x]
                    g1 = gp[h + 1, x] if h + 1 < Ho else 0.0
                    s += g0 + g1
                    e[0, x] = g0
                    e[1, x] = g0 + g1
                    e[2, x] = g0 - g1
                    e[3, x] = -g1
                for i in range(4):
                    k = 4 * i
                    for q in range(tw):
                        t = a * tw + q
                        x0 = e[i, 2 * q]
                        x1 = e[i, 2 * q + 1]
                        gc[k, t] = x0
                        gc[k + 1, t] = x0 + x1
                        gc[k + 2, t] = x0 - x1
                        gc[k + 3, t] = -x1
        db[co] += s


_input_numba = jit_serial(_input_loops)
_output_numba = jit_serial(_output_loops)
_grad_numba = jit_serial(_grad_loops)


def _input_numpy(xp: np.ndarray, Wp: int, th: int, tw: int, v: np.ndarray) -> None:
    nb, C, L = xp.shape
    grid = xp[:, :, : (L // Wp) * Wp].reshape(nb, C, L // Wp, Wp)
    tiles = np.empty((4, 4, C, nb, th, tw), dtype=xp.dtype)
    for i in range(4):
        for j in range(4):
            tiles[i, j] = grid[:, :, i : i + 2 * th : 2, j : j + 2 * tw : 2].transpose(1, 0, 2, 3)
    bt = _BT.astype(xp.dtype)
    out = np.einsum("ai,ijcnpq,bj->abcnpq", bt, tiles, bt, optimize=True)
    v[...] = out.reshape(16, C, nb * th * tw)


def _output_numpy(
    m: np.ndarray, bias: np.ndarray, n0: int, th: int, tw: int, y: np.ndarray
) -> None:
    _, Co, NT = m.shape
    nb = NT // (th * tw)
    Ho, Wo = y.shape[2], y.shape[3]
    at = _AT.astype(m.dtype)
    blocks = np.einsum(
        "ia,abcnpq,jb->ijcnpq", at, m.reshape(4, 4, Co, nb, th, tw), at, optimize=True
    )
    # blocks[i, j, co, n, p, q] is output (2p + i, 2q + j)
    full = blocks.transpose(3, 2, 4, 0, 5, 1).reshape(nb, Co, 2 * th, 2 * tw)
    np.add(full[:, :, :Ho, :Wo], bias[:, None, None], out=y[n0 : n0 + nb])


_A = _AT.T


def _grad_numpy(g: np.ndarray, n0: int, th: int, tw: int, gt: np.ndarray, db: np.ndarray) -> None:
    _, Co, NT = gt.shape
    nb = NT // (th * tw)
    Ho, Wo = g.shape[2], g.shape[3]
    full = np.zeros((nb, Co, 2 * th, 2 * tw), dtype=g.dtype)
    full[:, :, :Ho, :Wo] = g[n0 : n0 + nb]
    tiles = full.reshape(nb, Co, th, 2, tw, 2).transpose(3, 5, 1, 0, 2, 4)  # (2, 2, Co, n, p, q)
    a = _A.astype(g.dtype)
    out = np.einsum("ai,ijcnpq,bj->abcnpq", a, tiles, a, optimize=True)
    gt[...] = out.reshape(16, Co, NT)
    db += g[n0 : n0 + nb].sum(axis=(0, 2, 3), dtype=np.float64)


def winograd_weights(w: np.ndarray, groups: int) -> np.ndarray:
    """Transformed kernels ``U = G g G^T`` as ``(16, groups, C_out/groups, C/groups)``."""
    Co, Cg = w.shape[:2]
    u = serial_matmul(_GG, w.reshape(Co * Cg, 9).astype(np.float64).T)  # (16, Co*Cg), float64
    return np.ascontiguousarray(u.reshape(16, groups, Co // groups, Cg).astype(w.dtype))


def winograd_conv(
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
        u: transformed kernels from ``winograd_weights``, or a ``Once`` making them (with its
            ``shape`` given), which one thread computes while the others transform inputs.
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
    th, tw = (Ho + 1) // 2, (Wo + 1) // 2
    Hp = max(H + pad[0] + pad[1], 2 * th + 2)
    Wp = max(W + pad[2] + pad[3], 2 * tw + 2)
    L = Hp * Wp
    T = th * tw
    dt = src.dtype
    nb = int(max(1, min(N, _SLAB_BYTES // max(1, 16 * C * T * dt.itemsize))))
    numba_path = use_numba(src)

    def slab(n0: int, m_: int) -> None:
        xp = scratch("winograd.planes", m_ * C * L, dt).reshape(m_, C, L)
        pad_planes(src, n0, pad[0], pad[2], Wp, xp)
        v = scratch("winograd.tiles", 16 * C * m_ * T, dt).reshape(16, C, m_ * T)
        if numba_path:
            _input_numba(xp, Wp, th, tw, v)
        else:
            _input_numpy(xp, Wp, th, tw, v)
        prod = scratch("winograd.products", 16 * Co * m_ * T, dt).reshape(16, groups, Cog, m_ * T)
        np.matmul(resolve(u), v.reshape(16, groups, Cg, m_ * T), out=prod)
        prod = prod.reshape(16, Co, m_ * T)
        if numba_path:
            _output_numba(prod, bias, n0, th, tw, out)
        else:
            _output_numpy(prod, bias, n0, th, tw, out)
        if relu:
            relu_images(out, n0, m_)

    if isinstance(u, Once):
        tasks = (u, *tasks)
    map_slabs(slab, N, nb, numba_path, tasks)


def winograd_conv_dw(
    g: np.ndarray, x: np.ndarray, dw: np.ndarray, db: np.ndarray, pad: Pad4
) -> None:
    """Weight and bias gradients of a 3x3 stride-1 convolution by Winograd F(3x3, 2x2).

    The weight gradient correlates each 4x4 input tile with the 2x2 output-gradient tile over it:
    ``dw_tile = G^T [(A gtile A^T) * (B^T d B)] G`` (the same input transform as the forward
    pass), summed over tiles in the transformed domain as 16 GEMMs ``(C_out, tiles) @ (tiles, C)``.

    Args:
        g: output gradient ``(N, C_out, Ho, Wo)``, C-contiguous.
        x: forward input ``(N, C, H, W)``, C-contiguous.
        dw: ``(C_out, C/groups, 3, 3)``, overwritten.
        db: ``(C_out,)`` float64, incremented by the sums of ``g``.
        pad: (top, bottom, left, right).
    """
    N, C, H, W = x.shape
    Co, Cg = dw.shape[:2]
    groups = C // Cg
    Cog = Co // groups
    Ho, Wo = g.shape[2], g.shape[3]
    th, tw = (Ho + 1) // 2, (Wo + 1) // 2
    Hp = max(H + pad[0] + pad[1], 2 * th + 2)
    Wp = max(W + pad[2] + pad[3], 2 * tw + 2)
    L = Hp * Wp
    T = th * tw
    dt = x.dtype
    nb = int(max(1, min(N, _SLAB_BYTES // max(1, 16 * C * T * dt.itemsize))))
    numba_path = use_numba(x)

    def slab(n0: int, m_: int) -> tuple[np.ndarray, np.ndarray]:
        db_part = np.zeros(Co, dtype=np.float64)
        xp = scratch("winograd.planes", m_ * C * L, dt).reshape(m_, C, L)
        pad_planes(x, n0, pad[0], pad[2], Wp, xp)
        v = scratch("winograd.tiles", 16 * C * m_ * T, dt).reshape(16, C, m_ * T)
        gt = scratch("winograd.grad", 16 * Co * m_ * T, dt).reshape(16, Co, m_ * T)
        if numba_path:
            _input_numba(xp, Wp, th, tw, v)
            _grad_numba(g, n0, th, tw, gt, db_part)
        else:
            _input_numpy(xp, Wp, th, tw, v)
            _grad_numpy(g, n0, th, tw, gt, db_part)
        v4 = v.reshape(16, groups, Cg, m_ * T).transpose(0, 1, 3, 2)
        return np.matmul(gt.reshape(16, groups, Cog, m_ * T), v4), db_part

    parts = map_slabs(slab, N, nb, numba_path)
    total = parts[0][0]
    sum_slab_parts(parts, total, db)
    m = total.reshape(16, Co * Cg).astype(np.float64)
    dw[...] = serial_matmul(_GG.T, m).T.reshape(Co, Cg, 3, 3)  # G^T M G for every channel pair
