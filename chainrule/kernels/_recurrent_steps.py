"""One time step of each recurrent layer, forward and backward, as numba kernels and NumPy twins.

The drivers in ``recurrent.py`` call these once per step between two GEMMs. Each numba kernel
handles every row of the batch in short single-purpose loops over 1-D row views, which LLVM
vectorises; the NumPy twin does the same work with whole-array operations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.kernels._gate_math import HAVE_NUMBA, sigmoid, tanh

if HAVE_NUMBA:
    import numba as _numba

__all__ = [
    "lstm_fwd_numba", "lstm_bwd_numba", "gru_fwd_numba", "gru_bwd_numba", "rnn_fwd_numba",
    "rnn_bwd_numba", "lstm_fwd_numpy", "lstm_bwd_numpy", "gru_fwd_numpy", "gru_bwd_numpy",
    "rnn_fwd_numpy", "rnn_bwd_numpy",
]  # fmt: skip

_ONE32 = np.float32(1.0)  # keeps float32 arithmetic in float32 (and float64 in float64)


def _serial_jit(fn: Callable[..., Any]) -> Callable[..., Any] | None:
    """Compile a per-step kernel: serial on purpose, a thread pool per small step costs more than
    the step itself and fights the BLAS threads of the GEMM that runs between two steps.

    ``error_model='numpy'`` drops the division-by-zero checks and ``contract`` allows fused
    multiply-adds, so that LLVM vectorises the inner loops (no other fast-math liberties)."""
    if not HAVE_NUMBA:
        return None
    return _numba.njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")(fn)


# Each step kernel gets the step's slice of the gate buffer ``g`` (pre-activations from the
# input projection, overwritten with the activations), the recurrent GEMM result ``rec`` and the
# row flags. Rows are processed as 1-D views in short single-purpose loops, which LLVM vectorises.


def _lstm_fwd_loops(g, rec, c_prev, h_prev, c_next, h_next, tc, y, act):  # pragma: no cover
    B, H = c_prev.shape
    for b in range(B):
        cp, cn, hn, tb, yb = c_prev[b], c_next[b], h_next[b], tc[b], y[b]
        if act[b]:
            gb, rb = g[b], rec[b]
            for j in range(2 * H):
                gb[j] = sigmoid(gb[j] + rb[j])  # i, f
            for j in range(2 * H, 3 * H):
                gb[j] = tanh(gb[j] + rb[j])  # g
            for j in range(3 * H, 4 * H):
                gb[j] = sigmoid(gb[j] + rb[j])  # o
            for j in range(H):
                cn[j] = gb[H + j] * cp[j] + gb[j] * gb[2 * H + j]
            for j in range(H):
                t = tanh(cn[j])
                tb[j] = t
                hn[j] = gb[3 * H + j] * t
                yb[j] = gb[3 * H + j] * t
        else:
            hp = h_prev[b]
            for j in range(H):
                cn[j] = cp[j]
                hn[j] = hp[j]
                tb[j] = 0.0
                yb[j] = 0.0


def _lstm_bwd_loops(g, c_prev, tc, dy, rec, dh, dc, dg, act):  # pragma: no cover
    # dh enters as the gradient carried past inactive rows; rec = dG[next] @ w_hh
    B, H = c_prev.shape
    for b in range(B):
        gb, cp, tb, dyb, rb, dhb, dcb, dgb = (
            g[b],
            c_prev[b],
            tc[b],
            dy[b],
            rec[b],
            dh[b],
            dc[b],
            dg[b],
        )
        if act[b]:
            for j in range(H):
                i = gb[j]
                f = gb[H + j]
                n = gb[2 * H + j]
                o = gb[3 * H + j]
                t = tb[j]
                d_h = dhb[j] + rb[j] + dyb[j]
                d_c = dcb[j] + d_h * o * (_ONE32 - t * t)
                dgb[j] = d_c * n * i * (_ONE32 - i)
                dgb[H + j] = d_c * cp[j] * f * (_ONE32 - f)
                dgb[2 * H + j] = d_c * i * (_ONE32 - n * n)
                dgb[3 * H + j] = d_h * t * o * (_ONE32 - o)
                dcb[j] = d_c * f
                dhb[j] = 0.0
        else:
            for j in range(H):
                dhb[j] += rb[j]
            for j in range(4 * H):
                dgb[j] = 0.0


def _gru_fwd_loops(g, rec, b_hn, h_prev, h_next, hn, y, act):  # pragma: no cover
    B, H = h_prev.shape
    for b in range(B):
        hp, hb, mb, yb = h_prev[b], h_next[b], hn[b], y[b]
        if act[b]:
            gb, rb = g[b], rec[b]
            for j in range(2 * H):
                gb[j] = sigmoid(gb[j] + rb[j])  # r, z
            for j in range(H):
                m = rb[2 * H + j] + b_hn[j]
                mb[j] = m
                gb[2 * H + j] = tanh(gb[2 * H + j] + gb[j] * m)  # n
            for j in range(H):
                n = gb[2 * H + j]
                hb[j] = n + gb[H + j] * (hp[j] - n)
                yb[j] = n + gb[H + j] * (hp[j] - n)
        else:
            for j in range(H):
                hb[j] = hp[j]
                mb[j] = 0.0
                yb[j] = 0.0


def _gru_bwd_loops(g, hn, h_prev, dy, rec, dh, dgx, dgh, act):  # pragma: no cover
    B, H = h_prev.shape
    for b in range(B):
        gb, mb, hp, dyb, rb, dhb = g[b], hn[b], h_prev[b], dy[b], rec[b], dh[b]
        dxb, dhhb = dgx[b], dgh[b]
        if act[b]:
            for j in range(H):
                r = gb[j]
                z = gb[H + j]
                n = gb[2 * H + j]
                d_h = dhb[j] + rb[j] + dyb[j]
                dn = d_h * (_ONE32 - z) * (_ONE32 - n * n)
                dr = dn * mb[j] * r * (_ONE32 - r)
                dz = d_h * (hp[j] - n) * z * (_ONE32 - z)
                dxb[j] = dr
                dxb[H + j] = dz
                dxb[2 * H + j] = dn
                dhhb[j] = dr
                dhhb[H + j] = dz
                dhhb[2 * H + j] = dn * r
                dhb[j] = d_h * z
        else:
            for j in range(H):
                dhb[j] += rb[j]
            for j in range(3 * H):
                dxb[j] = 0.0
                dhhb[j] = 0.0


def _rnn_fwd_loops(g, rec, relu, h_prev, h_next, y, act):  # pragma: no cover
    B, H = h_prev.shape
    for b in range(B):
        hp, hb, yb = h_prev[b], h_next[b], y[b]
        if act[b]:
            gb, rb = g[b], rec[b]
            if relu:
                for j in range(H):
                    hb[j] = max(gb[j] + rb[j], 0.0)
            else:
                for j in range(H):
                    hb[j] = tanh(gb[j] + rb[j])
            for j in range(H):
                yb[j] = hb[j]
        else:
            for j in range(H):
                hb[j] = hp[j]
                yb[j] = 0.0


def _rnn_bwd_loops(h_next, relu, dy, rec, dh, dg, act):  # pragma: no cover
    B, H = h_next.shape
    for b in range(B):
        hb, dyb, rb, dhb, dgb = h_next[b], dy[b], rec[b], dh[b], dg[b]
        if act[b]:
            if relu:
                for j in range(H):
                    d_h = dhb[j] + rb[j] + dyb[j]
                    dgb[j] = d_h if hb[j] > 0.0 else 0.0
            else:
                for j in range(H):
                    d_h = dhb[j] + rb[j] + dyb[j]
                    dgb[j] = d_h * (_ONE32 - hb[j] * hb[j])
            for j in range(H):
                dhb[j] = 0.0
        else:
            for j in range(H):
                dhb[j] += rb[j]
                dgb[j] = 0.0


lstm_fwd_numba = _serial_jit(_lstm_fwd_loops)
lstm_bwd_numba = _serial_jit(_lstm_bwd_loops)
gru_fwd_numba = _serial_jit(_gru_fwd_loops)
gru_bwd_numba = _serial_jit(_gru_bwd_loops)
rnn_fwd_numba = _serial_jit(_rnn_fwd_loops)
rnn_bwd_numba = _serial_jit(_rnn_bwd_loops)


# ---------------------------------------------------------------------------------- NumPy twins
def _np_sigmoid(a: np.ndarray) -> None:
    """In place: sigmoid(a) = (1 + tanh(a / 2)) / 2, which never overflows."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5


