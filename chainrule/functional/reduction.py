"""Reductions over axes: sum, mean, max, min, var, std, logsumexp, argmax, argmin."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "var",
    "std",
    "logsumexp",
    "argmax",
    "argmin",
    "amax",
    "amin",
]


def _axes(axis: Any, ndim: int, name: str) -> tuple[int, ...] | None:
    """Normalise ``axis`` (None, int or tuple) to a sorted tuple of non-negative axes.

    A 0-d tensor accepts axis 0 or -1 (as in PyTorch) and reduces over nothing.
    """
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}.")
    out = []
    n = builtins.max(ndim, 1)
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}.")
        if not -n <= a < n:
            raise ValueError(
                f"{name}: axis {a} is out of range for a tensor with {ndim} dimensions "
                f"(valid: {-n}..{n - 1})."
            )
        out.append(int(a) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}.")
    if ndim == 0:
        return None
    return tuple(sorted(out))


def _expand_back(
    grad: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdims: bool
) -> Any:
    """Reshape a reduced gradient so that it broadcasts against the input ``shape``."""
    if keepdims or axes is None:
        return grad  # already broadcastable: kept axes have length 1, a full reduction is 0-d
    kept = list(grad.shape)
    for a in axes:
        kept.insert(a, 1)
    return grad.reshape(kept)


_SMALL = 1 << 16


def _broadcast(xp: Any, g: Any, shape: tuple[int, ...]) -> Any:
    """``g`` broadcast to ``shape``: a fresh array when small (cheaper than a view), else a view."""
    if g.shape == shape:
        return g
    size = 1
    for n in shape:
        size *= n
    if size <= _SMALL:
        out = xp.empty(shape, dtype=g.dtype)
        out[...] = g
        return out
    return xp.broadcast_to(g, shape)


class Sum(Function):
    """y = sum of x over axes; dy/dx = 1 broadcast back."""

    @staticmethod
    def forward(ctx: Context, x: Any, axes: Any = None, keepdims: bool = False) -> Any:
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return ctx.xp.asarray(x.sum(axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        g = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdims)
        return _broadcast(ctx.xp, g, ctx.shape)


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
        return _broadcast(ctx.xp, g, ctx.shape)


class _Extremum(Function):
    """y = max (or min) over axes; the gradient is shared evenly among tied extremal elements."""

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
        count = mask.sum(axis=ctx.axes, keepdims=True).astype(grad.dtype)
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


def _check_nonempty(x: Tensor, axes: tuple[int, ...] | None, name: str) -> None:
    """Reductions without an identity (max, mean, ...) need at least one element per result."""
    shape = x.shape
    n = x.data.size if axes is None else int(np.prod([shape[a] for a in axes]))
    if n == 0:
        where = "" if axes is None else f" along axis {axes if len(axes) > 1 else axes[0]}"
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {shape}{where}.")


def sum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (int, tuple or None for all).

    Example: `cr.ones(2, 3).sum(1)` is `[3., 3.]`.
    """
    return Sum.apply(x, axes=_axes(axis, x.ndim, "sum"), keepdims=keepdims)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``."""
    axes = _axes(axis, x.ndim, "mean")
    _check_nonempty(x, axes, "mean")
    return Mean.apply(x, axes=axes, keepdims=keepdims)


def max(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Largest value over ``axis`` (gradient split evenly among ties, like ``torch.amax``)."""
    axes = _axes(axis, x.ndim, "max")
    _check_nonempty(x, axes, "max")
    return Max.apply(x, axes=axes, keepdims=keepdims)


def min(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Smallest value over ``axis``."""
    axes = _axes(axis, x.ndim, "min")
    _check_nonempty(x, axes, "min")
    return Min.apply(x, axes=axes, keepdims=keepdims)


amax, amin = max, min


def var(x: Tensor, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
    """Variance over ``axis``: sum of squared deviations / (n - correction).

    ``correction=1`` (the default) is the unbiased estimate; ``correction=0`` the population one.
    """
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
    axes = _axes(axis, x.ndim, "logsumexp")
    _check_nonempty(x, axes, "logsumexp")
    return LogSumExp.apply(x, axes=axes, keepdims=keepdims)


def _arg_reduce(x: Any, axis: int | None, keepdims: bool, name: str) -> Tensor:
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if axis is not None:
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{name}: axis must be an int or None, got {axis!r}.")
        n = builtins.max(data.ndim, 1)
        if not -n <= axis < n:
            raise ValueError(
                f"{name}: axis {axis} is out of range for a tensor with {data.ndim} dimensions."
            )
        if data.ndim == 0:
            axis = None
    if data.size == 0 or (axis is not None and data.shape[axis] == 0):
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {tuple(data.shape)}.")
    out = getattr(data, name)(axis=axis, keepdims=keepdims)
    return Tensor._make(np.asarray(out).astype(np.int64, copy=False))


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when ``axis`` is None); no gradient.

    Example:
        >>> cr.argmax(cr.tensor([[1.0, 3.0], [4.0, 2.0]]), axis=1).tolist()
        [1, 0]
    """
    return _arg_reduce(x, axis, keepdims, "argmax")


def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value; no gradient."""
    return _arg_reduce(x, axis, keepdims, "argmin")
