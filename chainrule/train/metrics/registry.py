"""Metrics by name: ``get_metric("top5")``; an unknown name lists the valid ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .streaming import (
    Accuracy,
    BinaryAccuracy,
    ConfusionMatrix,
    Mean,
    MeanMetricWrapper,
    Metric,
    Perplexity,
    TopKAccuracy,
)

__all__ = ["get_metric", "available_metrics"]


_FACTORIES: dict[str, Callable[..., Metric]] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "top_k_accuracy": TopKAccuracy,
    "perplexity": Perplexity,
    "ppl": Perplexity,
    "confusion_matrix": ConfusionMatrix,
    "loss": lambda **kw: Mean("loss"),
}
_TOP_K = re.compile(r"top_?(\d+)(_accuracy)?")


def available_metrics() -> list[str]:
    """The names ``get_metric`` accepts (``top<k>`` stands for ``top1``, ``top5``, ...)."""
    return sorted([*_FACTORIES, "top<k>"])


def get_metric(metric: str | Metric | Callable[[Any, Any], Any], **kwargs: Any) -> Metric:
    """A fresh streaming metric from a name, a ``Metric`` (returned as is) or a function.

    Names: ``accuracy`` (``acc``), ``binary_accuracy``, ``top_k_accuracy`` (``k=5``), ``top<k>``
    (``top5``, ``top_5``, ``top5_accuracy``), ``perplexity`` (``ppl``), ``confusion_matrix``,
    ``loss``. Keyword arguments go to the metric's constructor.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: neither a name, a Metric nor a callable.
    """
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        key = metric.strip().lower()
        if key in _FACTORIES:
            return _FACTORIES[key](**kwargs)
        match = _TOP_K.fullmatch(key)
        if match:
            return TopKAccuracy(k=int(match.group(1)), **kwargs)
        raise ValueError(f"unknown metric {metric!r}; available: {', '.join(available_metrics())}.")
    if callable(metric):
        return MeanMetricWrapper(metric)
    raise TypeError(
        f"get_metric: expected a metric name, a Metric or a function (y_pred, y_true) -> number, "
        f"got {type(metric).__name__}."
    )
