"""Affine and shape layers: ``Linear``, ``Identity``, ``Flatten``, ``Unflatten``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import functional as F
from ..creation import empty
from ..tensor import Tensor
from . import init
from ._checks import expect_last_dim, shape_of
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Identity", "Flatten", "Unflatten"]


class Linear(Module):
    """Applies ``y = x @ weight.T + bias``.

    Weights start as in PyTorch: ``kaiming_uniform_(weight, a=sqrt(5))``, that is
    U(-1/sqrt(in), 1/sqrt(in)), and the bias from the same range.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias. Default: True.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: dtype of the parameters. Default: the package default (float32).

    Shape:
        input ``(N, *, in_features)`` -> output ``(N, *, out_features)``.

    Example:
        >>> cr.nn.Linear(4, 2)(cr.randn(8, 4)).shape
        (8, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}.")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        self.bias = Parameter(empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Draw fresh weights from the package generator."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None and self.in_features > 0:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        expect_last_dim(self, x, self.in_features)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed head); ignores its arguments.

    Example:
        >>> x = cr.randn(2, 3)
        >>> cr.nn.Identity()(x) is x
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merges dimensions ``start_dim..end_dim`` into one (by default all but the batch axis).

    Args:
        start_dim: first dimension to flatten. Default: 1.
        end_dim: last dimension to flatten. Default: -1.

    Shape:
        ``(N, C, H, W)`` -> ``(N, C * H * W)`` with the defaults.

    Example:
        >>> cr.nn.Flatten()(cr.zeros(32, 1, 28, 28)).shape
        (32, 784)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        ndim = len(shape_of(x, self))
        for axis in (self.start_dim, self.end_dim):
            if not -ndim <= axis < ndim:
                raise ValueError(
                    f"{self} got input of shape {tuple(x.shape)} ({ndim}-d): dimension {axis} "
                    "does not exist. Flatten expects a batch, e.g. (N, C, H, W)."
                )
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dimension ``dim`` into ``unflattened_size`` (the inverse of ``Flatten``).

    Args:
        dim: the dimension to split.
        unflattened_size: the new dimensions; their product must equal the size of ``dim``
            (one entry may be -1).

    Example:
        >>> cr.nn.Unflatten(1, (1, 28, 28))(cr.zeros(32, 784)).shape
        (32, 1, 28, 28)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not unflattened_size:
            raise TypeError(
                "Unflatten: unflattened_size must be a non-empty tuple of ints, "
                f"got {unflattened_size!r}."
            )
        self.dim = dim
        self.unflattened_size = tuple(int(n) for n in unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        shape = shape_of(x, self)
        if not -len(shape) <= self.dim < len(shape):
            raise ValueError(
                f"{self} got input of shape {shape}: dimension {self.dim} does not exist."
            )
        d = self.dim % len(shape)
        sizes = self.unflattened_size
        known = math.prod(n for n in sizes if n != -1)
        fits = shape[d] == known if -1 not in sizes else known > 0 and shape[d] % known == 0
        if not fits:
            raise ValueError(
                f"{self} cannot split dimension {self.dim} of size {shape[d]} "
                f"(input shape {shape}) into {sizes}: the sizes multiply to {known}."
            )
        return F.reshape(x, shape[:d] + sizes + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
