"""Indexing with integers, slices, masks and integer arrays; gradients are scattered back."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor

__all__ = ["getitem", "take_along_axis", "gather"]


def _index_arrays(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _is_single_mask(index: Any) -> bool:
    """A lone boolean mask selects each element at most once, like basic indexing."""
    return getattr(index, "dtype", None) is not None and index.dtype == np.bool_


class GetItem(Function):
    """y = x[index]; the gradient is scattered back, summing over repeated indices."""

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any = None) -> Any:
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        ctx.basic = _is_basic(index) or _is_single_mask(index)
        return x[index]

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.basic:
            out[ctx.index] = grad  # basic indexing selects each element at most once
        else:
            ctx.xp.add.at(out, ctx.index, grad)
        return out


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` as in NumPy; integer-array indices may repeat (their gradients add up)."""
    return GetItem.apply(x, index=_index_arrays(index))


class TakeAlongAxis(Function):
    """y = take_along_axis(x, idx, axis); the gradient is scattered back with accumulation."""

    @staticmethod
    def forward(ctx: Context, x: Any, idx: Any = None, axis: int = 0) -> Any:
        ctx.shape, ctx.idx, ctx.axis = x.shape, idx, axis
        return ctx.xp.take_along_axis(x, idx, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = ctx.xp
        out = xp.zeros(ctx.shape, dtype=grad.dtype)
        index = []
        for d, n in enumerate(grad.shape):
            if d == ctx.axis:
                index.append(ctx.idx)
                continue
            along = [1] * grad.ndim
            along[d] = n
            # an axis of length 1 in x was broadcast against the indices: all of it lands on 0
            pos = xp.zeros(1, dtype=np.intp) if ctx.shape[d] == 1 else xp.arange(n)
            index.append(pos.reshape(along if ctx.shape[d] != 1 else [1] * grad.ndim))
        xp.add.at(out, tuple(index), grad)
        return out


def take_along_axis(x: Tensor, indices: Any, axis: int) -> Tensor:
    """Pick values along ``axis`` at ``indices`` (same rank as ``x``), as ``np.take_along_axis``.

    Example:
        >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> cr.take_along_axis(x, cr.tensor([[1], [0]]), axis=1).tolist()
        [[2.0], [3.0]]
    """
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got {idx.dtype}.")
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {tuple(idx.shape)} must have as many dimensions as "
            f"the tensor of shape {x.shape}."
        )
    if not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < builtins.max(x.ndim, 1):
        raise ValueError(
            f"take_along_axis: axis {axis!r} is out of range for a tensor with {x.ndim} dimensions."
        )
    axis = int(axis) % x.ndim
    n = x.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(
            f"take_along_axis: indices must lie in [{-n}, {n}) for axis {axis} of shape {x.shape}, "
            f"got values in [{int(idx.min())}, {int(idx.max())}]."
        )
    try:
        np.broadcast_shapes(
            tuple(m for i, m in enumerate(x.shape) if i != axis),
            tuple(m for i, m in enumerate(idx.shape) if i != axis),
        )
    except ValueError:
        raise ValueError(
            f"take_along_axis: indices of shape {tuple(idx.shape)} do not broadcast with the "
            f"tensor of shape {x.shape} outside axis {axis}."
        ) from None
    return TakeAlongAxis.apply(x, idx=idx, axis=axis)


gather = take_along_axis
