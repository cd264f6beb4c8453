"""The CIFAR ResNets of He et al. (2015), section 4.2, and their plain twins.

A 3x3 convolution with 16 filters, then three stages of ``n`` residual blocks at 32x32, 16x16 and
8x8 with 16, 32 and 64 filters (the first block of stages 2 and 3 halves the size with stride 2),
then global average pooling and a 10-way linear layer: ``6n + 2`` weighted layers. With option A
shortcuts (the paper's choice here) the parameter counts are those of the paper's Table 6:

| depth | n | parameters |
|---|---|---|
| 20 | 3 | 269,722 (0.27M) |
| 32 | 5 | 464,154 (0.46M) |
| 44 | 7 | 658,586 (0.66M) |
| 56 | 9 | 853,018 (0.85M) |
| 110 | 18 | 1,727,962 (1.7M) |

The ``plain`` nets are the same layers without shortcuts; the paper's Fig. 6 shows the deeper plain
net training *worse* (the degradation problem) while the deeper residual net trains better.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..nn.blocks import BasicBlock, Bottleneck, conv3x3
from ..nn.conv_bn import conv_bn
from ..tensor import Tensor

__all__ = [
    "ResNet", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
    "plain20", "plain32", "plain44", "plain56", "plain110",
]  # fmt: skip

_BLOCKS = ("basic", "bottleneck")


class ResNet(nn.Module):
    """CIFAR-style residual (or plain) network for 32x32 images.

    Args:
        depth: number of weighted layers; ``6n + 2`` for basic blocks (20, 32, 44, 56, 110, ...),
            ``9n + 2`` for bottleneck blocks (e.g. 164).
        num_classes: size of the output. Default: 10.
        shortcut: ``"A"`` (zero-padded identity, the paper's CIFAR choice, default) or ``"B"``
            (1x1 conv + BN projection where the shape changes).
        residual: ``False`` removes every shortcut (the plain net).
        in_channels: channels of the input images. Default: 3.
        block: ``"basic"`` (two 3x3 convs, default) or ``"bottleneck"`` (1x1-3x3-1x1, four times
            wider outputs).
        widths: filters of the three stages. Default: (16, 32, 64).

    Shape:
        input `(N, in_channels, H, W)` (32x32 in the paper) -> output `(N, num_classes)`.

    Example:
        >>> model = ResNet(20)
        >>> model(cr.randn(2, 3, 32, 32)).shape
        (2, 10)
        >>> model.num_parameters()
        269722
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        shortcut: str = "A",
        residual: bool = True,
        in_channels: int = 3,
        block: str = "basic",
        widths: tuple[int, int, int] = (16, 32, 64),
    ) -> None:
        super().__init__()
        if block not in _BLOCKS:
            raise ValueError(f"ResNet: unknown block {block!r}; available: {', '.join(_BLOCKS)}.")
        per_block = 2 if block == "basic" else 3
        if depth < 2 + 3 * per_block or (depth - 2) % (3 * per_block):
            raise ValueError(
                f"ResNet: depth {depth} does not fit {block} blocks; it must be "
                f"{3 * per_block}n + 2 with n >= 1 (e.g. "
                f"{'20, 32, 44, 56, 110' if block == 'basic' else '29, 56, 164'})."
            )
        self.depth, self.residual = depth, residual
        self.shortcut_option = shortcut
        n = (depth - 2) // (3 * per_block)
        self.conv1 = conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        channels = widths[0]
        stages = []
        for i, width in enumerate(widths):
            blocks: list[nn.Module] = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                if block == "basic":
                    unit: nn.Module = BasicBlock(channels, width, stride, shortcut, residual)
                    channels = width
                else:
                    unit = Bottleneck(channels, width, stride, shortcut, residual)
                    channels = width * unit.expansion
                blocks.append(unit)
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)
        nn.init.kaiming_normal_(self.conv1.weight, mode="fan_in", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = conv_bn(self.conv1, self.bn1, x, relu=True)
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.pool(x)))

    def extra_repr(self) -> str:
        kind = f"shortcut={self.shortcut_option}" if self.residual else "plain"
        return f"depth={self.depth}, {kind}"


def resnet20(**kwargs: Any) -> ResNet:
    """ResNet-20 for 32x32 images (He et al., 2015); keyword options as ``ResNet``."""
    return ResNet(20, **kwargs)


def resnet32(**kwargs: Any) -> ResNet:
    """ResNet-32 for 32x32 images (He et al., 2015); keyword options as ``ResNet``."""
    return ResNet(32, **kwargs)


def resnet44(**kwargs: Any) -> ResNet:
    """ResNet-44 for 32x32 images (He et al., 2015); keyword options as ``ResNet``."""
    return ResNet(44, **kwargs)


def resnet56(**kwargs: Any) -> ResNet:
    """ResNet-56 for 32x32 images (He et al., 2015); keyword options as ``ResNet``."""
    return ResNet(56, **kwargs)


def resnet110(**kwargs: Any) -> ResNet:
    """ResNet-110 for 32x32 images (He et al., 2015); keyword options as ``ResNet``."""
    return ResNet(110, **kwargs)


def plain20(**kwargs: Any) -> ResNet:
    """Plain-20: ResNet-20 without shortcuts; keyword options as ``ResNet``."""
    return ResNet(20, residual=False, **kwargs)


def plain32(**kwargs: Any) -> ResNet:
    """Plain-32: ResNet-32 without shortcuts; keyword options as ``ResNet``."""
    return ResNet(32, residual=False, **kwargs)


def plain44(**kwargs: Any) -> ResNet:
    """Plain-44: ResNet-44 without shortcuts; keyword options as ``ResNet``."""
    return ResNet(44, residual=False, **kwargs)


def plain56(**kwargs: Any) -> ResNet:
    """Plain-56: ResNet-56 without shortcuts; keyword options as ``ResNet``."""
    return ResNet(56, residual=False, **kwargs)


def plain110(**kwargs: Any) -> ResNet:
    """Plain-110: ResNet-110 without shortcuts; keyword options as ``ResNet``."""
    return ResNet(110, residual=False, **kwargs)
