"""Fused softmax cross-entropy and log-softmax, forward and backward, along the last axis.

Stability: every row is shifted by its maximum before ``exp`` (the log-sum-exp trick),
``log softmax(z)_c = z_c - m - log(sum_k exp(z_k - m))`` with ``m = max_k z_k``; sums in float64.

Cross-entropy follows ``torch.nn.functional.cross_entropy`` with class-index targets. With class
weights ``w`` (ones by default), label smoothing ``e`` over ``C`` classes and
``lp = log softmax(z)``, the loss of a kept row is
``(1-e) * w[t] * (-lp[t]) + (e/C) * sum_c w[c] * (-lp[c])``; rows whose target is
``ignore_index`` contribute nothing. ``'mean'`` divides the summed loss by the summed ``w[t]`` of
the kept rows (NaN when every row is ignored), ``'sum'`` sums, ``'none'`` keeps rows.
Its gradient needs only the softmax ``p``:
``(1-e) * w[t] * (p - onehot(t)) + (e/C) * (sum(w) p - w)`` per row, times the reduction's scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels._args import check_float
from chainrule.kernels._dispatch import jit, prange, use_numba

__all__ = [
    "softmax_cross_entropy_forward",
    "softmax_cross_entropy_backward",
    "log_softmax_forward",
    "log_softmax_backward",
]

_REDUCTIONS = ("mean", "sum", "none")


def _ce_fwd_loops(z, t, w, ignore, smooth, probs, losses, wts):  # pragma: no cover - numba
    N, C = z.shape
    for i in prange(N):
        m = z[i, 0]
        for c in range(1, C):
            if z[i, c] > m:
                m = z[i, c]
        s = 0.0
        for c in range(C):
            e = np.exp(z[i, c] - m)
            probs[i, c] = e
            s += e
        inv = 1.0 / s
        for c in range(C):
            probs[i, c] = probs[i, c] * inv
        lse = m + np.log(s)
        ti = t[i]
        if ti == ignore:
            losses[i] = 0.0
            wts[i] = 0.0
        else:
            loss = (1.0 - smooth) * w[ti] * (lse - z[i, ti])
            if smooth > 0.0:
                acc = 0.0
                for c in range(C):
                    acc += w[c] * (lse - z[i, c])
                loss += smooth / C * acc
            losses[i] = loss
            wts[i] = w[ti]


def _ce_bwd_loops(probs, t, w, ignore, smooth, scale, out):  # pragma: no cover - numba
    N, C = probs.shape
    wsum = 0.0
    for c in range(C):
        wsum += w[c]
    for i in prange(N):
        ti = t[i]
        if ti == ignore:
            for c in range(C):
                out[i, c] = 0.0
        else:
            a = scale[i] * (1.0 - smooth) * w[ti]
            b = scale[i] * smooth / C
            for c in range(C):
                out[i, c] = (a + b * wsum) * probs[i, c] - b * w[c]
            out[i, ti] -= a


def _lsm_fwd_loops(x, y):  # pragma: no cover - numba
    R, C = x.shape
    for i in prange(R):
        m = x[i, 0]
        for c in range(1, C):
            if x[i, c] > m:
                m = x[i, c]
        s = 0.0
        for c in range(C):
            s += np.exp(x[i, c] - m)
        lse = m + np.log(s)
        for c in range(C):
            y[i, c] = x[i, c] - lse


def _lsm_bwd_loops(g, y, dx):  # pragma: no cover - numba
    R, C = g.shape
    for i in prange(R):
        s = 0.0
        for c in range(C):
            s += g[i, c]
        for c in range(C):
            dx[i, c] = g[i, c] - np.exp(y[i, c]) * s


_ce_fwd_numba = jit(_ce_fwd_loops)
_ce_bwd_numba = jit(_ce_bwd_loops)
_lsm_fwd_numba = jit(_lsm_fwd_loops)
_lsm_bwd_numba = jit(_lsm_bwd_loops)


def _check_ce(
    logits: Any,
    targets: Any,
    weight: Any,
    ignore_index: int,
    label_smoothing: float,
    reduction: str,
    where: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate the arguments; return contiguous int64 targets and float64 class weights."""
    if getattr(logits, "ndim", None) != 2:
        raise ValueError(
            f"{where}: expected logits of shape (N, C), got {getattr(logits, 'shape', logits)}."
        )
    check_float(logits, where, "logits")
    N, C = logits.shape
    if C == 0:
        raise ValueError(f"{where}: logits need at least one class, got shape {logits.shape}.")
    t = np.asarray(targets)
    if t.shape != (N,) or t.dtype.kind not in "iu":
        raise ValueError(
            f"{where}: expected integer targets of shape ({N},), got shape "
            f"{t.shape} and dtype {t.dtype}."
        )
    t = np.ascontiguousarray(t, dtype=np.int64)
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        raise ValueError(
            f"{where}: target {int(t[bad][0])} is out of range for {C} classes "
            f"(ignore_index={ignore_index})."
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{where}: unknown reduction {reduction!r}; available: {', '.join(_REDUCTIONS)}."
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{where}: label_smoothing must lie in [0, 1], got {label_smoothing}.")
    if weight is None:
        w = np.ones(C, dtype=np.float64)
    else:
        w = np.ascontiguousarray(weight, dtype=np.float64)
        if w.shape != (C,):
            raise ValueError(f"{where}: weight must have shape ({C},), got {w.shape}.")
    return t, w


def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True, dtype=np.float64)).astype(
        z.dtype
    )


