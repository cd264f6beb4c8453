"""Recurrent layers over a whole sequence: Elman RNN, LSTM and GRU, forward and backward (BPTT).

One call runs one layer in one direction over all ``T`` steps of a ``(T, B, I)`` sequence:

- the input projection of every step is one GEMM, ``x.reshape(T*B, I) @ w_ih.T + b``, written into
  the buffer that later holds the gate activations;
- each step is one GEMM ``h_prev @ w_hh.T`` for all gates at once, then one fused kernel applies the
  gate nonlinearities and the state update (numba on the CPU, a NumPy twin otherwise);
- backward walks the steps in reverse: per step one fused kernel turns ``dh``/``dc`` into gate
  gradients and one GEMM ``dgates @ w_hh`` carries ``dh`` to the previous step. The weight
  gradients are then single GEMMs over all steps at once: ``dW_hh = dG^T @ H_prev`` and
  ``dW_ih = dG^T @ X`` with ``dG`` of shape ``(T*B, gates*H)``.

Memory is linear in ``T``: the saved gate activations and states are ``O(T * B * H)``.

Variable-length batches use ``active``, a ``(T, B)`` array of 0/1: a row that is inactive at a step
keeps its state unchanged and outputs zero there. With ``active[t, b] = t < length[b]`` this is
PyTorch's packed-sequence semantics in both directions (the reverse direction of a row starts at its
last valid step, because its state stays at ``h0`` until then).

Gate order is PyTorch's: LSTM ``i, f, g, o``; GRU ``r, z, n`` with ``n = tanh(W_in x + b_in +
r * (W_hn h + b_hn))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from chainrule.backend import config, get_array_module

__all__ = ["RecurrentCache", "recurrent_forward", "recurrent_backward", "GATES", "MODES"]

try:  # numba is optional: without it the NumPy twins below run
    import numba as _numba

    HAVE_NUMBA = True
except Exception:  # noqa: BLE001 - any failure to import numba means "no numba"
    _numba = None
    HAVE_NUMBA = False

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
MODES = tuple(GATES)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONE32 = np.float32(1.0)  # keeps float32 arithmetic in float32 (and float64 in float64)


def _serial_jit(fn: Callable[..., Any]) -> Callable[..., Any] | None:
    """Compile a per-step kernel: serial on purpose, a thread pool per small step costs more than
    the step itself and fights the BLAS threads of the GEMM that runs between two steps.

    ``error_model='numpy'`` drops the division-by-zero checks and ``contract`` allows fused
    multiply-adds, so that LLVM vectorises the inner loops (no other fast-math liberties)."""
    if not HAVE_NUMBA:
        return None
    return _numba.njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")(fn)


def _use_numba(*arrays: np.ndarray) -> bool:
    if not (HAVE_NUMBA and config.use_numba):
        return False
    return all(isinstance(a, np.ndarray) and a.dtype in _FLOATS for a in arrays)


# ---------------------------------------------------------------------------------- BLAS threads
# The per-step GEMMs are small ((B, H) @ (H, G*H)). Split over threads, each call pays a thread
# handshake, and on a busy machine one descheduled partner stalls every step: measured 10-40x slower
# than one thread under load. OpenBLAS (0.3.27+) can set the thread count of the calling thread
# only; the step loops use one thread when a step's GEMM is below _SMALL_GEMM multiply-adds, and the
# large GEMMs (input projection, weight gradients) keep every thread.
_SMALL_GEMM = 1 << 24
_set_threads_local: Any = None
_looked_up = False


def _blas_set_threads_local() -> Any:
    """``openblas_set_num_threads_local`` of the OpenBLAS NumPy uses, or None if unavailable."""
    global _set_threads_local, _looked_up
    if _looked_up:
        return _set_threads_local
    _looked_up = True
    try:
        import ctypes
        import glob
        import os

        base = os.path.dirname(np.__file__)
        patterns = (
            "../numpy.libs/*openblas*.so*",
            ".dylibs/*openblas*.dylib",
            "../numpy.libs/*.dll",
        )
        for pattern in patterns:
            for path in glob.glob(os.path.join(base, pattern)):
                fn = getattr(ctypes.CDLL(path), "openblas_set_num_threads_local", None)
                if fn is not None:
                    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
                    _set_threads_local = fn
                    return fn
    except Exception:  # noqa: BLE001 - any failure means "leave the thread count alone"
        _set_threads_local = None
    return _set_threads_local


class _BlasThreads:
    """``with _BlasThreads(n):`` runs BLAS on ``n`` threads in this thread (no-op if n is None)."""

    def __init__(self, n: int | None) -> None:
        self.fn = _blas_set_threads_local() if n is not None else None
        self.n, self.prev = n, None

    def __enter__(self) -> None:
        if self.fn is not None:
            self.prev = self.fn(self.n)

    def __exit__(self, *exc: object) -> None:
        if self.fn is not None and self.prev is not None and self.prev > 0:
            self.fn(self.prev)


def _step_threads(B: int, H: int, G: int, xp: Any) -> int | None:
    return 1 if xp is np and B * H * G * H < _SMALL_GEMM else None


# ---------------------------------------------------------------------------------- scalar math
# float64 uses libm's exp. float32 uses exp written out in arithmetic, so that a loop of sigmoids
# vectorises (libm calls do not): y = n ln2 + r with n = round(y / ln2) and |r| <= ln2 / 2 (Cody &
# Waite: ln2 in two parts so that n * LN2_HI is exact), exp(r) - 1 from its Taylor series to r^8
# (truncation below 6e-9 for |r| <= 0.347), and 2^n built in the exponent bits. Rounding uses the
# 1.5 * 2^23 trick: adding it leaves round(t) in the low mantissa bits. Errors stay within ~2 ulp.


def _sigmoid(x: float) -> float:
    """Logistic function (the numba kernels use the overloads below)."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _tanh(x: float) -> float:
    """Hyperbolic tangent (the numba kernels use the overloads below)."""
    return math.tanh(x)