def _keep(act: np.ndarray | None) -> np.ndarray | None:
    """Column of booleans for rows that skip this step, or None when every row is active."""
    if act is None or act.all():
        return None
    return (act == 0)[:, None]


def lstm_fwd_numpy(g, rec, c_prev, h_prev, c_next, h_next, tc, y, act):
    H = c_prev.shape[1]
    g += rec
    _np_sigmoid(g[:, : 2 * H])
    np.tanh(g[:, 2 * H : 3 * H], out=g[:, 2 * H : 3 * H])
    _np_sigmoid(g[:, 3 * H :])
    np.multiply(g[:, H : 2 * H], c_prev, out=c_next)
    c_next += g[:, :H] * g[:, 2 * H : 3 * H]
    np.tanh(c_next, out=tc)
    np.multiply(g[:, 3 * H :], tc, out=h_next)
    y[...] = h_next
    skip = _keep(act)
    if skip is not None:
        np.copyto(c_next, c_prev, where=skip)
        np.copyto(h_next, h_prev, where=skip)
        np.copyto(y, 0.0, where=skip)
        np.copyto(tc, 0.0, where=skip)


def lstm_bwd_numpy(g, c_prev, tc, dy, rec, dh, dc, dg, act):
    H = c_prev.shape[1]
    i, f, n, o = g[:, :H], g[:, H : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :]
    d_h = dh + rec + dy
    d_c = dc + d_h * o * (1.0 - tc * tc)
    dg[:, :H] = d_c * n * i * (1.0 - i)
    dg[:, H : 2 * H] = d_c * c_prev * f * (1.0 - f)
    dg[:, 2 * H : 3 * H] = d_c * i * (1.0 - n * n)
    dg[:, 3 * H :] = d_h * tc * o * (1.0 - o)
    skip = _keep(act)
    if skip is None:
        np.multiply(d_c, f, out=dc)
        dh[...] = 0.0
        return
    dh += rec
    np.copyto(dc, d_c * f, where=~skip)
    np.copyto(dh, 0.0, where=~skip)
    np.copyto(dg, 0.0, where=skip)


