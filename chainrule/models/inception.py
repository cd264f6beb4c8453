"""A small GoogLeNet-style network for 32x32 images, built from ``InceptionModule``.

GoogLeNet (Szegedy et al., 2014) stacks Inception modules with max-pools between groups and ends
in global average pooling instead of large fully connected layers. This version keeps that plan at
CIFAR scale: a 3x3 stem, two modules at 32x32, two at 16x16, one at 8x8, then average pooling and
one linear layer. The module widths are GoogLeNet's (3a) to (4a) divided by about two; the 1x1
reductions can be switched off (``reduce=False``) to see what they save in ``summary``.
"""

from __future__ import annotations

from .. import nn
from ..nn.blocks import ConvBNReLU, InceptionModule
from ..tensor import Tensor

__all__ = ["InceptionSmall"]

# (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) per module; None marks a 3x3/2 max-pool.
_PLAN = (
    (32, 48, 64, 8, 16, 16),  # 3a: 64 -> 128 channels, 32x32
    (64, 64, 96, 16, 32, 32),  # 3b: 128 -> 224
    None,  # -> 16x16
    (96, 64, 128, 16, 32, 32),  # 4a: 224 -> 288
    (128, 96, 160, 24, 48, 48),  # 4b: 288 -> 384
    None,  # -> 8x8
    (160, 96, 192, 32, 64, 64),  # 5a: 384 -> 480
)


class InceptionSmall(nn.Module):
    """GoogLeNet-style classifier for 32x32 images: stem, five Inception modules, average pool.

    Args:
        num_classes: size of the output. Default: 10.
        in_channels: channels of the input images. Default: 3.
        reduce: use the 1x1 reductions before the 3x3 and 5x5 convolutions. Default: True.
        batch_norm: batch norm after every convolution. Default: True.
        dropout: dropout probability before the linear layer (GoogLeNet used 0.4). Default: 0.

    Shape:
        input `(N, in_channels, H, W)` (32x32 intended) -> output `(N, num_classes)`.

    Example:
        >>> model = InceptionSmall()
        >>> model(cr.randn(2, 3, 32, 32)).shape
        (2, 10)
        >>> model.num_parameters() < InceptionSmall(reduce=False).num_parameters()
        True
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        reduce: bool = True,
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.stem = ConvBNReLU(in_channels, 64, 3, batch_norm=batch_norm)
        channels = 64
        layers: list[nn.Module] = []
        for spec in _PLAN:
            if spec is None:
                layers.append(nn.MaxPool2d(3, stride=2, padding=1))
                continue
            block = InceptionModule(channels, *spec, reduce=reduce, batch_norm=batch_norm)
            layers.append(block)
            channels = block.out_channels
        self.inception = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.flatten(self.pool(self.inception(self.stem(x))))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)
