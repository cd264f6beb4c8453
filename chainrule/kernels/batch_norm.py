"""Batch normalisation fused in both directions, over axis 1 of ``(N, C)`` or ``(N, C, *S)``.

Forward (training): per channel, ``mean`` and biased ``var`` over the ``m = N * prod(S)`` values,
``invstd = 1/sqrt(var + eps)``, ``y = (x - mean) * invstd * gamma + beta``. The numba kernel reads
each channel twice (statistics, then output) in one parallel loop over channels; the statistics
use a shifted sum of squares (shift = the channel's first value) so that a large mean does not
cancel the variance away, summed per row of one image in the input's dtype and over the rows in
float64 (float32 rows vectorise twice as wide: forward 0.50 -> 0.39 ms and backward 0.84 ->
0.73 ms on 128x32x16x16, 2 threads; the variance's error unchanged at ~5e-8).

Backward (its sums per row as well): with ``xhat = (x - mean) * invstd``, ``dbeta = sum(g)``,
``dgamma = sum(g * xhat)`` and ``dx = gamma * invstd / m * (m*g - dbeta - xhat * dgamma)``;
``xhat`` is recomputed from ``x`` rather than stored. In evaluation mode the statistics are
constants and ``dx = g * gamma * invstd``.

``relu=True`` fuses the ReLU that usually follows (``max(y, 0)`` in the same pass); its backward
takes that output and lets the gradient through where it is positive, again in the same pass.
``residual`` adds an array before that ReLU, so the end of a residual block,
``relu(bn(x) + shortcut)``, is one pass forward; backward, the gradient through the ReLU (which
is also the shortcut's) goes in as ``grad_y`` with no ``relu_output``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels import _memory
from chainrule.kernels._args import check_float
from chainrule.kernels._dispatch import jit, prange, use_numba

__all__ = ["batch_norm_forward_train", "batch_norm_forward_eval", "batch_norm_backward"]


def _fwd_loops(x, gamma, beta, eps, relu, res, y, mean, var, invstd):  # pragma: no cover - numba
    # res: (N, C, S) added before the ReLU, or an empty array for none
    N, C, S = x.shape
    m = N * S
    for c in prange(C):
        shift = x[0, c, 0]
        s1 = 0.0
        s2 = 0.0
        for n in range(N):
            r1 = shift - shift  # each row's sums in x's dtype (float32: twice the vector lanes),
            r2 = r1  # the rows' totals in float64
            for s in range(S):
                d = x[n, c, s] - shift
                r1 += d
                r2 += d * d
            s1 += r1
            s2 += r2
        md = s1 / m
        v = max(s2 / m - md * md, 0.0)
        mu = shift + md
        inv = 1.0 / np.sqrt(v + eps)
        scale = gamma[c] * inv
        b = beta[c]
        if res.size:
            for n in range(N):
                for s in range(S):
                    z = (x[n, c, s] - mu) * scale + b + res[n, c, s]
                    y[n, c, s] = 0.0 if relu and z < 0 else z
        elif relu:
            for n in range(N):
                for s in range(S):
                    z = (x[n, c, s] - mu) * scale + b
                    y[n, c, s] = 0.0 if z < 0 else z  # NaN stays NaN
        else:
            for n in range(N):
                for s in range(S):
                    y[n, c, s] = (x[n, c, s] - mu) * scale + b
        mean[c] = mu
        var[c] = v
        invstd[c] = inv


def _bwd_loops(
    g, x, y, masked, gamma, mean, invstd, training, need_dx, dx, dgamma, dbeta
):  # pragma: no cover - numba
    # masked: the forward applied ReLU, so the gradient reaching the batch norm is g where y > 0
    N, C, S = x.shape
    m = N * S
    for c in prange(C):
        mu = mean[c]
        inv = invstd[c]
        sg = 0.0
        sgx = 0.0
        zero = mu - mu  # in x's dtype
        for n in range(N):
            r1 = zero  # per-row sums in x's dtype, as in the forward
            r2 = zero
            for s in range(S):
                gv = g[n, c, s]
                if masked and not y[n, c, s] > 0:
                    gv = zero
                r1 += gv
                r2 += gv * (x[n, c, s] - mu)
            sg += r1
            sgx += r2
        sgx *= inv
        dbeta[c] = sg
        dgamma[c] = sgx
        if need_dx:
            k = gamma[c] * inv
            a = sg / m if training else 0.0
            bcoef = sgx / m if training else 0.0
            for n in range(N):
                for s in range(S):
                    gv = g[n, c, s]
                    if masked and not y[n, c, s] > 0:
                        gv = 0.0
                    if training:
                        xh = (x[n, c, s] - mu) * inv
                        dx[n, c, s] = k * (gv - a - xh * bcoef)
                    else:
                        dx[n, c, s] = k * gv


def _eval_loops(x, mean, scale, beta, relu, res, y):  # pragma: no cover - numba
    N, C, S = x.shape
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        mu = mean[c]
        k = scale[c]
        b = beta[c]
        if res.size:
            for s in range(S):
                z = (x[n, c, s] - mu) * k + b + res[n, c, s]
                y[n, c, s] = 0.0 if relu and z < 0 else z
        elif relu:
            for s in range(S):
                z = (x[n, c, s] - mu) * k + b
                y[n, c, s] = 0.0 if z < 0 else z
        else:
            for s in range(S):
                y[n, c, s] = (x[n, c, s] - mu) * k + b


_fwd_numba = jit(_fwd_loops, reassociate=True)  # vectorised channel sums
_bwd_numba = jit(_bwd_loops, reassociate=True)
_eval_numba = jit(_eval_loops)


def _as_ncs(x: np.ndarray, where: str) -> np.ndarray:
    if x.ndim < 2:
        raise ValueError(
            f"{where}: expected input of shape (N, C) or (N, C, *spatial), got {tuple(x.shape)}."
        )
    check_float(x, where)
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


def _residual(residual: np.ndarray | None, x: np.ndarray, x3: np.ndarray, where: str) -> Any:
    """``residual`` as a C-contiguous ``(N, C, S)`` array in the dtype of ``x``, or None."""
    if residual is None:
        return None
    if tuple(residual.shape) != tuple(x.shape):
        raise ValueError(
            f"{where}: residual {tuple(residual.shape)} must match x {tuple(x.shape)}."
        )
    return np.ascontiguousarray(residual, dtype=x3.dtype).reshape(x3.shape)


def _param(
    p: np.ndarray | None, C: int, fill: float, dtype: np.dtype, name: str, where: str
) -> np.ndarray:
    if p is None:
        return np.full(C, fill, dtype=dtype)
    p = np.ascontiguousarray(p, dtype=dtype)
    if p.shape != (C,):
        raise ValueError(f"{where}: {name} must have shape ({C},), got {tuple(p.shape)}.")
    return p


def batch_norm_forward_train(
    x: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
    relu: bool = False,
    residual: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Normalise each channel by its batch statistics, then scale and shift.

    Args:
        x: ``(N, C)`` or ``(N, C, *spatial)`` floating array; statistics reduce every axis but 1.
        gamma: scale ``(C,)``, or None for 1.
        beta: shift ``(C,)``, or None for 0.
        eps: added to the variance.
        relu: apply ``max(., 0)`` to ``y`` in the same pass (batch norm + ReLU fused).
        residual: an array shaped like ``x`` added before the ReLU, in the same pass (the end
            of a residual block: ``relu(bn(x) + shortcut)``).

    Returns:
        ``(y, mean, var, invstd)``: ``y`` shaped like ``x``; ``mean``, biased ``var`` and
        ``invstd = 1/sqrt(var + eps)``, each ``(C,)`` in the dtype of ``x``. The running variance
        of a layer uses the unbiased ``var * m / (m - 1)`` with ``m = x.size // C``.
        ``batch_norm_backward`` needs ``x``, ``gamma``, ``mean`` and ``invstd``.
    """
    where = "batch_norm"
    x3 = _as_ncs(x, where)
    N, C, S = x3.shape
    if N * S == 0:
        raise ValueError(f"{where}: need at least one value per channel, got {tuple(x.shape)}.")
    gam = _param(gamma, C, 1.0, x3.dtype, "gamma", where)
    bet = _param(beta, C, 0.0, x3.dtype, "beta", where)
    r3 = _residual(residual, x, x3, where)
    if use_numba(x3):
        y = _memory.empty_like(x3)
        mean = np.empty(C, x3.dtype)
        var = np.empty(C, x3.dtype)
        invstd = np.empty(C, x3.dtype)
        res = np.empty((0, 0, 0), x3.dtype) if r3 is None else r3
        _fwd_numba(x3, gam, bet, float(eps), bool(relu), res, y, mean, var, invstd)
        return y.reshape(x.shape), mean, var, invstd
    mean64 = x3.mean(axis=(0, 2), dtype=np.float64)
    centered = x3 - mean64.astype(x3.dtype)[:, None]
    var64 = np.mean(np.square(centered), axis=(0, 2), dtype=np.float64)
    invstd64 = 1.0 / np.sqrt(var64 + eps)
    scale = (gam * invstd64).astype(x3.dtype)
    y = centered * scale[:, None] + bet[:, None]
    if r3 is not None:
        y += r3
    if relu:
        y[y < 0] = 0
    return (
        y.reshape(x.shape),
        mean64.astype(x3.dtype),
        var64.astype(x3.dtype),
        invstd64.astype(x3.dtype),
    )


