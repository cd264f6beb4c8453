"""Indexing and slicing with integers, slices, masks and integer arrays, with scattered gradients."""

from __future__ import annotations

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


class GetItem(Function):
    """y = x[index]; the gradient is scattered back, summing over repeated indices."""

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any = None) -> Any:
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        ctx.basic = _is_basic(index)
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
    index = _index_arrays(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as err:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: {err}") from err


class TakeAlongAxis(Function):
    """y = take_along_axis(x, idx, axis); the gradient is scattered back with accumulation."""

    @staticmethod
    def forward(ctx: Context, x: Any, idx: Any = None, axis: int = 0) -> Any:
        ctx.shape, ctx.idx, ctx.axis = x.shape, idx, axis
        return ctx.xp.take_along_axis(x, idx, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        full = list(np.indices(ctx.idx.shape, sparse=True))
        full[ctx.axis] = ctx.idx
        ctx.xp.add.at(out, tuple(full), grad)
        return out


def take_along_axis(x: Tensor, indices: Any, axis: int) -> Tensor:
    """Pick values along ``axis`` at ``indices`` (same rank as ``x``), as ``np.take_along_axis``."""
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got {idx.dtype}.")
    return TakeAlongAxis.apply(x, idx=idx, axis=axis % x.ndim)


gather = take_along_axis
