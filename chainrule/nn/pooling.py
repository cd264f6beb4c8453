"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d`` and
``GlobalAvgPool2d``, with PyTorch's arguments (no parameters to learn)."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from ._checks import expect_ndim
from .module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "GlobalAvgPool2d",
]  # fmt: skip

_LAYOUT = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)"}


class _Pool(Module):
    _dims = 2

    def _check_input(self, x: Tensor) -> None:
        expect_ndim(self, x, (self._dims + 1, self._dims + 2), _LAYOUT[self._dims])


class MaxPool2d(_Pool):
    """Maximum over each ``kernel_size`` window of every channel.

    Args:
        kernel_size: int or (kh, kw).
        stride: int or pair; None (default) means ``kernel_size``.
        padding: int or pair of implicit -inf on both sides; at most half the kernel. Default: 0.
        dilation: int or pair: spacing between window cells. Default: 1.
        return_indices: also return the flat position ``h*W + w`` of each maximum.
        ceil_mode: round the output size up. Default: False.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``, ``H_out = (H + 2p - d*(k-1) - 1) // s + 1``.

    Example:
        >>> cr.nn.MaxPool2d(2)(cr.randn(8, 16, 28, 28)).shape
        (8, 16, 14, 14)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Any:
        self._check_input(x)
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(MaxPool2d):
    """Maximum over each window of ``(N, C, L)``; arguments as ``MaxPool2d`` with ints.

    Example:
        >>> cr.nn.MaxPool1d(3, stride=1)(cr.randn(2, 4, 10)).shape
        (2, 4, 8)
    """

    _dims = 1

    def __init__(
        self,
        kernel_size: int,
        stride: int | None = None,
        padding: int = 0,
        dilation: int = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, dilation, return_indices, ceil_mode)

    def forward(self, x: Tensor) -> Any:
        self._check_input(x)
        return F.max_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )  # fmt: skip


class AvgPool2d(_Pool):
    """Mean over each ``kernel_size`` window of every channel (zero padding).

    Args:
        kernel_size: int or (kh, kw).
        stride: int or pair; None (default) means ``kernel_size``.
        padding: int or pair of zeros on both sides; at most half the kernel. Default: 0.
        ceil_mode: round the output size up. Default: False.
        count_include_pad: count the padded zeros in the divisor. Default: True.
        divisor_override: divide each window sum by this number instead.

    Example:
        >>> cr.nn.AvgPool2d(2)(cr.randn(8, 16, 28, 28)).shape
        (8, 16, 14, 14)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(AvgPool2d):
    """Mean over each window of ``(N, C, L)``; arguments as ``AvgPool2d`` with ints.

    Example:
        >>> cr.nn.AvgPool1d(2)(cr.randn(2, 4, 10)).shape
        (2, 4, 5)
    """

    _dims = 1

    def __init__(
        self,
        kernel_size: int,
        stride: int | None = None,
        padding: int = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class AdaptiveAvgPool2d(_Pool):
    """Average-pool to a fixed ``output_size`` whatever the input's spatial size.

    Args:
        output_size: int or (Ho, Wo); a None entry keeps that input size.

    Example:
        >>> cr.nn.AdaptiveAvgPool2d(1)(cr.randn(2, 64, 8, 8)).shape
        (2, 64, 1, 1)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average-pool ``(N, C, L)`` to ``(N, C, output_size)``.

    Example:
        >>> cr.nn.AdaptiveAvgPool1d(1)(cr.randn(2, 8, 13)).shape
        (2, 8, 1)
    """

    _dims = 1

    def __init__(self, output_size: int) -> None:
        super().__init__(output_size)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.adaptive_avg_pool1d(x, self.output_size)


class GlobalAvgPool2d(Module):
    """Mean of each channel over all its pixels: ``(N, C, H, W) -> (N, C)``.

    The same as ``AdaptiveAvgPool2d(1)`` followed by ``Flatten()``, in one layer: the classifier
    head of ResNet and GoogLeNet.

    Args:
        keepdim: return ``(N, C, 1, 1)`` instead. Default: False.

    Example:
        >>> cr.nn.GlobalAvgPool2d()(cr.randn(2, 64, 8, 8)).shape
        (2, 64)
    """

    def __init__(self, keepdim: bool = False) -> None:
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x: Tensor) -> Tensor:
        expect_ndim(self, x, (4,), "(N, C, H, W)")
        return F.global_avg_pool2d(x, self.keepdim)

    def extra_repr(self) -> str:
        return "keepdim=True" if self.keepdim else ""