def batch_norm_forward_eval(
    x: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-5,
    relu: bool = False,
    residual: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise with fixed statistics: ``y = (x - running_mean) * invstd * gamma + beta``.

    ``residual`` (shaped like ``x``) is added next and, with ``relu``, ``y`` is ``max(y, 0)``;
    all in one pass.

    Returns:
        ``(y, invstd)``; pass ``running_mean`` and ``invstd`` to ``batch_norm_backward`` with
        ``training=False``.
    """
    where = "batch_norm(eval)"
    x3 = _as_ncs(x, where)
    C = x3.shape[1]
    mean = _param(running_mean, C, 0.0, x3.dtype, "running_mean", where)
    var = _param(running_var, C, 1.0, x3.dtype, "running_var", where)
    gam = _param(gamma, C, 1.0, x3.dtype, "gamma", where)
    bet = _param(beta, C, 0.0, x3.dtype, "beta", where)
    invstd = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(x3.dtype)
    scale = gam * invstd
    r3 = _residual(residual, x, x3, where)
    if use_numba(x3):  # one threaded pass
        y = _memory.empty_like(x3)
        res = np.empty((0, 0, 0), x3.dtype) if r3 is None else r3
        _eval_numba(x3, mean, scale, bet, bool(relu), res, y)
        return y.reshape(x.shape), invstd
    y = (x3 - mean[:, None]) * scale[:, None] + bet[:, None]
    if r3 is not None:
        y += r3
    if relu:
        y[y < 0] = 0
    return y.reshape(x.shape), invstd


def batch_norm_backward(
    grad_y: np.ndarray,
    x: np.ndarray,
    gamma: np.ndarray | None,
    mean: np.ndarray,
    invstd: np.ndarray,
    training: bool = True,
    need_dx: bool = True,
    relu_output: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of batch normalisation with respect to ``x``, ``gamma`` and ``beta``.

    Args:
        grad_y: gradient of the loss with respect to ``y``, shaped like ``x``.
        x: the forward input.
        gamma: the forward scale ``(C,)`` or None.
        mean: ``(C,)`` batch mean (training) or running mean (eval).
        invstd: ``(C,)`` from the forward call.
        training: the statistics came from this batch (and so depend on ``x``).
        need_dx: compute ``dx``.
        relu_output: for a forward call with ``relu=True``, its output ``y``: the gradient is
            then taken as ``grad_y`` where ``y > 0`` and 0 elsewhere (through the ReLU).

    Returns:
        ``(dx, dgamma, dbeta)``: ``dx`` shaped like ``x`` (None unless ``need_dx``), the others
        ``(C,)``; ``dgamma`` is computed even when ``gamma`` is None (the caller drops it).
    """
    where = "batch_norm_backward"
    x3 = _as_ncs(x, where)
    N, C, S = x3.shape
    if tuple(grad_y.shape) != tuple(x.shape):
        raise ValueError(f"{where}: grad_y {tuple(grad_y.shape)} must match x {tuple(x.shape)}.")
    g3 = np.ascontiguousarray(grad_y, dtype=x3.dtype).reshape(N, C, S)
    gam = _param(gamma, C, 1.0, x3.dtype, "gamma", where)
    mu = _param(mean, C, 0.0, x3.dtype, "mean", where)
    inv = _param(invstd, C, 1.0, x3.dtype, "invstd", where)
    masked = relu_output is not None
    if masked and tuple(relu_output.shape) != tuple(x.shape):
        raise ValueError(
            f"{where}: relu_output {tuple(relu_output.shape)} must match x {tuple(x.shape)}."
        )
    y3 = np.ascontiguousarray(relu_output).reshape(N, C, S) if masked else None
    if use_numba(x3, g3) and (y3 is None or y3.dtype == x3.dtype):
        dx = _memory.empty_like(x3) if need_dx else np.empty((0, 0, 0), x3.dtype)
        dgamma = np.empty(C, x3.dtype)
        dbeta = np.empty(C, x3.dtype)
        ys = y3 if masked else np.empty((0, 0, 0), x3.dtype)
        flags = (bool(training), bool(need_dx))
        _bwd_numba(g3, x3, ys, masked, gam, mu, inv, *flags, dx, dgamma, dbeta)
        return (dx.reshape(x.shape) if need_dx else None), dgamma, dbeta
    if masked:
        g3 = np.where(y3 > 0, g3, 0).astype(x3.dtype, copy=False)
    xhat = (x3 - mu[:, None]) * inv[:, None]
    dbeta64 = g3.sum(axis=(0, 2), dtype=np.float64)
    dgamma64 = np.einsum("ncs,ncs->c", g3, xhat, dtype=np.float64)
    dx = None
    if need_dx:
        k = (gam * inv)[:, None]
        if training:
            m = N * S
            a = (dbeta64 / m).astype(x3.dtype)[:, None]
            b = (dgamma64 / m).astype(x3.dtype)[:, None]
            dx = (k * (g3 - a - xhat * b)).reshape(x.shape)
        else:
            dx = (k * g3).reshape(x.shape)
    return dx, dgamma64.astype(x3.dtype), dbeta64.astype(x3.dtype)
