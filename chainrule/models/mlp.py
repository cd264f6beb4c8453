"""The multilayer perceptron: the course's "multilayer network", a universal approximator."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor

__all__ = ["MLP"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


class MLP(nn.Module):
    """Fully connected network: Flatten, then Linear + activation per hidden layer, then Linear.

    Args:
        in_features: size of each (flattened) input sample; 784 for MNIST.
        hidden: widths of the hidden layers.
        num_classes: size of the output (logits).
        activation: one of relu, tanh, sigmoid, leaky_relu, softplus, elu, gelu.

    Shape:
        input `(N, *)` with `prod(*) == in_features` -> output `(N, num_classes)`.

    Example:
        >>> MLP(784, (512, 512), 10)(cr.randn(8, 1, 28, 28)).shape
        (8, 10)
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden: Sequence[int] = (512, 512),
        num_classes: int = 10,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; available: {', '.join(_ACTIVATIONS)}."
            )
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), _ACTIVATIONS[activation]()]
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
