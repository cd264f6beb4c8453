"""Streaming metrics: running sums updated batch by batch, divided only in ``result()``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .functions import (
    _accuracy_counts,
    _binary_counts,
    _check_k,
    _nll_sums,
    _numpy,
    _top_k_counts,
    confusion_matrix,
)

__all__ = [
    "Metric",
    "Mean",
    "Accuracy",
    "BinaryAccuracy",
    "TopKAccuracy",
    "Perplexity",
    "ConfusionMatrix",
    "MeanMetricWrapper",
]


class Metric:
    """A metric accumulated over batches: ``reset()``, ``update(y_pred, y_true)``, ``result()``.

    Attributes:
        name: the key of its value in the logs (``"accuracy"``, ``"top5"``, ...).
    """

    name = "metric"

    def reset(self) -> None:
        """Forget everything seen so far."""
        raise NotImplementedError(f"{type(self).__name__} does not implement reset().")

    def update(self, y_pred: Any, y_true: Any) -> None:
        """Add one batch of predictions and targets."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update().")

    def result(self) -> Any:
        """The metric over everything since the last ``reset``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement result().")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class _RatioMetric(Metric):
    """Running numerator and denominator; the result is their ratio (NaN before any data)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.numerator = 0.0
        self.denominator = 0

    def _add(self, numerator: float, denominator: int) -> None:
        self.numerator += numerator
        self.denominator += denominator

    def result(self) -> float:
        return self.numerator / self.denominator if self.denominator else math.nan


class Mean(_RatioMetric):
    """Weighted running mean: ``update(value, weight)`` (the loss, weighted by batch size).

    Example:
        >>> m = Mean("loss")
        >>> m.update(1.0, 3)
        >>> m.update(3.0, 1)
        >>> m.result()
        1.5
    """

    def __init__(self, name: str = "mean") -> None:
        self.name = name
        super().__init__()

    def update(self, value: Any, weight: Any = 1) -> None:  # type: ignore[override]
        self._add(float(value) * float(weight), float(weight))  # type: ignore[arg-type]


class Accuracy(_RatioMetric):
    """Streaming ``accuracy`` (see the function): correct predictions over counted targets.

    Args:
        ignore_index: targets equal to it are left out. Default: -100.
        threshold: decision threshold of single-column (binary) predictions. Default: 0.5.
    """

    name = "accuracy"

    def __init__(self, ignore_index: int | None = -100, threshold: float = 0.5) -> None:
        self.ignore_index, self.threshold = ignore_index, float(threshold)
        super().__init__()

    def update(self, y_pred: Any, y_true: Any) -> None:
        self._add(*_accuracy_counts(y_pred, y_true, self.ignore_index, self.threshold))


class BinaryAccuracy(_RatioMetric):
    """Streaming ``binary_accuracy``: elementwise agreement of thresholded multi-label predictions.

    Args:
        threshold: decision threshold (0.5 for probabilities, 0 for logits). Default: 0.5.
    """

    name = "binary_accuracy"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = float(threshold)
        super().__init__()

    def update(self, y_pred: Any, y_true: Any) -> None:
        self._add(*_binary_counts(y_pred, y_true, self.threshold))


class TopKAccuracy(_RatioMetric):
    """Streaming ``top_k_accuracy``; its log key is ``f"top{k}"``.

    Args:
        k: how many top classes count. Default: 5.
        ignore_index: targets equal to it are left out. Default: -100.
    """

    def __init__(self, k: int = 5, ignore_index: int | None = -100) -> None:
        self.k = _check_k(k)
        self.ignore_index = ignore_index
        self.name = f"top{self.k}"
        super().__init__()

    def update(self, y_pred: Any, y_true: Any) -> None:
        self._add(*_top_k_counts(y_pred, y_true, self.k, self.ignore_index))


class Perplexity(_RatioMetric):
    """Streaming ``perplexity``: ``exp`` of the summed token cross-entropy over the token count.

    Args:
        ignore_index: tokens equal to it are left out. Default: -100.
    """

    name = "perplexity"

    def __init__(self, ignore_index: int | None = -100) -> None:
        self.ignore_index = ignore_index
        super().__init__()

    def update(self, y_pred: Any, y_true: Any) -> None:
        self._add(*_nll_sums(y_pred, y_true, self.ignore_index))

    def result(self) -> float:
        return math.exp(self.numerator / self.denominator) if self.denominator else math.nan


class ConfusionMatrix(Metric):
    """Streaming ``confusion_matrix``; the result is an int64 matrix, not a number.

    Logs keep it under ``"confusion_matrix"``; progress lines, CSV files and plots skip it.

    Args:
        num_classes: the matrix size; default: inferred, growing as larger classes appear.
        threshold: decision threshold of single-column predictions. Default: 0.5.
    """

    name = "confusion_matrix"

    def __init__(self, num_classes: int | None = None, threshold: float = 0.5) -> None:
        self.num_classes, self.threshold = num_classes, float(threshold)
        self.reset()

    def reset(self) -> None:
        n = self.num_classes or 0
        self.matrix = np.zeros((n, n), dtype=np.int64)

    def update(self, y_pred: Any, y_true: Any) -> None:
        batch = confusion_matrix(y_pred, y_true, self.num_classes, self.threshold)
        n = max(len(batch), len(self.matrix))
        if n > len(self.matrix):
            grown = np.zeros((n, n), dtype=np.int64)
            grown[: len(self.matrix), : len(self.matrix)] = self.matrix
            self.matrix = grown
        self.matrix[: len(batch), : len(batch)] += batch

    def result(self) -> np.ndarray:
        return self.matrix.copy()


class MeanMetricWrapper(_RatioMetric):
    """Turn ``fn(y_pred, y_true) -> number`` (a per-example mean) into a streaming metric.

    Each batch's value is weighted by its number of examples, which is exact when ``fn`` is a
    mean over the examples of the batch.
    """

    def __init__(self, fn: Callable[[Any, Any], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        super().__init__()

    def update(self, y_pred: Any, y_true: Any) -> None:
        n = len(_numpy(y_true)) if np.ndim(_numpy(y_true)) else 1
        self._add(float(self.fn(y_pred, y_true)) * n, n)
