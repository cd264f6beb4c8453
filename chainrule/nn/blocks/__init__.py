"""Blocks built from layers: residual (``BasicBlock``, ``Bottleneck``) and ``InceptionModule``."""

from .inception import ConvBNReLU, InceptionModule
from .residual import BasicBlock, Bottleneck, ShortcutA, conv1x1, conv3x3, he_init_

__all__ = [
    "BasicBlock", "Bottleneck", "ShortcutA", "InceptionModule", "ConvBNReLU",
    "conv1x1", "conv3x3", "he_init_",
]  # fmt: skip
