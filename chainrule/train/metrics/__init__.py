"""Floor 6: metrics computed exactly over a whole epoch, one batch at a time.

Every metric keeps running sums (correct predictions and examples, summed token losses and token
counts, a confusion matrix) and divides only when asked for its ``result()``. So a ragged last
batch weighs exactly as many examples as it holds, and the epoch's accuracy equals the accuracy
of all predictions taken together, not a mean of batch means.

Arguments follow the losses' order: predictions first (``y_pred``: logits, probabilities or
labels), then targets (``y_true``). Class scores sit on axis 1, as in ``F.cross_entropy``
(``(N, C)`` or ``(N, C, d1, ...)``); when the targets' shape says the classes are last
(``(N, T, C)`` scores with ``(N, T)`` targets) that layout is used instead.

Example:
    >>> import numpy as np
    >>> from chainrule.train import metrics
    >>> logits = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 2.0], [1.0, 3.0, 2.0]])
    >>> float(metrics.accuracy(logits, np.array([0, 1, 1])))
    0.6666666666666666
    >>> acc = metrics.get_metric("accuracy")
    >>> acc.update(logits[:2], np.array([0, 1]))
    >>> acc.update(logits[2:], np.array([1]))
    >>> acc.result()
    0.6666666666666666
"""

from .functions import accuracy, binary_accuracy, confusion_matrix, perplexity, top_k_accuracy
from .registry import available_metrics, get_metric
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

__all__ = [
    "Metric",
    "Mean",
    "Accuracy",
    "BinaryAccuracy",
    "TopKAccuracy",
    "Perplexity",
    "ConfusionMatrix",
    "MeanMetricWrapper",
    "accuracy",
    "binary_accuracy",
    "top_k_accuracy",
    "perplexity",
    "confusion_matrix",
    "get_metric",
    "available_metrics",
]
