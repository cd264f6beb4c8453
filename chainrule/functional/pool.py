"""Pooling: max and average over sliding windows (1-D and 2-D), adaptive and global averages.

Each op is one ``Function`` over ``chainrule.kernels``. Max pooling keeps, for every output, the
flat position ``h*W + w`` of its maximum in the input plane, and its backward routes the gradient
there (a cell that wins several overlapping windows collects all their gradients). Average pooling
spreads each output gradient evenly over its window, divided by PyTorch's divisor (padded cells
count with ``count_include_pad``). Pooling has no weights: what it learns is nothing, what it gives
is a little translation invariance and a smaller map for the next layer.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..tensor import Tensor
from .conv import _batched, _kernels, _pair, _single

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "global_avg_pool2d",
]  # fmt: skip

Pair = tuple[int, int]


class MaxPool2d(Function):
    """``y = max`` over each window; ``dx[argmax] += g``; a list ``indices`` receives argmax."""

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        kernel_size: Pair = (2, 2),
        stride: Pair = (2, 2),
        padding: Pair = (0, 0),
        dilation: Pair = (1, 1),
        ceil_mode: bool = False,
        indices: list | None = None,
    ) -> Any:
        y, idx = _kernels().max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.idx, ctx.x_shape = idx, x.shape
        if indices is not None:
            indices.append(idx)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _kernels().max_pool2d_backward(grad, ctx.idx, ctx.x_shape)


class MaxPool1d(Function):
    """1-D max pooling over ``(N, C, L)``; indices are positions in ``L``."""

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        kernel_size: int = 2,
        stride: int = 2,
        padding: int = 0,
        dilation: int = 1,
        ceil_mode: bool = False,
        indices: list | None = None,
    ) -> Any:
        y, idx = _kernels().max_pool1d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.idx, ctx.x_shape = idx, x.shape
        if indices is not None:
            indices.append(idx)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _kernels().max_pool1d_backward(grad, ctx.idx, ctx.x_shape)


class AvgPool2d(Function):
    """``y = sum(window) / divisor``; ``dx`` gets ``g / divisor`` in every cell of the window."""

    @staticmethod
    def forward(ctx: Context, x: Any, args: tuple = ()) -> Any:
        ctx.x_shape, ctx.args = x.shape, args
        return _kernels().avg_pool2d_forward(x, *args)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _kernels().avg_pool2d_backward(grad, ctx.x_shape, *ctx.args)


class AvgPool1d(Function):
    """1-D average pooling over ``(N, C, L)``."""

    @staticmethod
    def forward(ctx: Context, x: Any, args: tuple = ()) -> Any:
        ctx.x_shape, ctx.args = x.shape, args
        return _kernels().avg_pool1d_forward(x, *args)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _kernels().avg_pool1d_backward(grad, ctx.x_shape, *ctx.args)


class AdaptiveAvgPool2d(Function):
    """Average over the windows ``floor(o*H/Ho) .. ceil((o+1)*H/Ho)`` of each output cell."""

    @staticmethod
    def forward(ctx: Context, x: Any, output_size: Pair = (1, 1)) -> Any:
        ctx.x_shape = x.shape
        return _kernels().adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _kernels().adaptive_avg_pool2d_backward(grad, ctx.x_shape)


class AdaptiveAvgPool1d(Function):
    """1-D adaptive average pooling over ``(N, C, L)``."""

    @staticmethod
    def forward(ctx: Context, x: Any, output_size: int = 1) -> Any:
        ctx.x_shape = x.shape
        return _kernels().adaptive_avg_pool1d_forward(x, output_size)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _kernels().adaptive_avg_pool1d_backward(grad, ctx.x_shape)


def _unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return y.reshape(y.shape[1:]) if unbatched else y


def _with_indices(y: Tensor, box: list, unbatched: bool) -> tuple[Tensor, Tensor]:
    idx = box[0]
    if unbatched:
        idx = idx.reshape(idx.shape[1:])
    return _unbatch(y, unbatched), Tensor._make(idx)


def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over sliding windows of an NCHW batch (padding reads as -inf).

    Args:
        x: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: int or (kh, kw).
        stride: int or pair; None (default) means ``kernel_size``.
        padding: int or pair, on both sides; at most half the dilated kernel.
        dilation: int or pair: spacing between window cells.
        ceil_mode: round the output size up (the last window must start inside the input).
        return_indices: also return the int64 flat position ``h*W + w`` of each maximum.

    Returns:
        ``y (N, C, H_out, W_out)`` with ``H_out = (H + 2p - d*(k-1) - 1) // s + 1``, or
        ``(y, indices)``.

    Example:
        >>> x = cr.arange(16.0).reshape(1, 1, 4, 4)
        >>> cr.functional.max_pool2d(x, 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    where = "max_pool2d"
    x, unbatched = _batched(x, 4, "(N, C, H, W)", where)
    k = _pair(kernel_size, "kernel_size", where)
    st = k if stride is None else _pair(stride, "stride", where)
    pd = _pair(padding, "padding", where, minimum=0)
    dl = _pair(dilation, "dilation", where)
    box: list | None = [] if return_indices else None
    y = MaxPool2d.apply(
        x, kernel_size=k, stride=st, padding=pd, dilation=dl, ceil_mode=bool(ceil_mode), indices=box
    )
    if box is not None:
        return _with_indices(y, box, unbatched)
    return _unbatch(y, unbatched)


def max_pool1d(
    x: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over sliding windows of an ``(N, C, L)`` batch; see ``max_pool2d``.

    Example:
        >>> cr.functional.max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[3.0, 2.0]]]
    """
    where = "max_pool1d"
    x, unbatched = _batched(x, 3, "(N, C, L)", where)
    k = _single(kernel_size, "kernel_size", where)
    st = k if stride is None else _single(stride, "stride", where)
    pd = _single(padding, "padding", where, minimum=0)
    dl = _single(dilation, "dilation", where)
    box: list | None = [] if return_indices else None
    y = MaxPool1d.apply(
        x, kernel_size=k, stride=st, padding=pd, dilation=dl, ceil_mode=bool(ceil_mode), indices=box
    )
    if box is not None:
        return _with_indices(y, box, unbatched)
    return _unbatch(y, unbatched)