if HAVE_NUMBA:
    from llvmlite import ir as _ir
    from numba import types as _types
    from numba.extending import intrinsic as _intrinsic
    from numba.extending import overload as _overload

    _f32 = np.float32
    _MAGIC = _f32(12582912.0)  # 1.5 * 2**23
    _LOG2E = _f32(1.4426950408889634)
    _LN2_HI = _f32(0.693145751953125)  # 8 significant bits: n * _LN2_HI is exact for |n| < 2^15
    _LN2_LO = _f32(math.log(2.0) - 0.693145751953125)
    _INV_FACT = tuple(_f32(1.0 / math.factorial(k)) for k in range(2, 9))
    _ONE, _TWO = _f32(1.0), _f32(2.0)
    _LOW, _HIGH = _f32(-87.0), _f32(88.0)  # exp stays a normal, finite float32

    @_intrinsic
    def _pow2_of_rounded(typingctx: Any, t: Any) -> Any:
        """``2**n`` (float32) for ``t = 1.5 * 2**23 + n``: move n into the exponent bits."""
        if t != _types.float32:
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            i32 = _ir.IntType(32)
            bits = builder.bitcast(args[0], i32)
            biased = builder.sub(bits, _ir.Constant(i32, 0x4B400000 - 127))
            return builder.bitcast(builder.shl(biased, _ir.Constant(i32, 23)), _ir.FloatType())

        return _types.float32(_types.float32), codegen

    @_numba.njit(inline="always", fastmath={"contract"}, error_model="numpy")
    def _exp_parts32(y: Any) -> Any:
        """``(s, q)`` with ``exp(y) = s * (1 + q)``, ``s = 2**n`` and ``q = exp(r) - 1``."""
        y = min(max(y, _LOW), _HIGH)
        t = y * _LOG2E + _MAGIC
        n = t - _MAGIC
        r = (y - n * _LN2_HI) - n * _LN2_LO
        c2, c3, c4, c5, c6, c7, c8 = _INV_FACT
        q = r * (_ONE + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (c7 + r * c8)))))))
        return _pow2_of_rounded(t), q

    def _sigmoid32(x: Any) -> Any:
        s, q = _exp_parts32(-x)
        return _ONE / (_ONE + (s + s * q))

    def _tanh32(x: Any) -> Any:
        s, q = _exp_parts32(-_TWO * abs(x))
        em = s * q + (s - _ONE)  # expm1(-2|x|) without cancellation near 0
        return math.copysign(-em / (_TWO + em), x)

    def _sigmoid64(x: Any) -> Any:
        # exp(-|x|) never overflows; for x < 0 the result is e / (1 + e), computed without a branch
        e = math.exp(-abs(x))
        p = 1.0 / (1.0 + e)
        w = (x >= 0.0) * 1.0
        return p * (w + (1.0 - w) * e)

    def _tanh64(x: Any) -> Any:
        e = math.expm1(-2.0 * abs(x))
        return math.copysign(-e / (2.0 + e), x)

    @_overload(_sigmoid, inline="always")
    def _sigmoid_overload(x: Any) -> Any:
        return _sigmoid32 if x == _types.float32 else _sigmoid64

    @_overload(_tanh, inline="always")
    def _tanh_overload(x: Any) -> Any:
        return _tanh32 if x == _types.float32 else _tanh64