def softmax_cross_entropy_forward(
    logits: np.ndarray,
    targets: np.ndarray,
    weight: np.ndarray | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-entropy of ``softmax(logits)`` against class indices, as ``F.cross_entropy``.

    Args:
        logits: ``(N, C)`` floating array of unnormalised scores.
        targets: ``(N,)`` integer class indices in ``[0, C)`` or ``ignore_index``.
        weight: ``(C,)`` class weights, or None for ones.
        ignore_index: target value whose rows contribute neither loss nor gradient.
        label_smoothing: ``e`` in [0, 1]; the target becomes ``(1-e) onehot + e/C``.
        reduction: ``'mean'`` (weighted mean over kept rows), ``'sum'`` or ``'none'``.

    Returns:
        ``(loss, probs)``: ``loss`` a 0-d array (``'mean'``/``'sum'``) or ``(N,)`` (``'none'``)
        in the dtype of ``logits``; ``probs`` the ``(N, C)`` softmax, which the backward needs.

    Example:
        >>> loss, _ = softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([0, 3]))
        >>> round(float(loss), 4)  # log(4)
        1.3863
    """
    where = "cross_entropy"
    t, w = _check_ce(logits, targets, weight, ignore_index, label_smoothing, reduction, where)
    z = np.ascontiguousarray(logits)
    N, C = z.shape
    if use_numba(z):
        probs = np.empty_like(z)
        losses = np.empty(N, dtype=np.float64)
        wts = np.empty(N, dtype=np.float64)
        _ce_fwd_numba(z, t, w, int(ignore_index), float(label_smoothing), probs, losses, wts)
    else:
        lp = _log_softmax_rows(z)
        probs = np.exp(lp)
        keep = t != ignore_index
        tk = np.where(keep, t, 0)
        wts = np.where(keep, w[tk], 0.0)
        nll = -lp[np.arange(N), tk].astype(np.float64) * wts
        losses = (1.0 - label_smoothing) * nll
        if label_smoothing > 0.0:
            smooth = -(lp.astype(np.float64) @ w)
            losses = losses + np.where(keep, label_smoothing / C * smooth, 0.0)
    if reduction == "none":
        return losses.astype(z.dtype), probs
    total = losses.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / wts.sum()
    return np.asarray(total, dtype=z.dtype), probs


def softmax_cross_entropy_backward(
    grad_loss: Any,
    probs: np.ndarray,
    targets: np.ndarray,
    weight: np.ndarray | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> np.ndarray:
    """Gradient of ``softmax_cross_entropy_forward`` with respect to the logits.

    Args:
        grad_loss: gradient of the loss: a scalar (``'mean'``/``'sum'``) or ``(N,)`` (``'none'``).
        probs: ``(N, C)`` softmax saved by the forward call.
        targets: the forward targets.
        weight: the forward class weights.
        ignore_index: as in the forward call.
        label_smoothing: as in the forward call.
        reduction: as in the forward call.

    Returns:
        ``dlogits`` ``(N, C)`` in the dtype of ``probs`` (zero rows for ignored targets).
    """
    where = "cross_entropy_backward"
    t, w = _check_ce(probs, targets, weight, ignore_index, label_smoothing, reduction, where)
    p = np.ascontiguousarray(probs)
    N, C = p.shape
    keep = t != ignore_index
    g = np.asarray(grad_loss, dtype=np.float64)
    if reduction == "none":
        if g.shape != (N,):
            raise ValueError(
                f"{where}: with reduction='none' grad_loss must have shape ({N},), got {g.shape}."
            )
        scale = np.ascontiguousarray(g)
    else:
        if g.size != 1:
            raise ValueError(f"{where}: grad_loss must be a scalar, got shape {g.shape}.")
        s = float(g.reshape(()))
        if reduction == "mean":
            wsum = float(w[t[keep]].sum())
            s = s / wsum if wsum != 0.0 else 0.0
        scale = np.full(N, s)
    if use_numba(p):
        out = np.empty_like(p)
        _ce_bwd_numba(p, t, w, int(ignore_index), float(label_smoothing), scale, out)
        return out
    tk = np.where(keep, t, 0)
    a = np.where(keep, scale * (1.0 - label_smoothing) * w[tk], 0.0)
    b = np.where(keep, scale * label_smoothing / C, 0.0)
    out = (a + b * w.sum())[:, None] * p - b[:, None] * w[None, :]
    out[np.arange(N), tk] -= a
    return out.astype(p.dtype, copy=False)


def log_softmax_forward(x: np.ndarray) -> np.ndarray:
    """``log softmax`` along the last axis of an array of any rank >= 1 (max-shifted)."""
    check_float(x, "log_softmax")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"log_softmax: expected a non-empty last axis, got shape {x.shape}.")
    x2 = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    if use_numba(x2):
        y = np.empty_like(x2)
        _lsm_fwd_numba(x2, y)
        return y.reshape(x.shape)
    return _log_softmax_rows(x2).reshape(x.shape)


def log_softmax_backward(grad_y: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient of ``log_softmax_forward`` from its output: ``g - exp(y) * sum(g, axis=-1)``."""
    if tuple(grad_y.shape) != tuple(y.shape):
        raise ValueError(
            f"log_softmax_backward: grad_y {tuple(grad_y.shape)} must match y {tuple(y.shape)}."
        )
    y2 = np.ascontiguousarray(y).reshape(-1, y.shape[-1])
    g2 = np.ascontiguousarray(grad_y, dtype=y.dtype).reshape(y2.shape)
    if use_numba(y2, g2):
        dx = np.empty_like(y2)
        _lsm_bwd_numba(g2, y2, dx)
        return dx.reshape(y.shape)
    s = g2.sum(axis=1, keepdims=True, dtype=np.float64).astype(y.dtype)
    return (g2 - np.exp(y2) * s).reshape(y.shape)
