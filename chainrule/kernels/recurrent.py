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

from typing import Any, NamedTuple

import numpy as np

from chainrule.backend import config, get_array_module
from chainrule.kernels import _recurrent_steps as S
from chainrule.kernels._blas_threads import BlasThreads, step_threads
from chainrule.kernels._gate_math import HAVE_NUMBA

__all__ = ["RecurrentCache", "recurrent_forward", "recurrent_backward", "GATES", "MODES"]

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
MODES = tuple(GATES)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _use_numba(*arrays: np.ndarray) -> bool:
    if not (HAVE_NUMBA and config.use_numba):
        return False
    return all(isinstance(a, np.ndarray) and a.dtype in _FLOATS for a in arrays)


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
    w_hh_t = xp.ascontiguousarray(w_hh.T)  # BLAS reads a row-major (H, G*H) slightly faster
    relu = mode == "rnn_relu"
    active = None if active is None else xp.asarray(active)
    act_rows = active if active is not None else xp.ones((T, B), dtype=np.uint8)
    with BlasThreads(step_threads(B, H, G, xp)):
        for t, p, q in _steps(T, reverse):
            xp.matmul(hs[p], w_hh_t, out=rec)
            act = act_rows[t] if numba_ok or active is not None else None
            if mode == "lstm":
                step = S.lstm_fwd_numba if numba_ok else S.lstm_fwd_numpy
                step(gates[t], rec, cs[p], hs[p], cs[q], hs[q], aux[t], y[t], act)
            elif mode == "gru":
                step = S.gru_fwd_numba if numba_ok else S.gru_fwd_numpy
                step(gates[t], rec, b_hn, hs[p], hs[q], aux[t], y[t], act)
            else:
                step = S.rnn_fwd_numba if numba_ok else S.rnn_fwd_numpy
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
    with BlasThreads(step_threads(B, H, G, xp)):
        for t, p, q in reversed(_steps(T, reverse)):
            act = act_rows[t] if numba_ok or active is not None else None
            if mode == "lstm":
                step = S.lstm_bwd_numba if numba_ok else S.lstm_bwd_numpy
                step(gates[t], cs[p], aux[t], dy[t], rec, dh, dc, dg[t], act)
            elif mode == "gru":
                step = S.gru_bwd_numba if numba_ok else S.gru_bwd_numpy
                step(gates[t], aux[t], hs[p], dy[t], rec, dh, dg[t], dgh[t], act)
            else:
                step = S.rnn_bwd_numba if numba_ok else S.rnn_bwd_numpy
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