# ---------------------------------------------------------------------------------- step kernels
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
                gb[j] = _sigmoid(gb[j] + rb[j])  # i, f
            for j in range(2 * H, 3 * H):
                gb[j] = _tanh(gb[j] + rb[j])  # g
            for j in range(3 * H, 4 * H):
                gb[j] = _sigmoid(gb[j] + rb[j])  # o
            for j in range(H):
                cn[j] = gb[H + j] * cp[j] + gb[j] * gb[2 * H + j]
            for j in range(H):
                t = _tanh(cn[j])
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
                gb[j] = _sigmoid(gb[j] + rb[j])  # r, z
            for j in range(H):
                m = rb[2 * H + j] + b_hn[j]
                mb[j] = m
                gb[2 * H + j] = _tanh(gb[2 * H + j] + gb[j] * m)  # n
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
                    hb[j] = _tanh(gb[j] + rb[j])
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


_lstm_fwd_numba = _serial_jit(_lstm_fwd_loops)
_lstm_bwd_numba = _serial_jit(_lstm_bwd_loops)
_gru_fwd_numba = _serial_jit(_gru_fwd_loops)
_gru_bwd_numba = _serial_jit(_gru_bwd_loops)
_rnn_fwd_numba = _serial_jit(_rnn_fwd_loops)
_rnn_bwd_numba = _serial_jit(_rnn_bwd_loops)


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


def _lstm_fwd_numpy(g, rec, c_prev, h_prev, c_next, h_next, tc, y, act):
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


def _lstm_bwd_numpy(g, c_prev, tc, dy, rec, dh, dc, dg, act):
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


def _gru_fwd_numpy(g, rec, b_hn, h_prev, h_next, hn, y, act):
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


def _gru_bwd_numpy(g, hn, h_prev, dy, rec, dh, dgx, dgh, act):
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


def _rnn_fwd_numpy(g, rec, relu, h_prev, h_next, y, act):
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


def _rnn_bwd_numpy(h_next, relu, dy, rec, dh, dg, act):
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


# ---------------------------------------------------------------------------------- drivers
class RecurrentCache(NamedTuple):
    """What ``recurrent_forward`` keeps for ``recurrent_backward`` (all ``O(T * B * H)``)."""

    mode: str
    x: np.ndarray  # (T, B, I) input
    w_ih: np.ndarray  # (G*H, I)
    w_hh: np.ndarray  # (G*H, H)
    gates: np.ndarray  # (T, B, G*H) gate activations
    hs: np.ndarray  # (T+1, B, H) hidden states in time order, h0 at the start of the walk
    cs: np.ndarray | None  # (T+1, B, H) LSTM cell states
    aux: np.ndarray | None  # (T, B, H) LSTM tanh(c_t) / GRU W_hn h + b_hn
    active: np.ndarray | None  # (T, B) uint8 step flags, None when every step is active
    reverse: bool


