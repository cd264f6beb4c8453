"""Residual blocks of He et al. (2015): ``BasicBlock`` (3x3, 3x3), ``Bottleneck`` (1x1, 3x3, 1x1).

A residual block computes ``relu(F(x) + shortcut(x))``: the layers learn only the residual ``F``,
and the gradient reaches ``x`` through the shortcut unchanged (``d(x + F(x))/dx = 1 + dF/dx``),
which is why very deep residual nets still train. Where the block changes the shape (stride 2, more
channels) the shortcut must change it too; the paper offers

- option A: identity on the subsampled input ``x[:, :, ::2, ::2]`` with the new channels zero-padded
  (no parameters; what the paper uses for its CIFAR nets), and
- option B: a projection, 1x1 convolution with the block's stride followed by batch norm.

Shortcuts that keep the shape are the identity in both options. ``residual=False`` removes the
shortcut and gives the "plain" block the paper compares against.
"""

from __future__ import annotations

from ... import functional as F
from ...tensor import Tensor
from .. import init
from .._checks import expect_dim, expect_ndim
from ..containers import Sequential
from ..conv import Conv2d
from ..conv_bn import conv_bn
from ..module import Module
from ..normalization import BatchNorm2d

__all__ = ["BasicBlock", "Bottleneck", "ShortcutA", "conv3x3", "conv1x1", "he_init_"]

_OPTIONS = ("A", "B")


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> Conv2d:
    """3x3 convolution with padding 1 and no bias (the batch norm after it has one)."""
    return Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> Conv2d:
    """1x1 convolution without bias."""
    return Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def he_init_(module: Module) -> None:
    """He (Kaiming) normal initialisation of every convolution inside ``module``, biases to 0.

    ``std = sqrt(2 / fan_in)`` keeps the variance of the activations constant through ReLU layers
    (He et al., 2015), which is what lets the deep plain and residual nets start training at all.
    """
    for layer in module.modules():
        if isinstance(layer, Conv2d):
            init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
            if layer.bias is not None:
                init.zeros_(layer.bias)


def _check_option(owner: str, shortcut: str) -> str:
    option = str(shortcut).upper()
    if option not in _OPTIONS:
        raise ValueError(f"{owner}: unknown shortcut {shortcut!r}; available: A, B.")
    return option


class ShortcutA(Module):
    """Option A shortcut: subsample by ``stride`` and zero-pad the new channels (no parameters).

    The output's first ``in_channels`` channels are ``x[:, :, ::stride, ::stride]``; the remaining
    ``out_channels - in_channels`` channels are zeros.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (at least ``in_channels``).
        stride: spatial subsampling factor.

    Shape:
        input `(N, in_channels, H, W)` -> output
        `(N, out_channels, ceil(H / stride), ceil(W / stride))`.

    Example:
        >>> ShortcutA(16, 32, stride=2)(cr.ones(1, 16, 8, 8)).shape
        (1, 32, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(
                f"ShortcutA: zero padding cannot reduce channels (in_channels={in_channels}, "
                f"out_channels={out_channels}); use shortcut='B' (a 1x1 projection)."
            )
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        if extra:
            x = F.pad(x, ((0, 0), (0, extra), (0, 0), (0, 0)))
        return x

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


def _shortcut(
    owner: str, option: str, in_channels: int, out_channels: int, stride: int
) -> Module | None:
    """The shortcut module for a block, or None where the identity fits."""
    if stride == 1 and in_channels == out_channels:
        return None
    if option == "A":
        return ShortcutA(in_channels, out_channels, stride)
    return Sequential(conv1x1(in_channels, out_channels, stride), BatchNorm2d(out_channels))


class _ResidualBlock(Module):
    """What both blocks share: the input check, and ``relu(F(x) + shortcut(x))`` at the end."""

    in_channels: int
    residual: bool
    shortcut: Module | None

    def _check_input(self, x: Tensor) -> None:
        name = f"{type(self).__name__}({self.extra_repr()})"  # one line, not the whole tree
        expect_ndim(name, x, (4,), "(N, C, H, W)")
        expect_dim(name, x, 1, self.in_channels, f"(N, {self.in_channels}, H, W)")

    def _finish(self, conv: Module, bn: Module, x: Tensor, h: Tensor) -> Tensor:
        """``relu(bn(conv(h)) + shortcut(x))``: the add and ReLU run in the batch norm's pass."""
        if self.residual:
            s = x if self.shortcut is None else self.shortcut(x)
            return conv_bn(conv, bn, h, relu=True, residual=s)
        return conv_bn(conv, bn, h, relu=True)


