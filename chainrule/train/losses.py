"""Floor 6: the loss of a ``Trainer``, given as a callable or by name.

Example:
    >>> from chainrule.train.losses import get_loss
    >>> get_loss("cross_entropy").__name__
    'cross_entropy'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import functional as F
from ..nn import BCELoss, BCEWithLogitsLoss, L1Loss, MSELoss
from .metrics import Accuracy, Metric, get_metric

__all__ = ["get_loss", "available_losses", "wants_float_targets", "build_metrics"]

_LOSSES: dict[str, Callable[..., Any]] = {
    "cross_entropy": F.cross_entropy,
    "nll": F.nll_loss,
    "nll_loss": F.nll_loss,
    "mse": F.mse_loss,
    "mse_loss": F.mse_loss,
    "l1": F.l1_loss,
    "mae": F.l1_loss,
    "l1_loss": F.l1_loss,
    "bce": F.binary_cross_entropy,
    "binary_cross_entropy": F.binary_cross_entropy,
    "bce_with_logits": F.binary_cross_entropy_with_logits,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
}

# Losses whose targets are numbers, not class indices: integer targets (0/1 labels) are cast to
# the prediction's dtype before the call.
_FLOAT_TARGET_FUNCTIONS = (
    F.mse_loss,
    F.l1_loss,
    F.binary_cross_entropy,
    F.binary_cross_entropy_with_logits,
)
_FLOAT_TARGET_MODULES = (MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss)


def available_losses() -> list[str]:
    """The names ``get_loss`` accepts."""
    return sorted(_LOSSES)


def get_loss(loss: str | Callable[..., Any]) -> Callable[..., Any]:
    """The loss function ``loss(y_pred, y_true) -> 0-d Tensor`` for a name or a callable.

    Args:
        loss: ``'cross_entropy'``, ``'nll'``, ``'mse'``, ``'l1'`` (``'mae'``), ``'bce'``,
            ``'bce_with_logits'`` (or the functions' full names), or any callable taking
            ``(predictions, targets)``, such as ``F.cross_entropy`` or ``nn.CrossEntropyLoss()``.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: neither a name nor a callable.
    """
    if isinstance(loss, str):
        key = loss.strip().lower()
        if key not in _LOSSES:
            raise ValueError(f"unknown loss {loss!r}; available: {', '.join(available_losses())}.")
        return _LOSSES[key]
    if callable(loss):
        return loss
    raise TypeError(
        f"Trainer: loss must be a name ({', '.join(available_losses())}) or a callable "
        f"(y_pred, y_true) -> Tensor, got {type(loss).__name__}."
    )


def _is(loss_fn: Any, functions: tuple[Any, ...], modules: tuple[type, ...]) -> bool:
    return any(loss_fn is f for f in functions) or isinstance(loss_fn, modules)


def wants_float_targets(loss_fn: Any) -> bool:
    """Whether ``loss_fn`` compares with numbers (regression, binary) rather than class indices."""
    return _is(loss_fn, _FLOAT_TARGET_FUNCTIONS, _FLOAT_TARGET_MODULES)


def build_metrics(loss_fn: Any, metrics: Any) -> list[Metric]:
    """The ``Trainer``'s metrics for ``loss_fn``: fresh objects, ``"loss"`` left out.

    ``None`` means ``["accuracy"]``, or nothing for the regression losses (mse, l1). With a
    logits loss (``bce_with_logits``), ``"accuracy"`` thresholds at 0 instead of 0.5.

    Raises:
        ValueError: an unknown metric, or one listed twice.
    """
    regression = _is(loss_fn, (F.mse_loss, F.l1_loss), (MSELoss, L1Loss))
    if metrics is None:
        metrics = () if regression else ("accuracy",)
    elif isinstance(metrics, (str, Metric)) or callable(metrics):
        metrics = [metrics]
    on_logits = _is(loss_fn, (F.binary_cross_entropy_with_logits,), (BCEWithLogitsLoss,))
    built: list[Metric] = []
    for item in metrics:
        key = item.strip().lower() if isinstance(item, str) else None
        if key == "loss":
            continue  # always tracked
        if on_logits and key in ("accuracy", "acc"):
            metric: Metric = Accuracy(threshold=0.0)  # logit > 0 <=> probability > 0.5
        else:
            metric = get_metric(item)
        if any(m.name == metric.name for m in built):
            raise ValueError(f"Trainer: metric {metric.name!r} is listed twice.")
        built.append(metric)
    return built
