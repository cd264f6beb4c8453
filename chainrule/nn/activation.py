"""Activation layers: each wraps the function of the same name in ``chainrule.functional``.

They hold no parameters; as modules they fit in ``Sequential`` and show in ``repr``. The ``inplace``
arguments exist for PyTorch compatibility and are ignored: every activation makes a new tensor (the
graph needs the old one).
"""

from __future__ import annotations

from .. import functional as F
from ..tensor import Tensor
from .module import Module

__all__ = [
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softplus", "ELU", "GELU", "Softmax", "LogSoftmax",
]  # fmt: skip


class Sigmoid(Module):
    """``1 / (1 + e^-x)``, elementwise. Example: ``cr.nn.Sigmoid()(cr.zeros(2))`` is all 0.5."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent, elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class ReLU(Module):
    """``max(x, 0)``, elementwise.

    Args:
        inplace: accepted for PyTorch compatibility; ignored.

    Example:
        >>> cr.nn.ReLU()(cr.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Args:
        negative_slope: slope for negative inputs. Default: 0.01.
        inplace: accepted for PyTorch compatibility; ignored.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softplus(Module):
    """``log(1 + e^(beta x)) / beta``, linear where ``beta x > threshold``.

    Args:
        beta: sharpness. Default: 1.
        threshold: above it the output is ``x``. Default: 20.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """``x`` where positive, ``alpha (e^x - 1)`` elsewhere.

    Args:
        alpha: saturation value for large negative inputs is ``-alpha``. Default: 1.
        inplace: accepted for PyTorch compatibility; ignored.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """``x * Phi(x)`` with ``Phi`` the standard normal CDF.

    Args:
        approximate: ``'none'`` (exact, with erf) or ``'tanh'`` (the tanh formula). Default: 'none'.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}.")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """Normalised exponentials along ``dim`` (each slice sums to 1).

    Args:
        dim: the axis to normalise. Default: -1 (PyTorch requires it; the last axis is usual).

    Example:
        >>> cr.nn.Softmax(dim=1)(cr.zeros(2, 4))[0]
        tensor([0.25, 0.25, 0.25, 0.25])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably as ``x - logsumexp(x)``.

    Args:
        dim: the axis to normalise. Default: -1.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
