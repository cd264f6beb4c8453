"""Small convolutional nets for 28x28 digits: the MNIST CNN of the benchmarks and LeNet-5.

Both show the course's two ideas of convolution — local receptive fields and weights shared across
positions: the first convolution of ``MNISTCNN`` has 320 parameters, where a fully connected layer
producing the same 32x26x26 output from a 28x28 image would need 17 million.
"""

from __future__ import annotations

from .. import nn
from ..nn.blocks import he_init_
from ..tensor import Tensor

__all__ = ["MNISTCNN", "LeNet5"]


class MNISTCNN(nn.Module):
    """Two 3x3 convolutions, max-pool, two fully connected layers: the ``cnn`` of BENCHMARKS.md.

    conv 1→32 3x3 valid, ReLU, conv 32→64 3x3 valid, ReLU, max-pool 2, flatten, linear 9216→128,
    ReLU, linear 128→10 (the Keras ``mnist_cnn`` example). Convolutions use He initialisation.

    Args:
        num_classes: size of the output (logits). Default: 10.
        in_channels: channels of the input images. Default: 1.
        dropout: add the Keras example's dropout (0.25 after the pool, 0.5 after the first linear
            layer). Default: False, which keeps the layer list of the benchmark.

    Shape:
        input `(N, in_channels, 28, 28)` -> output `(N, num_classes)`.

    Example:
        >>> model = MNISTCNN()
        >>> model(cr.randn(2, 1, 28, 28)).shape
        (2, 10)
        >>> model.num_parameters()   # 320 + 18,496 + 1,179,776 + 1,290
        1199882
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, dropout: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        if dropout:
            layers.append(nn.Dropout(0.25))
        layers += [nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers.append(nn.Linear(128, num_classes))
        self.layers = nn.Sequential(*layers)
        he_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998): C1 conv 6@5x5, S2 pool, C3 conv 16@5x5, S4 pool, C5 conv
    120@5x5, F6 84, output.

    The paper's 32x32 input is the 28x28 digit with a 2-pixel border; ``input_size=28`` (default)
    adds that border as padding 2 in C1, ``input_size=32`` takes padded images. Two simplifications
    follow common practice: C3 connects every S2 map (the paper used a sparse table, 1,516 weights
    instead of 2,416), and the output is a linear layer instead of Euclidean RBF units. The
    subsampling layers S2/S4 are 2x2 average pools (the paper also scaled them by a learned
    coefficient).

    Args:
        num_classes: size of the output. Default: 10.
        in_channels: channels of the input. Default: 1.
        input_size: 28 (padding 2 in C1) or 32. Default: 28.
        activation: ``"tanh"`` (as in the paper, default), ``"relu"`` or ``"sigmoid"``.
        pool: ``"avg"`` (subsampling, default) or ``"max"``.

    Shape:
        input `(N, in_channels, input_size, input_size)` -> output `(N, num_classes)`.

    Example:
        >>> model = LeNet5()
        >>> model(cr.randn(2, 1, 28, 28)).shape
        (2, 10)
        >>> model.num_parameters()
        61706
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        input_size: int = 28,
        activation: str = "tanh",
        pool: str = "avg",
    ) -> None:
        super().__init__()
        if input_size not in (28, 32):
            raise ValueError(f"LeNet5: input_size must be 28 or 32, got {input_size}.")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"LeNet5: unknown activation {activation!r}; available: {', '.join(_ACTIVATIONS)}."
            )
        if pool not in _POOLS:
            raise ValueError(f"LeNet5: unknown pool {pool!r}; available: {', '.join(_POOLS)}.")
        act, subsample = _ACTIVATIONS[activation], _POOLS[pool]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2 if input_size == 28 else 0),  # C1 -> 6x28x28
            act(),
            subsample(2),  # S2 -> 6x14x14
            nn.Conv2d(6, 16, 5),  # C3 -> 16x10x10
            act(),
            subsample(2),  # S4 -> 16x5x5
            nn.Conv2d(16, 120, 5),  # C5 -> 120x1x1
            act(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(120, 84), act(), nn.Linear(84, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