class BasicBlock(_ResidualBlock):
    """Two 3x3 conv + BN layers and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))``.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        stride: stride of the first convolution (2 halves the height and width).
        shortcut: ``"A"`` (zero-padded identity, default) or ``"B"`` (1x1 conv + BN projection),
            used only where the shape changes.
        residual: add the shortcut. ``False`` gives the plain block (two conv layers).

    Shape:
        input `(N, in_channels, H, W)` -> output
        `(N, out_channels, ceil(H / stride), ceil(W / stride))`.

    Example:
        >>> block = BasicBlock(16, 32, stride=2)
        >>> block(cr.randn(2, 16, 8, 8)).shape
        (2, 32, 4, 4)
        >>> sum(p.numel() for p in block.parameters())   # 16*32*9 + 32*32*9 + 2 * (2*32)
        13952
    """

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        shortcut: str = "A",
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.option = _check_option("BasicBlock", shortcut)
        self.residual = residual
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = BatchNorm2d(out_channels)
        self.shortcut = (
            _shortcut("BasicBlock", self.option, in_channels, out_channels, stride)
            if residual
            else None
        )
        he_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        out = conv_bn(self.conv1, self.bn1, x, relu=True)
        return self._finish(self.conv2, self.bn2, x, out)

    def extra_repr(self) -> str:
        kind = f"shortcut={self.option}" if self.residual else "residual=False"
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}, {kind}"


class Bottleneck(_ResidualBlock):
    """1x1 reduce, 3x3, 1x1 expand (each with batch norm) plus a shortcut, as in ResNet-50 and up.

    The 1x1 layers shrink the channels to ``channels`` for the costly 3x3 convolution and grow
    them back to ``channels * expansion``; the stride sits on the 3x3 convolution.

    Args:
        in_channels: channels of the input.
        channels: width of the inner 3x3 convolution.
        stride: stride of the 3x3 convolution.
        shortcut: ``"A"`` or ``"B"``, used only where the shape changes (see ``BasicBlock``).
        residual: add the shortcut; ``False`` gives the plain three-layer block.
        expansion: output channels are ``channels * expansion``. Default: 4.

    Shape:
        input `(N, in_channels, H, W)` -> output
        `(N, channels * expansion, ceil(H/stride), ceil(W/stride))`.

    Example:
        >>> Bottleneck(64, 16)(cr.randn(2, 64, 8, 8)).shape
        (2, 64, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        shortcut: str = "B",
        residual: bool = True,
        expansion: int = 4,
    ) -> None:
        super().__init__()
        out_channels = channels * expansion
        self.in_channels, self.channels, self.out_channels = in_channels, channels, out_channels
        self.stride, self.expansion = stride, expansion
        self.option = _check_option("Bottleneck", shortcut)
        self.residual = residual
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, out_channels)
        self.bn3 = BatchNorm2d(out_channels)
        self.shortcut = (
            _shortcut("Bottleneck", self.option, in_channels, out_channels, stride)
            if residual
            else None
        )
        he_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        out = conv_bn(self.conv1, self.bn1, x, relu=True)
        out = conv_bn(self.conv2, self.bn2, out, relu=True)
        return self._finish(self.conv3, self.bn3, x, out)

    def extra_repr(self) -> str:
        kind = f"shortcut={self.option}" if self.residual else "residual=False"
        return (
            f"{self.in_channels}, {self.channels}, stride={self.stride}, "
            f"expansion={self.expansion}, {kind}"
        )
