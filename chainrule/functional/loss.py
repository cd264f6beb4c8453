"""Loss functions with PyTorch's semantics: reductions, class weights, ignore_index, smoothing.

Each loss is one fused ``Function``: its forward is a single vectorised pass over the batch and its
backward writes the gradient directly, so a loss costs one graph node, not a dozen small ones.
Class weights and ``pos_weight`` are constants (no gradient flows into them); gradients reach the
input and, for losses where PyTorch gives one, the floating-point target.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor

__all__ = [
    "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")
# binary_cross_entropy clamps log(p) at -100 (so p = 0 gives a finite loss) and keeps the gradient's
# denominator p (1 - p) above 1e-12, as PyTorch does
_LOG_FLOOR = -100.0
_BCE_EPS = 1e-12
# below this, a row's sum of exponentials has lost accuracy to underflow (keyed by itemsize)
_TINY = {2: 1e-3, 4: 1e-20, 8: 1e-200}


# ----------------------------------------------------------------------------- shared helpers
def _data(value: Any) -> Any:
    """The raw array of a Tensor; arrays (NumPy or CuPy) as they are; lists and numbers as NumPy."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return value
    return np.asarray(value)


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{name}: unknown reduction {reduction!r}; available: {', '.join(_REDUCTIONS)}."
        )


def _float_input(name: str, x: Any) -> Any:
    """The prediction as a floating Tensor (arrays and lists are wrapped)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating-point tensor, got dtype {x.dtype}.")
    return x


def _float_target(name: str, target: Any, x: Tensor) -> Any:
    """A floating target in ``x``'s dtype; a target that requires grad is kept as a Tensor."""
    if isinstance(target, Tensor) and target.requires_grad:
        if target.dtype != x.dtype:
            raise TypeError(
                f"{name}: target dtype {target.dtype} differs from input dtype {x.dtype}; "
                "cast one of them (e.g. target.to(dtype=input.dtype))."
            )
        return target
    t = _data(target)
    return t.astype(x.dtype, copy=False) if t.dtype != x.dtype else t