def avg_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over sliding windows of an NCHW batch (zero padding).

    Args:
        x: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: int or (kh, kw).
        stride: int or pair; None (default) means ``kernel_size``.
        padding: int or pair, on both sides; at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count the padded zeros in each window's divisor. Default: True.
        divisor_override: divide every window sum by this number instead.

    Returns:
        ``(N, C, H_out, W_out)``.

    Example:
        >>> cr.functional.avg_pool2d(cr.ones(1, 1, 4, 4), 2).shape
        (1, 1, 2, 2)
    """
    where = "avg_pool2d"
    x, unbatched = _batched(x, 4, "(N, C, H, W)", where)
    k = _pair(kernel_size, "kernel_size", where)
    st = k if stride is None else _pair(stride, "stride", where)
    pd = _pair(padding, "padding", where, minimum=0)
    args = (k, st, pd, bool(ceil_mode), bool(count_include_pad), divisor_override)
    return _unbatch(AvgPool2d.apply(x, args=args), unbatched)


def avg_pool1d(
    x: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over sliding windows of an ``(N, C, L)`` batch; see ``avg_pool2d``.

    Example:
        >>> cr.functional.avg_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[2.0, 1.0]]]
    """
    where = "avg_pool1d"
    x, unbatched = _batched(x, 3, "(N, C, L)", where)
    k = _single(kernel_size, "kernel_size", where)
    st = k if stride is None else _single(stride, "stride", where)
    pd = _single(padding, "padding", where, minimum=0)
    args = (k, st, pd, bool(ceil_mode), bool(count_include_pad))
    return _unbatch(AvgPool1d.apply(x, args=args), unbatched)


def _output_size2d(output_size: Any, shape: tuple[int, ...], where: str) -> Pair:
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        size = [shape[2 + i] if v is None else v for i, v in enumerate(output_size)]
        return _pair(tuple(size), "output_size", where)
    return _pair(output_size, "output_size", where)


def adaptive_avg_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average-pool an NCHW batch to a fixed ``output_size`` whatever the input size.

    Args:
        x: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        output_size: int or (Ho, Wo); a None entry keeps that input size.

    Returns:
        ``(N, C, Ho, Wo)``.

    Example:
        >>> cr.functional.adaptive_avg_pool2d(cr.ones(2, 3, 7, 5), (2, 2)).shape
        (2, 3, 2, 2)
    """
    where = "adaptive_avg_pool2d"
    x, unbatched = _batched(x, 4, "(N, C, H, W)", where)
    size = _output_size2d(output_size, tuple(x.shape), where)
    return _unbatch(AdaptiveAvgPool2d.apply(x, output_size=size), unbatched)


def adaptive_avg_pool1d(x: Tensor, output_size: int) -> Tensor:
    """Average-pool an ``(N, C, L)`` batch to ``(N, C, output_size)``.

    Example:
        >>> cr.functional.adaptive_avg_pool1d(cr.ones(2, 3, 10), 4).shape
        (2, 3, 4)
    """
    where = "adaptive_avg_pool1d"
    x, unbatched = _batched(x, 3, "(N, C, L)", where)
    size = _single(output_size, "output_size", where)
    return _unbatch(AdaptiveAvgPool1d.apply(x, output_size=size), unbatched)


def global_avg_pool2d(x: Tensor, keepdim: bool = False) -> Tensor:
    """Mean of each channel over all its pixels: the head of ResNet and Inception nets.

    Args:
        x: ``(N, C, H, W)``.
        keepdim: return ``(N, C, 1, 1)`` instead of ``(N, C)``.

    Example:
        >>> cr.functional.global_avg_pool2d(cr.ones(2, 3, 7, 7)).shape
        (2, 3)
    """
    where = "global_avg_pool2d"
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) != 4:
        raise ValueError(f"{where}: expected input of shape (N, C, H, W), got {shape}.")
    y = AdaptiveAvgPool2d.apply(x, output_size=(1, 1))
    return y if keepdim else y.reshape(shape[0], shape[1])
