"""Shape ops: reshape, permute, squeeze/unsqueeze, expand, pad, concatenate, stack, split."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor

__all__ = [
    "reshape", "view", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "expand",
    "broadcast_to", "pad", "concatenate", "cat", "stack", "split", "chunk",
]  # fmt: skip


def _norm_axis(axis: int, ndim: int, name: str) -> int:
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: axis {axis} is out of range for a tensor with {ndim} dimensions."
        )
    return axis % ndim


class Reshape(Function):
    """y = x with a new shape; the gradient is reshaped back."""

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...] = ()) -> Any:
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.reshape(ctx.shape)


class Permute(Function):
    """y = x with its axes reordered; the gradient is permuted by the inverse order."""

    @staticmethod
    def forward(ctx: Context, x: Any, axes: tuple[int, ...] = ()) -> Any:
        ctx.inverse = tuple(int(i) for i in np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad.transpose(ctx.inverse)


class BroadcastTo(Function):
    """y = x broadcast to a larger shape; the engine sums the gradient back."""

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...] = ()) -> Any:
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad


class Pad(Function):
    """y = x padded with a constant; the gradient is the inner slice."""

    @staticmethod
    def forward(ctx: Context, x: Any, widths: tuple = (), value: float = 0.0) -> Any:
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape, strict=True))
        return ctx.xp.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad[ctx.inner]


class Concatenate(Function):
    """y = inputs joined along an axis; each gets its slice of the gradient."""

    @staticmethod
    def forward(ctx: Context, *xs: Any, axis: int = 0) -> Any:
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return ctx.xp.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        out = []
        index = [slice(None)] * grad.ndim
        for i, need in enumerate(ctx.needs_input_grad):
            if need:
                index[ctx.axis] = slice(ctx.bounds[i], ctx.bounds[i + 1])
                out.append(grad[tuple(index)])
            else:
                out.append(None)
        return tuple(out)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Same elements in a new shape (one entry may be -1)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError as err:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.data.size} elements) "
            f"into {shape}."
        ) from err


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s = _norm_axis(start_dim, x.ndim, "flatten")
    e = _norm_axis(end_dim, x.ndim, "flatten")
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return reshape(x, shape)


def permute(x: Tensor, axes: Sequence[int]) -> Tensor:
    """Reorder the axes, e.g. ``permute(x, (0, 2, 3, 1))`` for NCHW -> NHWC."""
    axes = tuple(_norm_axis(int(a), x.ndim, "permute") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(
            f"permute: {axes} is not a permutation of the {x.ndim} axes of shape {x.shape}."
        )
    return Permute.apply(x, axes=axes)


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two axes."""
    axes = list(range(x.ndim))
    a, b = _norm_axis(dim0, x.ndim, "transpose"), _norm_axis(dim1, x.ndim, "transpose")
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(x, axes=tuple(axes))


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    """Remove axes of length 1 (all of them, or those in ``axis``)."""
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        single = isinstance(axis, (int, np.integer))
        axes = {_norm_axis(a, x.ndim, "squeeze") for a in ((axis,) if single else axis)}
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes or n != 1)
    return Reshape.apply(x, shape=shape)


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of length 1 at ``axis``."""
    axis = _norm_axis(axis, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, shape=x.shape[:axis] + (1,) + x.shape[axis:])


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """A view of ``x`` broadcast to ``shape``; the gradient sums over the broadcast axes."""
    shape = tuple(int(n) for n in shape)
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError as err:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}.") from err
    if np.broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}.")
    return BroadcastTo.apply(x, shape=shape)


def expand(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Broadcast to ``shape``, where -1 keeps that dimension (PyTorch's ``expand``)."""
    shape = tuple(int(n) for n in shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(
            f"expand: the target shape {shape} has fewer dimensions than the tensor's {x.shape}."
        )
    full = []
    for i, n in enumerate(shape):
        if n == -1:
            if i < lead:
                raise ValueError(
                    f"expand: -1 is not allowed for the new leading dimension {i} in {shape}."
                )
            n = x.shape[i - lead]
        full.append(n)
    return broadcast_to(x, full)


def pad(x: Tensor, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pad with a constant.

    Args:
        pad_width: NumPy style, one ``(before, after)`` pair per axis (or one int for all sides), or
            PyTorch style, a flat tuple ``(last_lo, last_hi, second_last_lo, ...)``.
        value: fill value.
    """
    if isinstance(pad_width, int):
        widths = tuple((pad_width, pad_width) for _ in range(x.ndim))
    elif len(pad_width) and isinstance(pad_width[0], (tuple, list)):
        widths = tuple((int(a), int(b)) for a, b in pad_width)
        if len(widths) != x.ndim:
            raise ValueError(
                f"pad: expected {x.ndim} (before, after) pairs for shape {x.shape}, "
                f"got {len(widths)}."
            )
    else:
        if len(pad_width) % 2 or len(pad_width) // 2 > x.ndim:
            raise ValueError(
                f"pad: a flat padding must have 2 entries per padded axis, got {pad_width}."
            )
        pairs = [(int(pad_width[i]), int(pad_width[i + 1])) for i in range(0, len(pad_width), 2)]
        widths = tuple([(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1])
    if any(a < 0 or b < 0 for a, b in widths):
        raise ValueError(f"pad: negative padding {widths} is not supported.")
    return Pad.apply(x, widths=widths, value=value)


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; all other dimensions must agree."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: expected at least one tensor.")
    ref = tensors[0]
    ax = _norm_axis(axis, ref.ndim, "concatenate")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(
            a != b for d, (a, b) in enumerate(zip(t.shape, ref.shape, strict=True)) if d != ax
        ):
            raise ValueError(
                f"concatenate: tensor {i} has shape {t.shape}, incompatible with tensor 0's "
                f"shape {ref.shape} along axis {axis}."
            )
    return Concatenate.apply(*tensors, axis=ax)


cat = concatenate


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected at least one tensor.")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, expected {tensors[0].shape}.")
    ax = _norm_axis(axis, tensors[0].ndim + 1, "stack")
    return concatenate([unsqueeze(t, ax) for t in tensors], axis=ax)


def split(x: Tensor, split_size_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Cut along ``axis`` into pieces of one size (the last may be smaller) or of listed sizes."""
    from .indexing import getitem

    ax = _norm_axis(axis, x.ndim, "split")
    n = x.shape[ax]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split size must be positive, got {split_size_or_sections}.")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(
                f"split: sections {sizes} sum to {sum(sizes)}, but axis {axis} has {n}."
            )
    out, start = [], 0
    for s in sizes:
        index = (slice(None),) * ax + (slice(start, start + s),)
        out.append(getitem(x, index))
        start += s
    return out


def chunk(x: Tensor, chunks: int, axis: int = 0) -> list[Tensor]:
    """Cut into ``chunks`` nearly equal pieces along ``axis``."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}.")
    n = x.shape[_norm_axis(axis, x.ndim, "chunk")]
    size = builtins.max(-(-n // chunks), 1)
    return split(x, size, axis)
