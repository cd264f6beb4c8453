"""Convolution layers: ``Conv1d``, ``Conv2d`` and ``ConvTranspose2d``, with PyTorch's arguments,
parameter names, layouts and initialisation.

A convolution layer shares one small kernel across every position of its input (weight sharing),
so its parameter count depends on the channels and the kernel size, not on the image size.
"""

from __future__ import annotations

import math
from typing import Any

from .. import functional as F
from ..creation import empty
from ..tensor import Tensor
from . import init
from ._checks import expect_ndim, shape_of
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]

_SPATIAL = {1: "L", 2: "H, W"}


def _ntuple(value: Any, n: int, name: str, where: str, minimum: int) -> tuple[int, ...]:
    """An int or an n-sequence of ints as an n-tuple, each at least ``minimum``."""
    if isinstance(value, int) and not isinstance(value, bool):
        out = (value,) * n
    elif isinstance(value, (tuple, list)) and len(value) == n:
        out = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{where}: {name} must be an int or a {n}-tuple of ints, got {value!r}.")
    if min(out) < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value!r}.")
    return out


def expect_channels(module: Any, x: Any, channels: int, spatial: int) -> tuple[int, ...]:
    """Require ``(N, channels, *spatial)`` or unbatched ``(channels, *spatial)``; the shape.

    Raises:
        ValueError: naming the module, the expected channels and the received shape.
    """
    dims = _SPATIAL[spatial]
    expect_ndim(module, x, (spatial + 1, spatial + 2), f"(N, C, {dims}) or (C, {dims})")
    shape = shape_of(x, module)
    got = shape[-spatial - 1]
    if got != channels:
        raise ValueError(
            f"{module} expected input with {channels} channels, shape (N, {channels}, {dims}), "
            f"got {shape} ({got} channels). Hint: make the previous layer output {channels} "
            f"channels, or build this layer with in_channels={got}."
        )
    return shape


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialisation and printing."""

    _dims = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        groups: int,
        bias: bool,
        padding_mode: str,
        output_padding: Any,
        device: str | None,
        dtype: Any,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}.")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}.")
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % groups:
                raise ValueError(f"{name}: groups={groups} must divide {arg}={value}.")
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: padding_mode {padding_mode!r} is not supported; available: zeros."
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = _ntuple(stride, n, "stride", name, 1)
        self.dilation = _ntuple(dilation, n, "dilation", name, 1)
        self.output_padding = _ntuple(output_padding, n, "output_padding", name, 0)
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self._transposed:
                raise ValueError(
                    f"{name}: padding must be ints or 'same'/'valid', got {padding!r}."
                )
            if padding == "same" and self.stride != (1,) * n:
                raise ValueError(f"{name}: padding='same' needs stride 1, got {self.stride}.")
            self.padding: Any = padding
        else:
            self.padding = _ntuple(padding, n, "padding", name, 0)
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype))
        self.bias = Parameter(empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """PyTorch's start: ``kaiming_uniform_(a=sqrt(5))``, bias U(-1/sqrt(fan_in), +)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _padded_sizes(self) -> tuple[int, ...]:
        """Total zeros added along each spatial axis."""
        if self.padding == "valid":
            return (0,) * self._dims
        if self.padding == "same":
            return tuple(d * (k - 1) for k, d in zip(self.kernel_size, self.dilation, strict=True))
        return tuple(2 * p for p in self.padding)

    def _check_input(self, x: Tensor) -> None:
        shape = expect_channels(self, x, self.in_channels, self._dims)
        if self._transposed:
            return
        sizes = shape[-self._dims :]
        pads = self._padded_sizes()
        reach = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation, strict=True))
        if any(s + p < r for s, p, r in zip(sizes, pads, reach, strict=True)):
            padded = tuple(s + p for s, p in zip(sizes, pads, strict=True))
            raise ValueError(
                f"{self} got input of shape {shape}: its spatial size {sizes} (padded to "
                f"{padded}) is smaller than the kernel's reach {reach} (kernel_size="
                f"{self.kernel_size}, dilation={self.dilation}). Use a larger input, more "
                "padding, or a smaller kernel."
            )

    def extra_repr(self) -> str:
        n = self._dims
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over an NCHW batch: ``y = b + w (*) x``.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (number of filters).
        kernel_size: int or (kh, kw).
        stride: int or pair. Default: 1.
        padding: int, pair, ``'valid'`` or ``'same'`` (stride 1). Default: 0.
        dilation: int or pair: spacing between kernel taps. Default: 1.
        groups: independent channel groups; must divide both channel counts. Default: 1.
        bias: learn an additive bias per output channel. Default: True.
        padding_mode: only ``'zeros'``.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: dtype of the parameters. Default: the package default (float32).

    Shape:
        ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1``; an unbatched ``(C_in, H, W)`` works too.

    Example:
        >>> conv = cr.nn.Conv2d(3, 16, 3, padding=1)
        >>> conv(cr.randn(8, 3, 32, 32)).shape
        (8, 16, 32, 32)
        >>> conv.num_parameters()
        448
    """

    _dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, 0, device, dtype,
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) over ``(N, C, L)``: signals, or text as embeddings.

    Args:
        in_channels: channels of the input (e.g. the embedding size).
        out_channels: number of filters.
        kernel_size: int (the window width).
        stride: int. Default: 1.
        padding: int, ``'valid'`` or ``'same'`` (stride 1). Default: 0.
        dilation: int. Default: 1.
        groups: channel groups. Default: 1.
        bias: learn a bias. Default: True.
        padding_mode: only ``'zeros'``.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: dtype of the parameters.

    Shape:
        ``(N, C_in, L)`` -> ``(N, C_out, L_out)``, ``L_out = (L + 2p - d*(k - 1) - 1) // s + 1``.

    Example:
        >>> cr.nn.Conv1d(300, 100, 3)(cr.randn(4, 300, 20)).shape
        (4, 100, 18)
    """

    _dims = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] | str = 0,
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, 0, device, dtype,
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return F.conv1d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the adjoint of ``Conv2d``): learned upsampling.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: int or pair.
        stride: int or pair: the upsampling factor. Default: 1.
        padding: int or pair: removes ``padding`` rows/columns from each side of the full output.
        output_padding: int or pair added to one side of the output (smaller than the stride or
            the dilation), to reach the sizes a strided ``Conv2d`` maps to one size. Default: 0.
        groups: channel groups. Default: 1.
        bias: learn a bias. Default: True.
        dilation: int or pair. Default: 1.
        padding_mode: only ``'zeros'``.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: dtype of the parameters.

    Shape:
        ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1)*sh - 2*ph + dh*(kh - 1) + output_padding + 1``; the weight is
        ``(C_in, C_out/groups, kh, kw)`` as in PyTorch.

    Example:
        >>> up = cr.nn.ConvTranspose2d(16, 8, 2, stride=2)
        >>> up(cr.randn(1, 16, 7, 7)).shape
        (1, 8, 14, 14)
    """

    _dims = 2
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, output_padding, device, dtype,
        )  # fmt: skip
        for axis in range(2):
            if self.output_padding[axis] >= max(self.stride[axis], self.dilation[axis]):
                raise ValueError(
                    f"ConvTranspose2d: output_padding {self.output_padding} must be smaller than "
                    f"the stride {self.stride} or the dilation {self.dilation} in each axis."
                )

    def forward(self, x: Tensor, output_size: tuple[int, ...] | None = None) -> Tensor:
        """Upsample ``x``; ``output_size`` (the last two entries count) picks the output padding."""
        self._check_input(x)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(tuple(x.shape), tuple(output_size))
        return F.conv_transpose2d(
            x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
            self.dilation,
        )  # fmt: skip

    def _output_padding(self, shape: tuple[int, ...], output_size: tuple[int, ...]) -> tuple:
        pads = []
        for axis in range(2):
            k, s, d, p = (
                self.kernel_size[axis], self.stride[axis], self.dilation[axis], self.padding[axis]
            )  # fmt: skip
            smallest = (shape[-2 + axis] - 1) * s - 2 * p + d * (k - 1) + 1
            extra = int(output_size[-2 + axis]) - smallest
            if not 0 <= extra < max(s, d):
                raise ValueError(
                    f"{self}: output_size {tuple(output_size)} is out of reach for input of "
                    f"shape {shape}; axis {axis} can give {smallest} to "
                    f"{smallest + max(s, d) - 1}."
                )
            pads.append(extra)
        return tuple(pads)
