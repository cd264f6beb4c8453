"""The Inception module of GoogLeNet (Szegedy et al., 2014): four branches side by side.

Each branch looks at the same input with a different receptive field — 1x1, 3x3, 5x5 and a 3x3
max-pool — and the outputs are concatenated along the channels, in that order. A 3x3 or 5x5
convolution over many input channels is expensive (``k*k*C_in*C_out`` multiply-adds per pixel), so
the paper first shrinks the channels with a cheap 1x1 "reduction"; the pool branch, whose output
would otherwise keep all ``C_in`` channels, ends in a 1x1 "projection". ``reduce=False`` removes the
reductions (the 3x3 and 5x5 convolutions then read all ``C_in`` channels) and ``pool_proj=None``
removes the projection, so ``summary`` can show what the 1x1 layers save.
"""

from __future__ import annotations

from ... import functional as F
from ...tensor import Tensor
from .._checks import expect_dim, expect_ndim
from ..containers import Sequential
from ..conv import Conv2d
from ..module import Module
from ..normalization import BatchNorm2d
from ..pooling import MaxPool2d
from .residual import he_init_

__all__ = ["InceptionModule", "ConvBNReLU"]


class ConvBNReLU(Module):
    """Convolution, then batch norm (optional), then ReLU: the unit of every Inception branch.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: square kernel size; padding ``kernel_size // 2`` keeps the height and width.
        stride: stride of the convolution. Default: 1.
        batch_norm: insert ``BatchNorm2d`` (the convolution then has no bias). Default: True.

    Example:
        >>> ConvBNReLU(3, 8, 3)(cr.randn(2, 3, 8, 8)).shape
        (2, 8, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.conv = Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=not batch_norm,
        )
        self.bn = BatchNorm2d(out_channels) if batch_norm else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x)


class InceptionModule(Module):
    """The four GoogLeNet branches, concatenated along the channels as 1x1, 3x3, 5x5, pool.

    Args:
        in_channels: channels of the input.
        ch1x1: output channels of the 1x1 branch.
        ch3x3red: channels of the 1x1 reduction before the 3x3 convolution.
        ch3x3: output channels of the 3x3 branch.
        ch5x5red: channels of the 1x1 reduction before the 5x5 convolution.
        ch5x5: output channels of the 5x5 branch.
        pool_proj: output channels of the 1x1 projection after the 3x3 max-pool; ``None`` for no
            projection (the branch then passes ``in_channels`` pooled channels through).
        reduce: use the 1x1 reductions. ``False`` gives the "naive" module of the paper's
            Fig. 2a for the 3x3 and 5x5 branches (``ch3x3red`` and ``ch5x5red`` are ignored).
        batch_norm: batch norm after every convolution (as in later Inception versions; the
            2014 paper had none). Default: True.

    Shape:
        input `(N, in_channels, H, W)` -> output `(N, out_channels, H, W)` with
        ``out_channels = ch1x1 + ch3x3 + ch5x5 + (pool_proj or in_channels)``.

    Example:
        >>> block = InceptionModule(192, 64, 96, 128, 16, 32, 32)   # GoogLeNet's inception (3a)
        >>> block(cr.randn(1, 192, 8, 8)).shape
        (1, 256, 8, 8)
        >>> naive = InceptionModule(192, 64, 96, 128, 16, 32, 32, reduce=False)
        >>> sum(p.numel() for p in naive.parameters()) > sum(p.numel() for p in block.parameters())
        True
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int | None,
        reduce: bool = True,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.reduce = reduce
        self.out_channels = (
            ch1x1 + ch3x3 + ch5x5 + (in_channels if pool_proj is None else pool_proj)
        )
        self.branch1 = ConvBNReLU(in_channels, ch1x1, 1, batch_norm=batch_norm)
        if reduce:
            self.branch2 = Sequential(
                ConvBNReLU(in_channels, ch3x3red, 1, batch_norm=batch_norm),
                ConvBNReLU(ch3x3red, ch3x3, 3, batch_norm=batch_norm),
            )
            self.branch3 = Sequential(
                ConvBNReLU(in_channels, ch5x5red, 1, batch_norm=batch_norm),
                ConvBNReLU(ch5x5red, ch5x5, 5, batch_norm=batch_norm),
            )
        else:
            self.branch2 = Sequential(ConvBNReLU(in_channels, ch3x3, 3, batch_norm=batch_norm))
            self.branch3 = Sequential(ConvBNReLU(in_channels, ch5x5, 5, batch_norm=batch_norm))
        pool: list[Module] = [MaxPool2d(3, stride=1, padding=1)]
        if pool_proj is not None:
            pool.append(ConvBNReLU(in_channels, pool_proj, 1, batch_norm=batch_norm))
        self.branch4 = Sequential(*pool)
        he_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        name = f"{type(self).__name__}({self.extra_repr()})"  # one line, not the whole tree
        expect_ndim(name, x, (4,), "(N, C, H, W)")
        expect_dim(name, x, 1, self.in_channels, f"(N, {self.in_channels}, H, W)")
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return F.concatenate(branches, axis=1)

    def extra_repr(self) -> str:
        return f"{self.in_channels} -> {self.out_channels}, reduce={self.reduce}"