def _constant(name: str, what: str, value: Any, x: Tensor) -> Any:
    """A weight (Tensor, array or list) as an array of ``x``'s dtype that broadcasts to ``x``."""
    if value is None:
        return None
    w = _data(value).astype(x.dtype, copy=False)
    try:
        shape = np.broadcast_shapes(x.shape, w.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(
            f"{name}: {what} of shape {w.shape} does not broadcast to the input shape {x.shape}."
        )
    return w


def _reduce(xp: Any, loss: Any, reduction: str) -> Any:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.asarray(loss.sum())
    if loss.size == 0:
        return xp.asarray(xp.nan, dtype=loss.dtype)  # the mean of nothing, as in PyTorch
    return xp.asarray(loss.sum() / loss.size)


def _reduced_grad(grad: Any, size: int, reduction: str) -> Any:
    """d(reduced loss)/d(elementwise loss): the upstream gradient, spread evenly for ``mean``."""
    if reduction == "mean":
        return grad / max(size, 1)
    return grad


# ----------------------------------------------------------------------------- regression losses
class MSELoss(Function):
    """l = (x - t)^2; dl/dx = 2 (x - t) = -dl/dt."""

    @staticmethod
    def forward(ctx: Context, x: Any, t: Any, reduction: str = "mean") -> Any:
        d = x - t
        ctx.save_for_backward(d)
        ctx.reduction = reduction
        return _reduce(ctx.xp, d * d, reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        (d,) = ctx.saved
        gd = (2 * _reduced_grad(grad, d.size, ctx.reduction)) * d
        return gd, (-gd if ctx.needs_input_grad[1] else None)


class L1Loss(Function):
    """l = |x - t|; dl/dx = sign(x - t) = -dl/dt (0 where x = t, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, t: Any, reduction: str = "mean") -> Any:
        d = x - t
        ctx.save_for_backward(ctx.xp.sign(d))
        ctx.reduction = reduction
        return _reduce(ctx.xp, ctx.xp.abs(d), reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        (s,) = ctx.saved
        gd = _reduced_grad(grad, s.size, ctx.reduction) * s
        return gd, (-gd if ctx.needs_input_grad[1] else None)


def _regression(name: str, fn: type[Function], x: Any, target: Any, reduction: str) -> Tensor:
    _check_reduction(name, reduction)
    x = _float_input(name, x)
    t = _float_target(name, target, x)
    if t.shape != x.shape:
        try:
            np.broadcast_shapes(x.shape, t.shape)
        except ValueError:
            raise ValueError(
                f"{name}: input shape {x.shape} and target shape {t.shape} do not broadcast."
            ) from None
        warnings.warn(
            f"{name}: target shape {t.shape} differs from input shape {x.shape}; they are "
            "broadcast against each other, which is rarely intended (e.g. (N, 1) against (N,)).",
            UserWarning,
            stacklevel=3,
        )
    return fn.apply(x, t, reduction=reduction)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced by ``reduction``.

    Args:
        input: predictions, any shape.
        target: values of the same shape (differing but broadcastable shapes warn, as in PyTorch).
        reduction: ``'mean'`` (over all elements), ``'sum'`` or ``'none'``.

    Returns:
        A 0-d tensor, or the elementwise losses for ``'none'``.

    Example:
        >>> cr.mse_loss(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 4.0])).item()
        2.0
    """
    return _regression("mse_loss", MSELoss, input, target, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``, reduced by ``reduction``.

    Args:
        input: predictions, any shape.
        target: values of the same shape (differing but broadcastable shapes warn, as in PyTorch).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Example:
        >>> cr.l1_loss(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 4.0])).item()
        1.0
    """
    return _regression("l1_loss", L1Loss, input, target, reduction)


# ----------------------------------------------------------------------------- binary losses
class BinaryCrossEntropy(Function):
    """l = -w [t log p + (1 - t) log(1 - p)], each log clamped at -100 as in PyTorch.

    dl/dp = w (p - t) / max(p (1 - p), 1e-12); dl/dt = w (log(1 - p) - log p).
    """

    @staticmethod
    def forward(ctx: Context, p: Any, t: Any, weight: Any = None, reduction: str = "mean") -> Any:
        xp = ctx.xp
        with np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), _LOG_FLOOR)
            log_q = xp.maximum(xp.log1p(-p), _LOG_FLOOR)
        loss = -(t * log_p + (1 - t) * log_q)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(p, t, log_p, log_q)
        ctx.weight, ctx.reduction = weight, reduction
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        xp = ctx.xp
        p, t, log_p, log_q = ctx.saved
        g = _reduced_grad(grad, p.size, ctx.reduction)
        if ctx.weight is not None:
            g = g * ctx.weight
        gp = g * (p - t) / xp.maximum(p * (1 - p), _BCE_EPS)
        gt = g * (log_q - log_p) if ctx.needs_input_grad[1] else None
        return gp, gt


class BinaryCrossEntropyWithLogits(Function):
    """l = w [(1 - t) z + (1 + (q - 1) t) softplus(-z)] with q = pos_weight (1 when absent).

    This is -w [q t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))] rewritten with
    softplus(-z) = -log sigmoid(z) = max(-z, 0) + log1p(e^-|z|), which never overflows.
    dl/dz = w [(1 - t) - (1 + (q - 1) t) sigmoid(-z)]  (= w (sigmoid(z) - t) when q = 1);
    dl/dt = w [(q - 1) softplus(-z) - z].
    """

    @staticmethod
    def forward(
        ctx: Context,
        z: Any,
        t: Any,
        weight: Any = None,
        pos_weight: Any = None,
        reduction: str = "mean",
    ) -> Any:
        xp = ctx.xp
        sp = xp.maximum(-z, 0) + xp.log1p(xp.exp(-xp.abs(z)))  # softplus(-z) = -log sigmoid(z)
        if pos_weight is None:
            loss = (1 - t) * z + sp
        else:
            loss = (1 - t) * z + (1 + (pos_weight - 1) * t) * sp
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(z, t, sp)
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        xp = ctx.xp
        z, t, sp = ctx.saved
        pw = ctx.pos_weight
        g = _reduced_grad(grad, z.size, ctx.reduction)
        if ctx.weight is not None:
            g = g * ctx.weight
        if pw is None:
            gz = g * (xp.exp(-sp) - t)  # sigmoid(z) = exp(-softplus(-z)) lies in [0, 1]
        else:
            # sigmoid(-z) = exp(-softplus(z)) and softplus(z) = softplus(-z) + z
            gz = g * ((1 - t) - (1 + (pw - 1) * t) * xp.exp(-(sp + z)))
        gt = None
        if ctx.needs_input_grad[1]:
            gt = g * (-z if pw is None else (pw - 1) * sp - z)
        return gz, gt


def _binary_target(name: str, target: Any, x: Tensor) -> Any:
    t = _float_target(name, target, x)
    if t.shape != x.shape:
        raise ValueError(
            f"{name}: target shape {t.shape} must equal input shape {x.shape} "
            "(one target probability per input element)."
        )
    return t


def binary_cross_entropy(
    input: Tensor, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy between probabilities ``input`` and targets in [0, 1].

    ``-w [t log p + (1 - t) log(1 - p)]`` with each log clamped at -100, as in PyTorch.
    For raw scores prefer ``binary_cross_entropy_with_logits``, which is stable for any magnitude.

    Args:
        input: probabilities in [0, 1], any shape.
        target: same shape as ``input``.
        weight: rescaling weight broadcastable to ``input`` (no gradient).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Raises:
        ValueError: when ``input`` has values outside [0, 1] or shapes differ.

    Example:
        >>> round(cr.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0])).item(), 4)
        0.6931
    """
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    x = _float_input(name, input)
    t = _binary_target(name, target, x)
    p = x.data
    if p.size:
        lo, hi = float(p.min()), float(p.max())
        if not (lo >= 0.0 and hi <= 1.0):  # written so that NaN fails too
            raise ValueError(
                f"{name}: input must hold probabilities in [0, 1], got values in [{lo}, {hi}]. "
                "Apply sigmoid first, or use binary_cross_entropy_with_logits on raw scores."
            )
    w = _constant(name, "weight", weight, x)
    return BinaryCrossEntropy.apply(x, t, weight=w, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Sigmoid followed by binary cross-entropy, fused and stable for logits of any magnitude.

    Args:
        input: raw scores (logits), any shape.
        target: probabilities of the positive class, same shape as ``input``.
        weight: rescaling weight broadcastable to ``input`` (no gradient).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: weight of the positive term, broadcast along the last dimension (e.g. one per
            class, ``num_negative / num_positive``); no gradient.

    Example:
        >>> round(cr.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)
        0.6931
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    x = _float_input(name, input)
    t = _binary_target(name, target, x)
    w = _constant(name, "weight", weight, x)
    pw = _constant(name, "pos_weight", pos_weight, x)
    return BinaryCrossEntropyWithLogits.apply(x, t, weight=w, pos_weight=pw, reduction=reduction)


# ------------------------------------------------------------------------- classification losses
def _classes_last(xp: Any, x: Any) -> Any:
    """View ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)`` as rows of classes ``(M, C)``."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _classes_back(xp: Any, g: Any, shape: tuple[int, ...]) -> Any:
    """Inverse of ``_classes_last``: rows ``(M, C)`` back to the input's ``shape``."""
    if len(shape) <= 2:
        return g.reshape(shape)
    moved = (shape[0], *shape[2:], shape[1])
    return xp.moveaxis(g.reshape(moved), -1, 1)


def _valid_targets(name: str, xp: Any, y: Any, c: int, ignore_index: int) -> tuple[Any, Any]:
    """Check class indices; return (mask of non-ignored targets or None, indices safe to gather)."""
    if y.size == 0:
        return None, y
    if not 0 <= ignore_index < c:
        # viewed as unsigned, a negative index is huge, so one max checks both bounds
        if int(y.view(xp.dtype(f"u{y.itemsize}")).max()) < c:
            return None, y
    valid = y != ignore_index
    bad = valid & ((y < 0) | (y >= c))
    if bad.any():
        value = int(y[bad].reshape(-1)[0])
        raise ValueError(
            f"{name}: target value {value} is out of range for {c} classes "
            f"(expected 0 <= target < {c}, or ignore_index={ignore_index})."
        )
    if valid.all():
        return None, y
    return valid, xp.where(valid, y, 0)


def _exp_shifted(xp: Any, z2: Any) -> tuple[Any, Any, Any]:
    """(z - s, exp(z - s), row sums of exp(z - s)) for a shift s that keeps every exp finite.

    s is the global max (one fast reduction); if some row lies so far below it that its
    exponentials underflow, each row is shifted by its own max instead. Row sums are a GEMV.
    """
    m, c = z2.shape
    ones = xp.ones(c, dtype=z2.dtype)
    if m == 0:
        return z2, z2, ones[:0]
    sh = z2 - z2.max()
    e = xp.exp(sh)
    se = e @ ones
    # written so that NaN also takes the per-row path, which keeps NaN to its own row
    if not se.min() >= _TINY.get(z2.dtype.itemsize, 1e-200):
        sh = z2 - z2.max(axis=1, keepdims=True)
        e = xp.exp(sh)
        se = e @ ones
    return sh, e, se


def _row_grad(grad: Any, ctx: Context) -> Any:
    """d(reduced loss)/d(row loss): 0-d when every row gets the same, else a vector over rows.

    Ignored rows get zero.
    """
    if ctx.reduction == "none":
        a = grad.reshape(-1)
    elif ctx.reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero total weight gives NaN
            a = grad / ctx.denom
    else:
        a = grad
    if ctx.valid is not None:
        a = ctx.xp.where(ctx.valid, a, 0)  # exactly 0, even when all are ignored and a = 1 / 0
    return a


def _finish(xp: Any, ctx: Context, loss: Any, denom: Any, out_shape: tuple[int, ...]) -> Any:
    """Reduce the per-row losses; ``denom`` divides the sum for ``mean``."""
    ctx.denom = denom
    if ctx.reduction == "none":
        return loss.reshape(out_shape)
    total = loss.sum()
    if ctx.reduction == "sum":
        return xp.asarray(total)
    # with every target ignored the mean is 0 / 0 = NaN, as in PyTorch
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.asarray(total / denom, dtype=loss.dtype)


class CrossEntropy(Function):
    """Fused log-softmax and negative log-likelihood over the class axis, for class-index targets.

    Per row i with target y, weights w (1 when absent) and smoothing e over C classes, the row loss
    is sum_c q_c (-log p_c) with q_c = (1 - e) w_y [c = y] + (e / C) w_c, and p = softmax(z).
    Its gradient is dl/dz = (sum_c q_c) p - q. ``mean`` divides by the sum of w_y over non-ignored
    rows, as PyTorch does. log p is computed from z shifted by its maximum: no exp overflows.
    """

    @staticmethod
    def forward(
        ctx: Context,
        z: Any,
        y: Any,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> Any:
        xp = ctx.xp
        z2 = _classes_last(xp, z)
        m, c = z2.shape
        valid, ys = _valid_targets("cross_entropy", xp, y.reshape(-1), c, ignore_index)
        sh, e, se = _exp_shifted(xp, z2)
        lse = xp.log(se)
        loss = lse - sh[xp.arange(m), ys]  # -log p_y
        wy = None if weight is None else weight[ys]
        if valid is not None:
            wy = valid.astype(z.dtype) if wy is None else wy * valid
        if wy is not None:
            loss = loss * wy
        eps = label_smoothing
        if eps:
            w_all = xp.ones(c, dtype=z.dtype) if weight is None else weight
            smooth = lse * w_all.sum() - sh @ w_all  # -sum_c w_c log p_c
            if valid is not None:
                smooth = smooth * valid
            loss = (1 - eps) * loss + (eps / c) * smooth
        ctx.save_for_backward(e, se, ys, wy)
        ctx.shape, ctx.rows, ctx.valid, ctx.weight = z.shape, m, valid, weight
        ctx.reduction, ctx.eps = reduction, eps
        return _finish(xp, ctx, loss, m if wy is None else wy.sum(), y.shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        xp = ctx.xp
        e, se, ys, wy = ctx.saved
        a = _row_grad(grad, ctx)
        eps, c = ctx.eps, e.shape[1]
        w_target = 1 if wy is None else wy
        q_sum = w_target
        if eps:
            wsum = c if ctx.weight is None else ctx.weight.sum()
            q_sum = (1 - eps) * w_target + (eps / c) * wsum
        gz = e * (a * q_sum / se)[:, None]
        gz[xp.arange(ctx.rows), ys] -= a * ((1 - eps) * w_target)
        if eps:
            spread = (eps / c) * a.reshape(-1, 1)
            gz -= spread if ctx.weight is None else spread * ctx.weight
        return _classes_back(xp, gz, ctx.shape), None


class SoftCrossEntropy(Function):
    """Cross-entropy against class probabilities t (same shape as z), optionally smoothed.

    Row loss sum_c q_c (-log p_c) with q = w (t (1 - e) + e / C); dl/dz = (sum_c q_c) p - q and
    dl/dt = -(1 - e) w log p. ``mean`` divides by the number of rows, as PyTorch does.
    """

    @staticmethod
    def forward(
        ctx: Context,
        z: Any,
        t: Any,
        weight: Any = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> Any:
        xp = ctx.xp
        z2, t2 = _classes_last(xp, z), _classes_last(xp, t)
        m, c = z2.shape
        eps = label_smoothing
        sh, e, se = _exp_shifted(xp, z2)
        log_p = sh - xp.log(se)[:, None]
        q = t2 * (1 - eps) + eps / c if eps else t2
        if weight is not None:
            q = q * weight
        loss = -(q * log_p).sum(axis=1)
        ctx.save_for_backward(e, se, q, log_p if ctx.needs_input_grad[1] else None)
        ctx.shape, ctx.rows, ctx.valid, ctx.weight = z.shape, m, None, weight
        ctx.reduction, ctx.eps = reduction, eps
        out_shape = () if z.ndim == 1 else (z.shape[0], *z.shape[2:])
        return _finish(xp, ctx, loss, m, out_shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        xp = ctx.xp
        e, se, q, log_p = ctx.saved
        a = _row_grad(grad, ctx).reshape(-1, 1)
        gz = e * (a * (q.sum(axis=1) / se)[:, None]) - a * q
        gt = None
        if log_p is not None:
            gt = -(1 - ctx.eps) * a * log_p
            if ctx.weight is not None:
                gt = gt * ctx.weight
            gt = _classes_back(xp, gt, ctx.shape)
        return _classes_back(xp, gz, ctx.shape), gt


class NLLLoss(Function):
    """l = -w_y x_y for log-probabilities x; dl/dx is -w_y at the target class and 0 elsewhere."""

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        y: Any,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> Any:
        xp = ctx.xp
        x2 = _classes_last(xp, x)
        m, c = x2.shape
        valid, ys = _valid_targets("nll_loss", xp, y.reshape(-1), c, ignore_index)
        loss = -x2[xp.arange(m), ys]
        wy = None if weight is None else weight[ys]
        if valid is not None:
            wy = valid.astype(x.dtype) if wy is None else wy * valid
        if wy is not None:
            loss = loss * wy
        ctx.save_for_backward(ys, wy)
        ctx.shape, ctx.classes, ctx.rows, ctx.valid = x.shape, c, m, valid
        ctx.reduction = reduction
        return _finish(xp, ctx, loss, m if wy is None else wy.sum(), y.shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, None]:
        xp = ctx.xp
        ys, wy = ctx.saved
        a = _row_grad(grad, ctx)
        gx = xp.zeros((ctx.rows, ctx.classes), dtype=grad.dtype)
        gx[xp.arange(ctx.rows), ys] = -a if wy is None else -a * wy
        return _classes_back(xp, gx, ctx.shape), None


def _class_inputs(
    name: str, input: Any, target: Any, weight: Any, reduction: str, soft_ok: bool
) -> tuple[Tensor, Any, Any]:
    """Validate (input, target, weight) of a classification loss; the target may stay a Tensor."""
    _check_reduction(name, reduction)
    x = _float_input(name, input)
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor.")
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if c == 0:
        raise ValueError(f"{name}: input of shape {x.shape} has no classes (C = 0).")
    expected = () if x.ndim == 1 else (x.shape[0], *x.shape[2:])
    raw = _data(target)
    if raw.dtype.kind == "f" and soft_ok:
        t = _float_target(name, target, x)
        if t.shape != x.shape:
            raise ValueError(
                f"{name}: probability targets must have the input's shape {x.shape}, got {t.shape} "
                f"(class-index targets are integers of shape {expected})."
            )
    elif raw.dtype.kind in "iu":
        t = raw
        if t.shape != expected:
            hint = ""
            if t.shape == x.shape:
                hint = " Hint: one-hot targets? Pass class indices (argmax) or float probabilities."
            raise ValueError(
                f"{name}: input of shape {x.shape} (N, C, d1, ...) expects class-index targets of "
                f"shape {expected} (N, d1, ...), got {t.shape}.{hint}"
            )
    else:
        kinds = "integer class indices"
        if soft_ok:
            kinds += " or float probabilities"
        raise TypeError(f"{name}: target must hold {kinds}, got dtype {raw.dtype}.")
    w = None
    if weight is not None:
        w = _data(weight).astype(x.dtype, copy=False)
        if w.shape != (c,):
            raise ValueError(
                f"{name}: weight must have one entry per class, shape ({c},), got {w.shape}."
            )
    return x, t, w


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and targets: log-softmax and NLL fused in one op.

    Args:
        input: logits of shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (integers, shape ``(N, d1, ...)``) or class probabilities (floats,
            the input's shape).
        weight: per-class weights of shape ``(C,)`` (no gradient).
        ignore_index: index targets equal to it contribute neither loss nor gradient.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``. With index targets, ``mean`` divides by
            the sum of the weights of the non-ignored targets; with probabilities, by the number of
            rows.
        label_smoothing: mix the target with the uniform distribution, in [0, 1].

    Returns:
        A 0-d tensor, or the per-sample losses of shape ``(N, d1, ...)`` for ``'none'``.

    Raises:
        ValueError: a target index outside ``[0, C)`` (other than ``ignore_index``), or mismatched
            shapes.

    Example:
        >>> round(cr.cross_entropy(cr.zeros(2, 4), cr.tensor([0, 3])).item(), 4)
        1.3863
    """
    name = "cross_entropy"
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}.")
    x, t, w = _class_inputs(name, input, target, weight, reduction, soft_ok=True)
    if _data(t).dtype.kind == "f":
        return SoftCrossEntropy.apply(
            x, t, weight=w, reduction=reduction, label_smoothing=float(label_smoothing)
        )
    return CrossEntropy.apply(
        x,
        t,
        weight=w,
        ignore_index=int(ignore_index),
        reduction=reduction,
        label_smoothing=float(label_smoothing),
    )


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities ``input``.

    Use after ``log_softmax``; ``cross_entropy`` fuses the two and is faster.

    Args:
        input: log-probabilities of shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices of shape ``(N, d1, ...)``.
        weight: per-class weights of shape ``(C,)`` (no gradient).
        ignore_index: targets equal to it contribute neither loss nor gradient.
        reduction: ``'mean'`` (divided by the sum of the weights of the non-ignored targets),
            ``'sum'`` or ``'none'``.

    Example:
        >>> cr.nll_loss(cr.tensor([[-1.0, -2.0]]), cr.tensor([1])).item()
        2.0
    """
    x, t, w = _class_inputs("nll_loss", input, target, weight, reduction, soft_ok=False)
    return NLLLoss.apply(x, t, weight=w, ignore_index=int(ignore_index), reduction=reduction)
