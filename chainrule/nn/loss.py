"""Loss layers: each wraps the loss function of the same name in ``chainrule.functional``.

Called as ``criterion(input, target)``. Class weights and ``pos_weight`` are registered as buffers,
so they follow ``to()`` and appear in ``state_dict`` (as in PyTorch).
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module

__all__ = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]

_REDUCTIONS = ("mean", "sum", "none")


def _as_buffer(value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value)


class _Loss(Module):
    """Base of the loss layers: holds ``reduction``, and an optional ``weight`` buffer."""

    def __init__(self, reduction: str = "mean", weight: Any = None) -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: unknown reduction {reduction!r}; "
                f"available: {', '.join(_REDUCTIONS)}."
            )
        self.reduction = reduction
        self.register_buffer("weight", _as_buffer(weight))

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error ``(input - target)^2``.

    Args:
        reduction: ``'mean'`` (over all elements), ``'sum'`` or ``'none'``. Default: 'mean'.

    Shape:
        input ``(*)``, target ``(*)`` (same shape) -> scalar, or ``(*)`` for ``'none'``.

    Example:
        >>> cr.nn.MSELoss()(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 4.0])).item()
        2.0
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``.

    Args:
        reduction: ``'mean'``, ``'sum'`` or ``'none'``. Default: 'mean'.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities: ``-w [t log p + (1 - t) log(1 - p)]``.

    Args:
        weight: rescaling weight broadcastable to the input. Default: None.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``. Default: 'mean'.

    Shape:
        input ``(*)`` in [0, 1], target ``(*)`` -> scalar, or ``(*)`` for ``'none'``.
    """

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction, weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy fused, stable for logits of any magnitude.

    Args:
        weight: rescaling weight broadcastable to the input. Default: None.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``. Default: 'mean'.
        pos_weight: weight of the positive term, one per class (last axis). Default: None.

    Example:
        >>> round(cr.nn.BCEWithLogitsLoss()(cr.zeros(4), cr.ones(4)).item(), 4)
        0.6931
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction, weight)
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy between logits and class indices (or class probabilities).

    Args:
        weight: per-class weights of shape ``(C,)``. Default: None.
        ignore_index: targets equal to it add neither loss nor gradient. Default: -100.
        reduction: ``'mean'`` (weighted mean over non-ignored targets), ``'sum'`` or ``'none'``.
        label_smoothing: mix the targets with the uniform distribution, in [0, 1]. Default: 0.

    Shape:
        input ``(N, C)`` or ``(N, C, d1, ...)``; target ``(N)`` or ``(N, d1, ...)`` of int64
        class indices.

    Example:
        >>> loss = cr.nn.CrossEntropyLoss()(cr.zeros(2, 4), cr.tensor([0, 3]))
        >>> round(loss.item(), 4)
        1.3863
    """

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction, weight)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}."
            )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(p for p in parts if p)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (use after ``LogSoftmax``).

    Args:
        weight: per-class weights of shape ``(C,)``. Default: None.
        ignore_index: targets equal to it add neither loss nor gradient. Default: -100.
        reduction: ``'mean'`` (weighted mean over non-ignored targets), ``'sum'`` or ``'none'``.

    Shape:
        input ``(N, C)`` or ``(N, C, d1, ...)``; target ``(N)`` or ``(N, d1, ...)`` of int64
        class indices.
    """

    def __init__(
        self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction, weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(p for p in parts if p)