def _steps(T: int, reverse: bool) -> list[tuple[int, int, int]]:
    """``(t, prev, next)`` in walk order: state ``prev`` enters step ``t``, ``next`` leaves it.

    States live in a ``(T+1, B, H)`` array: forward ``h_t`` is at ``t+1`` and ``h0`` at 0; reverse
    ``h_t`` is at ``t`` and ``h0`` at ``T``.
    """
    if reverse:
        return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
    return [(t, t, t + 1) for t in range(T)]


def recurrent_forward(
    mode: str,
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray | None = None,
    b_hh: np.ndarray | None = None,
    active: np.ndarray | None = None,
    reverse: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, RecurrentCache]:
    """Run one recurrent layer in one direction over a whole sequence.

    Args:
        mode: ``'lstm'``, ``'gru'``, ``'rnn_tanh'`` or ``'rnn_relu'``.
        x: input ``(T, B, I)``.
        h0: initial hidden state ``(B, H)``.
        c0: initial cell state ``(B, H)`` (LSTM only, else None).
        w_ih: ``(G*H, I)`` input weights, gates stacked in PyTorch's order (G = 4, 3 or 1).
        w_hh: ``(G*H, H)`` recurrent weights.
        b_ih: ``(G*H,)`` input bias or None.
        b_hh: ``(G*H,)`` recurrent bias or None.
        active: ``(T, B)`` 0/1 step flags (see the module docstring) or None for all steps.
        reverse: walk the sequence from ``T-1`` down to 0.
        out: optional ``(T, B, H)`` array (C-contiguous per step) to receive the outputs.

    Returns:
        ``(y, h_n, c_n, cache)``: outputs ``(T, B, H)`` (zero at inactive steps), final hidden
        state ``(B, H)``, final cell state (LSTM) or None, and the cache for backward.
    """
    T, B, _ = x.shape
    H = w_hh.shape[1]
    G = GATES[mode]
    dtype = x.dtype
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x)
    numba_ok = _use_numba(x, w_ih, w_hh, h0)
    # input projection of every step at once, with every bias that sits outside a nonlinearity
    gates = xp.empty((T, B, G * H), dtype=dtype)
    xp.matmul(x.reshape(T * B, -1), w_ih.T, out=gates.reshape(T * B, G * H))
    b_hn = None
    if b_ih is not None:
        bias = b_ih + b_hh
        if mode == "gru":
            bias[2 * H :] = b_ih[2 * H :]  # b_hn stays inside the reset product
            b_hn = xp.ascontiguousarray(b_hh[2 * H :])
        gates += bias
    if mode == "gru" and b_hn is None:
        b_hn = xp.zeros(H, dtype=dtype)
    hs = xp.empty((T + 1, B, H), dtype=dtype)
    start = T if reverse else 0
    hs[start] = h0
    cs = aux = None
    if mode == "lstm":
        cs = xp.empty((T + 1, B, H), dtype=dtype)
        cs[start] = c0
    if mode in ("lstm", "gru"):
        aux = xp.empty((T, B, H), dtype=dtype)
    y = xp.empty((T, B, H), dtype=dtype) if out is None else out
    rec = xp.empty((B, G * H), dtype=dtype)
    w_hh_t = w_hh.T
    relu = mode == "rnn_relu"
    active = None if active is None else xp.asarray(active)
    act_rows = active if active is not None else xp.ones((T, B), dtype=np.uint8)
    with _BlasThreads(_step_threads(B, H, G, xp)):
        for t, p, q in _steps(T, reverse):
            xp.matmul(hs[p], w_hh_t, out=rec)
            act = act_rows[t] if numba_ok or active is not None else None
            if mode == "lstm":
                step = _lstm_fwd_numba if numba_ok else _lstm_fwd_numpy
                step(gates[t], rec, cs[p], hs[p], cs[q], hs[q], aux[t], y[t], act)
            elif mode == "gru":
                step = _gru_fwd_numba if numba_ok else _gru_fwd_numpy
                step(gates[t], rec, b_hn, hs[p], hs[q], aux[t], y[t], act)
            else:
                step = _rnn_fwd_numba if numba_ok else _rnn_fwd_numpy
                step(gates[t], rec, relu, hs[p], hs[q], y[t], act)
    end = 0 if reverse else T
    c_n = None if cs is None else cs[end]
    cache = RecurrentCache(mode, x, w_ih, w_hh, gates, hs, cs, aux, active, reverse)
    return y, hs[end], c_n, cache