def gru_fwd_numpy(g, rec, b_hn, h_prev, h_next, hn, y, act):
    H = h_prev.shape[1]
    g[:, : 2 * H] += rec[:, : 2 * H]
    _np_sigmoid(g[:, : 2 * H])
    np.add(rec[:, 2 * H :], b_hn, out=hn)
    n = g[:, 2 * H :]
    n += g[:, :H] * hn
    np.tanh(n, out=n)
    np.subtract(h_prev, n, out=h_next)
    h_next *= g[:, H : 2 * H]
    h_next += n
    y[...] = h_next
    skip = _keep(act)
    if skip is not None:
        np.copyto(h_next, h_prev, where=skip)
        np.copyto(hn, 0.0, where=skip)
        np.copyto(y, 0.0, where=skip)


def gru_bwd_numpy(g, hn, h_prev, dy, rec, dh, dgx, dgh, act):
    H = h_prev.shape[1]
    r, z, n = g[:, :H], g[:, H : 2 * H], g[:, 2 * H :]
    d_h = dh + rec + dy
    dn = d_h * (1.0 - z) * (1.0 - n * n)
    dgx[:, :H] = dn * hn * r * (1.0 - r)
    dgx[:, H : 2 * H] = d_h * (h_prev - n) * z * (1.0 - z)
    dgx[:, 2 * H :] = dn
    dgh[:, : 2 * H] = dgx[:, : 2 * H]
    dgh[:, 2 * H :] = dn * r
    skip = _keep(act)
    if skip is None:
        np.multiply(d_h, z, out=dh)
        return
    dh += rec
    np.copyto(dh, d_h * z, where=~skip)
    np.copyto(dgx, 0.0, where=skip)
    np.copyto(dgh, 0.0, where=skip)


def rnn_fwd_numpy(g, rec, relu, h_prev, h_next, y, act):
    np.add(g, rec, out=h_next)
    if relu:
        np.maximum(h_next, 0.0, out=h_next)
    else:
        np.tanh(h_next, out=h_next)
    y[...] = h_next
    skip = _keep(act)
    if skip is not None:
        np.copyto(h_next, h_prev, where=skip)
        np.copyto(y, 0.0, where=skip)


def rnn_bwd_numpy(h_next, relu, dy, rec, dh, dg, act):
    d_h = dh + rec + dy
    if relu:
        np.multiply(d_h, h_next > 0, out=dg)
    else:
        np.multiply(d_h, 1.0 - h_next * h_next, out=dg)
    skip = _keep(act)
    if skip is None:
        dh[...] = 0.0
        return
    dh += rec
    np.copyto(dh, 0.0, where=~skip)
    np.copyto(dg, 0.0, where=skip)
