"""Dropout layers: ``Dropout`` (single units) and ``Dropout2d`` (whole channels).

Both are active in training mode only (``model.train()``) and the identity in evaluation mode;
survivors are scaled by ``1 / (1 - p)`` so that nothing changes between the two modes on average.
"""

from __future__ import annotations

from .. import functional as F
from ..tensor import Tensor
from ._checks import expect_ndim
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must lie in [0, 1], got {p!r}.")
        self.p = float(p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` in training, scaling the rest by ``1/(1-p)``.

    Args:
        p: probability of dropping an element. Default: 0.5.

    Example:
        >>> drop = cr.nn.Dropout(0.5).eval()
        >>> x = cr.randn(3, 4)
        >>> drop(x) is x
        True
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of an NCHW batch with probability ``p`` in training.

    Args:
        p: probability of dropping a channel. Default: 0.5.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` -> same.

    Example:
        >>> cr.nn.Dropout2d(0.2)(cr.randn(2, 8, 4, 4)).shape
        (2, 8, 4, 4)
    """

    def forward(self, x: Tensor) -> Tensor:
        expect_ndim(self, x, (3, 4), "(N, C, H, W) or (C, H, W)")
        return F.dropout2d(x, self.p, self.training)