def recurrent_backward(
    cache: RecurrentCache,
    dy: np.ndarray,
    dh_n: np.ndarray,
    dc_n: np.ndarray | None = None,
    need_dx: bool = True,
    need_dweights: bool = True,
    has_bias: bool = True,
) -> tuple[Any, ...]:
    """Backpropagation through time for ``recurrent_forward``.

    Args:
        cache: the cache returned by the forward call.
        dy: gradient of the outputs ``(T, B, H)`` (ignored at inactive steps).
        dh_n: gradient of the final hidden state ``(B, H)``.
        dc_n: gradient of the final cell state ``(B, H)`` (LSTM), or None.
        need_dx: compute the input gradient.
        need_dweights: compute the weight and bias gradients.
        has_bias: return bias gradients (else None in their places).

    Returns:
        ``(dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)``; entries not needed are None.
    """
    mode, x, w_ih, w_hh, gates, hs, cs, aux, active, reverse = cache
    T, B, I = x.shape
    H = w_hh.shape[1]
    G = GATES[mode]
    dtype = x.dtype
    xp = get_array_module(x)
    numba_ok = _use_numba(x, w_hh, dy, dh_n)
    dy = xp.ascontiguousarray(dy, dtype=dtype)
    dh = xp.array(dh_n, dtype=dtype)  # a fresh, writable, contiguous buffer
    dc = None
    if mode == "lstm":
        dc = xp.zeros((B, H), dtype=dtype) if dc_n is None else xp.array(dc_n, dtype=dtype)
    dg = xp.empty((T, B, G * H), dtype=dtype)  # gradients of the input-side pre-activations
    dgh = xp.empty((T, B, G * H), dtype=dtype) if mode == "gru" else dg
    rec = xp.zeros((B, H), dtype=dtype)
    relu = mode == "rnn_relu"
    act_rows = active if active is not None else xp.ones((T, B), dtype=np.uint8)
    with _BlasThreads(_step_threads(B, H, G, xp)):
        for t, p, q in reversed(_steps(T, reverse)):
            act = act_rows[t] if numba_ok or active is not None else None
            if mode == "lstm":
                step = _lstm_bwd_numba if numba_ok else _lstm_bwd_numpy
                step(gates[t], cs[p], aux[t], dy[t], rec, dh, dc, dg[t], act)
            elif mode == "gru":
                step = _gru_bwd_numba if numba_ok else _gru_bwd_numpy
                step(gates[t], aux[t], hs[p], dy[t], rec, dh, dg[t], dgh[t], act)
            else:
                step = _rnn_bwd_numba if numba_ok else _rnn_bwd_numpy
                step(hs[q], relu, dy[t], rec, dh, dg[t], act)
            xp.matmul(dgh[t], w_hh, out=rec)
    dh += rec
    dg2 = dg.reshape(T * B, G * H)
    dx = dw_ih = dw_hh = db_ih = db_hh = None
    if need_dx:
        dx = (dg2 @ w_ih).reshape(T, B, I)
    if need_dweights:
        h_prev = hs[1:] if reverse else hs[:T]
        dgh2 = dgh.reshape(T * B, G * H)
        dw_hh = dgh2.T @ h_prev.reshape(T * B, H)
        dw_ih = dg2.T @ x.reshape(T * B, I)
        if has_bias:
            db_ih = dg2.sum(axis=0)
            db_hh = dgh2.sum(axis=0) if mode == "gru" else db_ih.copy()
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh
