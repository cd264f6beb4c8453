"""Convolution: ``conv1d``, ``conv2d`` (cross-correlation), ``convolve2d`` (true convolution) and
``conv_transpose2d`` (the adjoint of ``conv2d``), each one ``Function`` over ``chainrule.kernels``.

What every framework calls convolution is cross-correlation: the kernel slides over the input
unflipped, ``y[o, h, w] = b[o] + sum_{c,i,j} w[o, c, i, j] x[c, s*h + d*i - p, s*w + d*j - p]``.
The mathematical convolution flips the kernel by 180 degrees first; a learned kernel absorbs the
flip, so the two are "both called convolution". ``convolve2d`` (or ``conv2d(.., flip_kernel=True)``)
computes the flipped one, so the difference is visible in code and in the tests.

The transposed convolution maps ``(N, C_in, H, W)`` to the larger ``(N, C_out, H_out, W_out)``;
it is the input gradient of a ``conv2d`` from ``C_out`` to ``C_in`` channels with the same weight
``(C_in, C_out/groups, kh, kw)``, so its own backward is a plain ``conv2d`` (for the input) and a
``conv2d`` weight gradient (for the weight).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "convolve2d", "conv_transpose2d"]

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]


def _kernels() -> Any:
    # imported on first use: importing the kernels compiles or loads numba code
    from .. import kernels

    return kernels


def _pair(value: Any, name: str, where: str, minimum: int = 1) -> Pair:
    """An int or a pair of ints as a pair, each at least ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        out = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{where}: {name} must be an int or a pair of ints, got {value!r}.")
    if min(out) < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value!r}.")
    return out


def _single(value: Any, name: str, where: str, minimum: int = 1) -> int:
    """An int or a 1-sequence of ints as an int, at least ``minimum`` (1-D arguments)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


def _same_split(k: int, d: int) -> tuple[int, int]:
    # 'same' pads the dilated reach minus one; an odd total puts the extra zero after (PyTorch)
    total = d * (k - 1)
    return total // 2, total - total // 2


def _padding2d(padding: Any, kernel: Pair, stride: Pair, dilation: Pair, where: str) -> Pad4:
    """Padding as (top, bottom, left, right) from an int, pair, 4-tuple, 'same' or 'valid'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(
                    f"{where}: padding='same' needs stride 1, got stride={stride}. "
                    "Give the padding as numbers for a strided convolution."
                )
            return (*_same_split(kernel[0], dilation[0]), *_same_split(kernel[1], dilation[1]))
        raise ValueError(f"{where}: padding must be 'same', 'valid' or ints, got {padding!r}.")
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        out = tuple(int(p) for p in padding)
        if min(out) < 0:
            raise ValueError(f"{where}: padding must be non-negative, got {padding!r}.")
        return out  # type: ignore[return-value]
    ph, pw = _pair(padding, "padding", where, minimum=0)
    return (ph, ph, pw, pw)


def _padding1d(padding: Any, kernel: int, stride: int, dilation: int, where: str) -> Pair:
    """Padding as (left, right) from an int, (p,), (left, right), 'same' or 'valid'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding == "same":
            if stride != 1:
                raise ValueError(f"{where}: padding='same' needs stride 1, got stride={stride}.")
            return _same_split(kernel, dilation)
        raise ValueError(f"{where}: padding must be 'same', 'valid' or ints, got {padding!r}.")
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        out = (int(padding[0]), int(padding[1]))
        if min(out) < 0:
            raise ValueError(f"{where}: padding must be non-negative, got {padding!r}.")
        return out
    p = _single(padding, "padding", where, minimum=0)
    return (p, p)


def _shape(x: Any, where: str, name: str = "input") -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"{where}: {name} must be a Tensor, got {type(x).__name__}.")
    return tuple(shape)


def _batched(x: Any, ndim: int, layout: str, where: str) -> tuple[Any, bool]:
    """``x`` with a batch axis (an unbatched input gains one); whether one was added."""
    shape = _shape(x, where)
    if len(shape) == ndim:
        return x, False
    if len(shape) == ndim - 1:
        return x.reshape(1, *shape), True
    raise ValueError(
        f"{where}: expected input of shape {layout} (or unbatched without N), got {shape}."
    )


def _check_reach(size: int, pad: int, k: int, d: int, where: str) -> None:
    if size + pad < d * (k - 1) + 1:
        raise ValueError(
            f"{where}: input of size {size} (padded to {size + pad}) is smaller than the kernel's "
            f"reach {d * (k - 1) + 1} (kernel {k}, dilation {d})."
        )


def _check_weight(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], groups: int, where: str
) -> None:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}.")
    C, Co, Cg = x_shape[1], w_shape[0], w_shape[1]
    if C % groups or Co % groups:
        raise ValueError(
            f"{where}: groups={groups} must divide in_channels={C} and out_channels={Co}."
        )
    if Cg * groups != C:
        raise ValueError(
            f"{where}: weight of shape {w_shape} expects {Cg * groups} input channels "
            f"(groups={groups}), got input of shape {x_shape}."
        )


class Conv2d(Function):
    """``y = b + w (*) x`` (cross-correlation; with ``flip`` the kernel is rotated by 180 degrees).

    Backward: ``dx`` correlates the output gradient with the flipped, channel-transposed kernel,
    ``dw = g @ im2col(x).T`` and ``db = sum(g)``; both run in ``kernels.conv2d_backward``.
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        weight: Any,
        bias: Any = None,
        stride: Pair = (1, 1),
        padding: Pad4 = (0, 0, 0, 0),
        dilation: Pair = (1, 1),
        groups: int = 1,
        flip: bool = False,
        relu: bool = False,
    ) -> Any:
        w = weight[:, :, ::-1, ::-1] if flip else weight
        y = _kernels().conv2d_forward(x, w, bias, stride, padding, dilation, groups, relu)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, w, y if relu else None)
        ctx.args = (stride, padding, dilation, groups)
        ctx.flip = flip
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any, Any]:
        x, w, relu_output = ctx.saved
        if relu_output is not None:  # through the fused ReLU first
            from ..kernels.pointwise import relu_backward

            grad = relu_backward(grad, relu_output)
        need = ctx.needs_input_grad
        dx, dw, db = _kernels().conv2d_backward(grad, x, w, *ctx.args, need[0], need[1], need[2])
        if dw is not None and ctx.flip:
            dw = dw[:, :, ::-1, ::-1]
        return dx, dw, db


class Conv1d(Function):
    """1-D cross-correlation over ``(N, C, L)``; the kernels run it as 2-D with height 1."""

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        weight: Any,
        bias: Any = None,
        stride: int = 1,
        padding: Pair = (0, 0),
        dilation: int = 1,
        groups: int = 1,
    ) -> Any:
        y = _kernels().conv1d_forward(x, weight, bias, stride, padding, dilation, groups)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, dilation, groups)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any, Any]:
        x, w = ctx.saved
        need = ctx.needs_input_grad
        return _kernels().conv1d_backward(grad, x, w, *ctx.args, need[0], need[1], need[2])


class ConvTranspose2d(Function):
    """``y = conv2d^T(x)``: the input gradient of a ``conv2d`` whose output has the shape of ``x``.

    For an output size the ``conv2d`` cannot reach (``output_padding >= stride``, allowed when
    ``output_padding < dilation``), the extra rows and columns receive the bias only.
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        weight: Any,
        bias: Any = None,
        stride: Pair = (1, 1),
        padding: Pad4 = (0, 0, 0, 0),
        out_size: Pair = (1, 1),
        base_size: Pair = (1, 1),
        dilation: Pair = (1, 1),
        groups: int = 1,
    ) -> Any:
        N = x.shape[0]
        Co = weight.shape[1] * groups
        args = (stride, padding, dilation, groups)
        # conv2d_backward reads only the shape and dtype of its forward input when need_dw=False
        shape_only = np.empty((N, Co, *base_size), dtype=x.dtype)
        y, _, _ = _kernels().conv2d_backward(x, shape_only, weight, *args, True, False, False)
        if tuple(out_size) != tuple(base_size):
            full = np.zeros((N, Co, *out_size), dtype=x.dtype)
            full[:, :, : base_size[0], : base_size[1]] = y
            y = full
        if bias is not None:
            y += bias.astype(y.dtype, copy=False)[:, None, None]
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, weight)
        ctx.args, ctx.base_size = args, base_size
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any, Any]:
        x, w = ctx.saved
        need = ctx.needs_input_grad
        K = _kernels()
        Hb, Wb = ctx.base_size
        g = np.ascontiguousarray(grad[:, :, :Hb, :Wb])
        dx = K.conv2d_forward(g, w, None, *ctx.args) if need[0] else None
        dw = None
        if need[1]:
            # <conv2d^T(x; w), g> = <x, conv2d(g; w)>, so dw is conv2d's weight gradient at g
            _, dw, _ = K.conv2d_backward(x, g, w, *ctx.args, False, True, False)
        db = grad.sum(axis=(0, 2, 3)) if need[2] else None
        return dx, dw, db


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    flip_kernel: bool = False,
    relu: bool = False,
) -> Tensor:
    """2-D cross-correlation (what frameworks call convolution) of an NCHW batch.

    Args:
        x: input ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_out, C_in/groups, kh, kw)``.
        bias: ``(C_out,)`` or None.
        stride: int or (sh, sw).
        padding: int, (ph, pw), (top, bottom, left, right), ``'valid'`` (none) or ``'same'``
            (output size = input size; stride 1 only; an odd total pads one more after).
        dilation: int or (dh, dw): spacing between kernel taps.
        groups: split the channels into this many independent groups (both channel counts must
            be divisible by it).
        flip_kernel: rotate the kernel by 180 degrees first, giving the true convolution.
        relu: return ``relu`` of the result, applied slab by slab inside the kernel (one pass
            over the output fewer than ``relu(conv2d(...))``, which it equals).

    Returns:
        ``(N, C_out, H_out, W_out)`` with ``H_out = (H + pt + pb - dh*(kh-1) - 1) // sh + 1``.

    Example:
        >>> x, w = cr.randn(2, 3, 8, 8), cr.randn(4, 3, 3, 3)
        >>> cr.functional.conv2d(x, w, padding="same").shape
        (2, 4, 8, 8)
    """
    where = "conv2d"
    x, unbatched = _batched(x, 4, "(N, C, H, W)", where)
    w_shape = _shape(weight, where, "weight")
    if len(w_shape) != 4:
        raise ValueError(
            f"{where}: weight must have shape (C_out, C_in/groups, kh, kw), got {w_shape}."
        )
    _check_weight(tuple(x.shape), w_shape, groups, where)
    kernel = (w_shape[2], w_shape[3])
    st = _pair(stride, "stride", where)
    dl = _pair(dilation, "dilation", where)
    pd = _padding2d(padding, kernel, st, dl, where)
    _check_reach(x.shape[2], pd[0] + pd[1], kernel[0], dl[0], where)
    _check_reach(x.shape[3], pd[2] + pd[3], kernel[1], dl[1], where)
    y = Conv2d.apply(
        x,
        weight,
        bias,
        stride=st,
        padding=pd,
        dilation=dl,
        groups=int(groups),
        flip=bool(flip_kernel),
        relu=bool(relu),
    )
    return y.reshape(y.shape[1:]) if unbatched else y


def convolve2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """True 2-D convolution: ``conv2d`` with the kernel rotated by 180 degrees.

    ``y[o, h, w] = b[o] + sum_{c,i,j} w[o, c, i, j] x[c, h - i, w - j]`` (with ``padding = k - 1``
    this is ``scipy.signal.convolve2d(.., mode='full')`` summed over input channels; with
    padding 0, ``mode='valid'``). Arguments as in ``conv2d``.

    Example:
        >>> x = cr.tensor([[[[0.0, 1.0, 0.0]]]])
        >>> cr.functional.convolve2d(x, cr.tensor([[[[1.0, 2.0]]]])).tolist()
        [[[[1.0, 2.0]]]]
    """
    return conv2d(x, weight, bias, stride, padding, dilation, groups, flip_kernel=True)


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int, ...] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation of an ``(N, C, L)`` batch (text and signals).

    Args:
        x: input ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_out, C_in/groups, k)``.
        bias: ``(C_out,)`` or None.
        stride: int.
        padding: int, (left, right), ``'valid'`` or ``'same'`` (stride 1 only).
        dilation: int.
        groups: channel groups.

    Returns:
        ``(N, C_out, L_out)`` with ``L_out = (L + left + right - d*(k-1) - 1) // stride + 1``.

    Example:
        >>> cr.functional.conv1d(cr.randn(2, 3, 10), cr.randn(5, 3, 3)).shape
        (2, 5, 8)
    """
    where = "conv1d"
    x, unbatched = _batched(x, 3, "(N, C, L)", where)
    w_shape = _shape(weight, where, "weight")
    if len(w_shape) != 3:
        raise ValueError(f"{where}: weight must have shape (C_out, C_in/groups, k), got {w_shape}.")
    _check_weight(tuple(x.shape), w_shape, groups, where)
    st = _single(stride, "stride", where)
    dl = _single(dilation, "dilation", where)
    pd = _padding1d(padding, w_shape[2], st, dl, where)
    _check_reach(x.shape[2], pd[0] + pd[1], w_shape[2], dl, where)
    y = Conv1d.apply(x, weight, bias, stride=st, padding=pd, dilation=dl, groups=int(groups))
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """Transposed convolution (the adjoint of ``conv2d``), e.g. for learned upsampling.

    Args:
        x: input ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_in, C_out/groups, kh, kw)`` (PyTorch's layout).
        bias: ``(C_out,)`` or None.
        stride: int or pair: the upsampling factor.
        padding: int or pair: ``dilation * (k - 1) - padding`` zeros are added to each side.
        output_padding: int or pair added to one side of the output to pick among the sizes that
            a strided ``conv2d`` maps to the same size; smaller than the stride or the dilation.
        groups: channel groups.
        dilation: int or pair.

    Returns:
        ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1)*sh - 2*ph + dh*(kh - 1) + output_padding + 1``.

    Example:
        >>> x, w = cr.randn(1, 4, 5, 5), cr.randn(4, 2, 3, 3)
        >>> cr.functional.conv_transpose2d(x, w, stride=2).shape
        (1, 2, 11, 11)
    """
    where = "conv_transpose2d"
    x, unbatched = _batched(x, 4, "(N, C, H, W)", where)
    w_shape = _shape(weight, where, "weight")
    if len(w_shape) != 4:
        raise ValueError(
            f"{where}: weight must have shape (C_in, C_out/groups, kh, kw), got {w_shape}."
        )
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}.")
    if x.shape[1] != w_shape[0] or w_shape[0] % groups:
        raise ValueError(
            f"{where}: weight of shape {w_shape} expects {w_shape[0]} input channels divisible by "
            f"groups={groups}, got input of shape {tuple(x.shape)}."
        )
    st = _pair(stride, "stride", where)
    dl = _pair(dilation, "dilation", where)
    pd = _pair(padding, "padding", where, minimum=0)
    op = _pair(output_padding, "output_padding", where, minimum=0)
    out_size, base_size = [], []
    for axis in range(2):
        if op[axis] >= max(st[axis], dl[axis]):
            raise ValueError(
                f"{where}: output_padding {op} must be smaller than the stride {st} or the "
                f"dilation {dl} in each axis."
            )
        reach = dl[axis] * (w_shape[2 + axis] - 1)
        core = (x.shape[2 + axis] - 1) * st[axis] - 2 * pd[axis] + reach
        size = core + op[axis] + 1
        if size < 1:
            raise ValueError(
                f"{where}: input of shape {tuple(x.shape)} with kernel {w_shape[2:]}, stride {st}, "
                f"padding {pd} gives an empty output (size {size}); reduce the padding."
            )
        base = core + min(op[axis], st[axis] - 1) + 1
        if base < 1:
            raise ValueError(
                f"{where}: padding {pd} is too large for input of shape {tuple(x.shape)} and "
                f"kernel {w_shape[2:]}: no input pixel reaches the output."
            )
        out_size.append(size)
        base_size.append(base)
    y = ConvTranspose2d.apply(
        x,
        weight,
        bias,
        stride=st,
        padding=(pd[0], pd[0], pd[1], pd[1]),
        out_size=tuple(out_size),
        base_size=tuple(base_size),
        dilation=dl,
        groups=int(groups),
    )
    return y.reshape(y.shape[1:]) if unbatched else y
