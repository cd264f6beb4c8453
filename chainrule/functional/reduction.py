"""Reductions over axes: sum, mean, max, min, var, std, logsumexp, argmax, argmin."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor

__all__ = ["sum", "mean", "max", "min", "var", "std", "logsumexp", "argmax", "argmin", "amax", "amin"]

def _axes(axis: Any, ndim: int, name: str) -> tuple[int, ...] | None:
    """Normalise ``axis`` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    n = builtins.max(ndim, 1)
    for a in axes:
        if not -n <= a < n:
            raise ValueError(f"{name}: axis {a} is out of range for a tensor with {ndim} dimensions.")
        out.append(int(a) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}.")
    return tuple(sorted(out))


def _expand_back(grad: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdims: bool) -> Any:
    """Reshape a reduced gradient so that it broadcasts against the input ``shape``."""
    if keepdims or axes is None:
        return grad  # already broadcastable: kept axes have length 1, a full reduction is 0-d
    kept = list(grad.shape)
    for a in axes:
        kept.insert(a, 1)
    return grad.reshape(kept)


class Sum(Function):
    """y = sum of x over axes; dy/dx = 1 broadcast back."""

    @staticmethod
    def forward(ctx: Context, x: Any, axes: Any = None, keepdims: bool = False) -> Any:
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return ctx.xp.asarray(x.sum(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdims)
        return ctx.xp.broadcast_to(g, ctx.shape)


class Mean(Function):
    """y = mean of x over axes; dy/dx = 1/n broadcast back."""

    @staticmethod
    def forward(ctx: Context, x: Any, axes: Any = None, keepdims: bool = False) -> Any:
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        return ctx.xp.asarray(x.mean(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdims) / ctx.n
        return ctx.xp.broadcast_to(g, ctx.shape)


class _Extremum(Function):
    """y = max (or min) over axes; the gradient is shared evenly among the tied extremal elements."""

    reduce = "max"

    @classmethod
    def forward(cls, ctx: Context, x: Any, axes: Any = None, keepdims: bool = False) -> Any:
        y = getattr(x, cls.reduce)(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdims = axes, keepdims
        if keepdims:
            return y
        return y.reshape(()) if axes is None else y.squeeze(axis=axes)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, y = ctx.saved
        mask = x == y
        count = mask.sum(axis=ctx.axes, keepdims=True)
        g = _expand_back(grad, x.shape, ctx.axes, ctx.keepdims)
        return mask * (g / count)


class Max(_Extremum):
    reduce = "max"


class Min(_Extremum):
    reduce = "min"


class LogSumExp(Function):
    """y = log sum exp x, computed as m + log sum exp(x - m) with m = max x; dy/dx = softmax(x)."""

    @staticmethod
    def forward(ctx: Context, x: Any, axes: Any = None, keepdims: bool = False) -> Any:
        xp = ctx.xp
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        e = xp.exp(x - m)
        s = e.sum(axis=axes, keepdims=True)
        y = xp.log(s) + m
        ctx.save_for_backward(e / s)
        ctx.axes, ctx.keepdims, ctx.shape = axes, keepdims, x.shape
        if keepdims:
            return y
        return y.reshape(()) if axes is None else y.squeeze(axis=axes)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (p,) = ctx.saved
        return p * _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdims)


def _check_nonempty(x: Tensor, axes: Any, name: str) -> None:
    if x.data.size == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}.")


def sum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (int, tuple or None for all). Example: `cr.ones(2, 3).sum(1)` is `[3., 3.]`."""
    return Sum.apply(x, axes=_axes(axis, x.ndim, "sum"), keepdims=keepdims)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``."""
    _check_nonempty(x, axis, "mean")
    return Mean.apply(x, axes=_axes(axis, x.ndim, "mean"), keepdims=keepdims)


def max(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Largest value over ``axis`` (gradient split evenly among ties, like ``torch.amax``)."""
    _check_nonempty(x, axis, "max")
    return Max.apply(x, axes=_axes(axis, x.ndim, "max"), keepdims=keepdims)


def min(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Smallest value over ``axis``."""
    _check_nonempty(x, axis, "min")
    return Min.apply(x, axes=_axes(axis, x.ndim, "min"), keepdims=keepdims)


amax, amin = max, min


def var(x: Tensor, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Variance over ``axis``: sum of squared deviations / (n - correction); correction=1 is unbiased."""
    axes = _axes(axis, x.ndim, "var")
    n = x.data.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    if n - correction <= 0:
        raise ValueError(f"var: {n} elements are too few for correction={correction}.")
    deviation = x - mean(x, axes, keepdims=True)
    return sum(deviation * deviation, axes, keepdims) / (n - correction)


def std(x: Tensor, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Standard deviation over ``axis`` (square root of ``var``)."""
    from .elementwise import sqrt

    return sqrt(var(x, axis, keepdims, correction))


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, stable for large magnitudes."""
    _check_nonempty(x, axis, "logsumexp")
    return LogSumExp.apply(x, axes=_axes(axis, x.ndim, "logsumexp"), keepdims=keepdims)


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when ``axis`` is None); no gradient."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor._make(np.asarray(data.argmax(axis=axis, keepdims=keepdims)).astype(np.int64))


def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value; no gradient."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor._make(np.asarray(data.argmin(axis=axis, keepdims=keepdims)).astype(np.int64))
