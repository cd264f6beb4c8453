"""A bank of 1-D convolutions of several widths, each followed by ReLU and max-over-time pooling.

This is the feature extractor of Kim's sentence CNN, fused into one ``Function``. For filters of
width ``k`` with weight ``w`` (``(C, D, k)``, ``Conv1d`` layout) and bias ``b``, over a sentence
matrix ``x`` (``(N, L, D)``, one row per token)::

    y[n, c, t] = b[c] + sum_{j<k} sum_d w[c, d, j] * x[n, t + j, d]     for t = 0 .. L - k
    h[n, c]    = relu(max_t y[n, c, t])

Three identities make it cheap:

- all widths share one GEMM: ``z = x @ W`` with ``W`` (``(D, sum_k k*C)``) holding every tap
  ``w[:, :, j]`` of every width as a block of ``C`` columns; then ``y[n, c, t] = b[c] +
  sum_j z[n, t + j, block(k, j) + c]`` is a sum of shifted slices, and no im2col copy is made;
- ``relu`` is monotone, so ``relu(max_t y) = max(0, max_t y)``: one ReLU per pooled value;
- the max passes its gradient to one position ``t*`` per ``(n, c)``, so the backward is sparse:
  ``dw[c, :, j] = sum_n g[n, c] x[n, t* + j, :]`` and ``dx[n, t* + j, :] += g[n, c] w[c, :, j]``,
  about ``N * C * sum(k) * D`` multiply-adds instead of two dense GEMMs (numba on the CPU; the
  NumPy/CuPy path scatters into a dense ``dz`` and runs the two GEMMs).

Windows made only of padding (``valid`` false at every position they cover) are left out of the
max, so padding a batch further never changes its result; a row with no valid window gives 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..kernels._dispatch import jit, prange, use_numba
from ..tensor import Tensor

__all__ = ["conv_relu_max_over_time"]


def _forward_loops(z, bias, valid, widths, offsets, C, out, arg):  # pragma: no cover - numba
    N, L, _ = z.shape
    for n in prange(N):
        count = np.zeros(L + 1, np.int64)
        for t in range(L):
            count[t + 1] = count[t] + valid[n, t]
        s = np.empty((L, C), z.dtype)
        for b in range(widths.shape[0]):
            k, off, base = widths[b], offsets[b], b * C
            Lk = L - k + 1
            # s[t, c] = y[n, c, t]: the bias, then one contiguous row of z per tap
            for t in range(Lk):
                for c in range(C):
                    s[t, c] = bias[base + c]
            for j in range(k):
                col = off + j * C
                for t in range(Lk):
                    zrow = z[n, t + j, col : col + C]
                    srow = s[t]
                    for c in range(C):
                        srow[c] += zrow[c]
            for c in range(C):
                out[n, base + c] = -np.inf
                arg[n, base + c] = -1
            for t in range(Lk):
                if count[t + k] == count[t]:
                    continue  # a window of padding only
                for c in range(C):
                    if s[t, c] > out[n, base + c]:
                        out[n, base + c] = s[t, c]
                        arg[n, base + c] = t
            for c in range(C):
                if arg[n, base + c] < 0 or not out[n, base + c] > 0:
                    out[n, base + c] = 0.0


def _grad_weight_loops(x, g, arg, widths, offsets, C, dwt):  # pragma: no cover - numba
    # dwt row r = offsets[b] + j*C + c holds dw_b[c, :, j]; each row is one thread's own
    N, _, D = x.shape
    for r in prange(dwt.shape[0]):
        b = 0
        while b + 1 < widths.shape[0] and r >= offsets[b + 1]:
            b += 1
        j = (r - offsets[b]) // C
        col = b * C + (r - offsets[b]) - j * C
        for d in range(D):
            dwt[r, d] = 0.0
        for n in range(N):
            gv = g[n, col]
            if gv == 0:
                continue
            t = arg[n, col] + j
            for d in range(D):
                dwt[r, d] += gv * x[n, t, d]


def _grad_input_loops(wt, g, arg, widths, offsets, C, dx):  # pragma: no cover - numba
    N, L, D = dx.shape
    for n in prange(N):
        for t in range(L):
            for d in range(D):
                dx[n, t, d] = 0.0
        for b in range(widths.shape[0]):
            k, off = widths[b], offsets[b]
            for c in range(C):
                gv = g[n, b * C + c]
                if gv == 0:
                    continue
                t0 = arg[n, b * C + c]
                for j in range(k):
                    r = off + j * C + c
                    for d in range(D):
                        dx[n, t0 + j, d] += gv * wt[r, d]


_forward_numba = jit(_forward_loops)
_grad_weight_numba = jit(_grad_weight_loops)
_grad_input_numba = jit(_grad_input_loops)


def _forward_xp(xp, z, bias, valid, widths, offsets, C):  # noqa: ANN001, ANN202
    """The max over windows with array operations (NumPy or CuPy)."""
    N, L, _ = z.shape
    count = xp.concatenate([xp.zeros((N, 1), np.int64), xp.cumsum(valid, axis=1)], axis=1)
    outs, args = [], []
    for b, (k, off) in enumerate(zip(widths.tolist(), offsets.tolist(), strict=True)):
        Lk = L - k + 1
        s = xp.broadcast_to(bias[b * C : (b + 1) * C], (N, Lk, C)).copy()
        for j in range(k):
            s += z[:, j : j + Lk, off + j * C : off + (j + 1) * C]
        ok = (count[:, k:] - count[:, :Lk]) > 0
        s = xp.where(ok[:, :, None], s, -xp.inf)
        best = s.max(axis=1)
        idx = s.argmax(axis=1)
        empty = ~ok.any(axis=1)
        idx[empty] = -1
        best[empty] = 0
        outs.append(xp.maximum(best, 0))
        args.append(idx)
    return xp.concatenate(outs, axis=1).astype(z.dtype), xp.concatenate(args, axis=1)


def _scatter_dz(xp, g, arg, widths, offsets, C, L):  # noqa: ANN001, ANN202
    """The dense gradient of ``z``: ``g[n, c]`` at ``(n, t* + j, block(k, j) + c)``."""
    N = g.shape[0]
    total = int(sum(k * C for k in widths.tolist()))
    dz = xp.zeros((N, L, total), dtype=g.dtype)
    rows = xp.arange(N)[:, None]
    cols = xp.arange(C)[None, :]
    for b, (k, off) in enumerate(zip(widths.tolist(), offsets.tolist(), strict=True)):
        gb = g[:, b * C : (b + 1) * C]
        t0 = xp.maximum(arg[:, b * C : (b + 1) * C], 0)  # g is 0 where arg is -1
        for j in range(k):
            # each (n, c) names its own column, so plain assignment cannot collide
            dz[rows, t0 + j, off + j * C + cols] = gb
    return dz


class ConvReluMaxOverTime(Function):
    """``h[n, b*C + c] = relu(max_t conv1d_b(x)[n, c, t])`` for every width ``b``; see the module
    docstring for the shared GEMM and the sparse backward."""

    @staticmethod
    def forward(ctx: Context, x: Any, *params: Any, valid: Any = None) -> Any:
        xp = ctx.xp
        weights, biases = params[0::2], params[1::2]
        N, L, D = x.shape
        C = weights[0].shape[0]
        widths = np.asarray([w.shape[2] for w in weights], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(widths * C)[:-1]]).astype(np.int64)
        # row off + j*C + c of wt is tap j of filter c: w[c, :, j]
        wt = xp.concatenate([w.transpose(2, 0, 1).reshape(-1, D) for w in weights], axis=0)
        bias = xp.concatenate(biases)
        z = (x.reshape(N * L, D) @ wt.T).reshape(N, L, -1)
        if use_numba(z, bias) and isinstance(valid, np.ndarray):
            out = np.empty((N, widths.size * C), dtype=z.dtype)
            arg = np.empty((N, widths.size * C), dtype=np.int64)
            _forward_numba(z, bias, valid, widths, offsets, C, out, arg)
        else:
            out, arg = _forward_xp(xp, z, bias, xp.asarray(valid), widths, offsets, C)
        ctx.save_for_backward(x, wt)
        ctx.arg, ctx.out, ctx.geometry = arg, out, (widths, offsets, C)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        xp = ctx.xp
        x, wt = ctx.saved
        widths, offsets, C = ctx.geometry
        N, L, D = x.shape
        g = xp.ascontiguousarray(grad * (ctx.out > 0))
        arg = ctx.arg
        need_x = ctx.needs_input_grad[0]
        need_w = any(ctx.needs_input_grad[1:])
        dx = dwt = None
        if use_numba(x, wt, g):
            if need_x:
                dx = np.empty_like(x)
                _grad_input_numba(wt, g, arg, widths, offsets, C, dx)
            if need_w:
                dwt = np.empty_like(wt)
                _grad_weight_numba(np.ascontiguousarray(x), g, arg, widths, offsets, C, dwt)
        else:
            dz = _scatter_dz(xp, g, arg, widths, offsets, C, L)
            if need_x:
                dx = (dz.reshape(N * L, -1) @ wt).reshape(N, L, D)
            if need_w:
                dwt = dz.reshape(N * L, -1).T @ x.reshape(N * L, D)
        grads: list[Any] = [dx]
        for b, (k, off) in enumerate(zip(widths.tolist(), offsets.tolist(), strict=True)):
            if dwt is None:
                grads += [None, None]
                continue
            # rows (j, c) of the block back to the Conv1d layout (C, D, k)
            dw = dwt[off : off + k * C].reshape(k, C, D).transpose(1, 2, 0)
            grads += [xp.ascontiguousarray(dw), g[:, b * C : (b + 1) * C].sum(axis=0)]
        return tuple(grads)


def conv_relu_max_over_time(
    x: Tensor,
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    valid: Any = None,
) -> Tensor:
    """Convolve ``x`` with filters of several widths, apply ReLU, and max-pool over time.

    Equal to ``cat([relu(conv1d(x.transpose(1, 2), w, b)).max(-1) for w, b in ...], 1)`` (each
    convolution "valid", stride 1), computed by one GEMM and a sparse backward.

    Args:
        x: ``(N, L, D)``, one ``D``-vector per position (the embedded sentence).
        weights: per width, a ``(C, D, k)`` filter bank in the ``Conv1d`` layout; all share ``C``.
        biases: per width, ``(C,)``.
        valid: ``(N, L)`` bool/int, false at padding positions: windows covering only padding are
            not pooled, and a row without any valid window gives 0. Default: every position valid.

    Returns:
        ``(N, len(weights) * C)``: the pooled features of each width in turn.

    Raises:
        ValueError: mismatched shapes, or ``L`` shorter than the widest filter.

    Example:
        >>> import chainrule as cr
        >>> ws = [cr.randn(4, 3, k) for k in (2, 3)]
        >>> conv_relu_max_over_time(cr.randn(5, 7, 3), ws, [cr.zeros(4), cr.zeros(4)]).shape
        (5, 8)
    """
    where = "conv_relu_max_over_time"
    if x.ndim != 3:
        raise ValueError(f"{where}: expected x of shape (N, L, D), got {tuple(x.shape)}.")
    if not weights or len(weights) != len(biases):
        raise ValueError(
            f"{where}: expected one bias per filter bank and at least one bank, got "
            f"{len(weights)} weights and {len(biases)} biases."
        )
    N, L, D = x.shape
    C = weights[0].shape[0]
    params: list[Tensor] = []
    for w, b in zip(weights, biases, strict=True):
        if w.ndim != 3 or w.shape[0] != C or w.shape[1] != D or tuple(b.shape) != (C,):
            raise ValueError(
                f"{where}: expected weights ({C}, {D}, k) and biases ({C},) for x of shape "
                f"{tuple(x.shape)}, got weight {tuple(w.shape)} and bias {tuple(b.shape)}."
            )
        if w.shape[2] > L:
            raise ValueError(
                f"{where}: sequences of length {L} are shorter than a filter of width "
                f"{w.shape[2]}; pad them to at least {max(v.shape[2] for v in weights)} positions."
            )
        params += [w, b]
    if valid is None:
        mask = np.ones((N, L), dtype=np.uint8)
    else:
        data = valid.data if isinstance(valid, Tensor) else valid
        mask = (data != 0).astype(np.uint8) if hasattr(data, "astype") else np.asarray(data)
        if tuple(mask.shape) != (N, L):
            raise ValueError(
                f"{where}: valid must have shape (N, L) = ({N}, {L}), got {tuple(mask.shape)}."
            )
    return ConvReluMaxOverTime.apply(x, *params, valid=mask)
