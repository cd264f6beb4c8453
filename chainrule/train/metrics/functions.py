"""One-shot metric functions on arrays, and the running counts the streaming metrics add up.

Arguments follow the losses' order: predictions first (``y_pred``: logits, probabilities or
labels), then targets (``y_true``). Class scores sit on axis 1, as in ``F.cross_entropy``
(``(N, C)`` or ``(N, C, d1, ...)``); when the targets' shape says the classes are last
(``(N, T, C)`` scores with ``(N, T)`` targets) that layout is used instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["accuracy", "binary_accuracy", "top_k_accuracy", "perplexity", "confusion_matrix"]


def _numpy(value: Any) -> np.ndarray:
    """A NumPy array from a Tensor, a NumPy or CuPy array, or a nested list."""
    value = getattr(value, "data", value) if hasattr(value, "grad_fn") else value
    if type(value).__module__.startswith("cupy"):
        return value.get()
    return np.asarray(value)


def _class_axis(name: str, y_pred: np.ndarray, y_true: np.ndarray) -> int:
    """The axis of ``y_pred`` that holds the class scores for index targets ``y_true``."""
    if y_pred.ndim == y_true.ndim + 1:
        if y_pred.ndim == 1:
            return 0
        if y_true.shape == (y_pred.shape[0], *y_pred.shape[2:]):
            return 1
        if y_true.shape == y_pred.shape[:-1]:
            return y_pred.ndim - 1
    raise ValueError(
        f"{name}: scores of shape {y_pred.shape} (N, C, d1, ...) or (N, ..., C) expect "
        f"class-index targets of shape (N, d1, ...), got {y_true.shape}."
    )


def _index_targets(name: str, y_pred: np.ndarray, y_true: np.ndarray) -> tuple[np.ndarray, int]:
    """Targets as class indices (one-hot rows become their arg-max), and the class axis."""
    if y_true.shape == y_pred.shape and y_pred.ndim >= 2:
        return y_true.argmax(axis=1), 1
    if y_true.dtype.kind == "f" and np.any(y_true != np.round(y_true)):
        raise TypeError(
            f"{name}: targets of shape {y_true.shape} must hold integer class indices (or be "
            f"one-hot rows of the scores' shape {y_pred.shape}), got non-integer floats."
        )
    return y_true.astype(np.int64, copy=False), _class_axis(name, y_pred, y_true)


def _kept(y_true: np.ndarray, ignore_index: int | None) -> np.ndarray | None:
    """Mask of targets that count (None when all do)."""
    if ignore_index is None:
        return None
    mask = y_true != ignore_index
    return None if mask.all() else mask


# ---------------------------------------------------------------------------- one-shot functions
def _accuracy_counts(
    y_pred: Any, y_true: Any, ignore_index: int | None, threshold: float
) -> tuple[int, int]:
    p, t = _numpy(y_pred), _numpy(y_true)
    if p.shape == t.shape and (p.ndim == 1 or p.shape[-1] == 1):
        return _binary_counts(p, t, threshold)
    labels, axis = _index_targets("accuracy", p, t)
    hits = p.argmax(axis=axis) == labels
    mask = _kept(labels, ignore_index)
    if mask is not None:
        return int(hits[mask].sum()), int(mask.sum())
    return int(hits.sum()), int(hits.size)


def _binary_counts(y_pred: Any, y_true: Any, threshold: float) -> tuple[int, int]:
    p, t = _numpy(y_pred), _numpy(y_true)
    if p.shape != t.shape:
        if p.shape == (*t.shape, 1):
            p = p[..., 0]
        else:
            raise ValueError(
                f"binary_accuracy: predictions of shape {p.shape} need targets of the same shape, "
                f"got {t.shape}."
            )
    hits = (p > threshold) == (t > 0.5)
    return int(hits.sum()), int(hits.size)


def accuracy(
    y_pred: Any, y_true: Any, ignore_index: int | None = -100, threshold: float = 0.5
) -> float:
    """Fraction of predictions whose class equals the target.

    Multi-class scores ``(N, C, ...)`` are compared by arg-max with class-index targets (or with
    the arg-max of one-hot targets). Single-column predictions (``(N,)`` or ``(N, 1)`` with targets
    of the same shape) are binary: ``y_pred > threshold`` against ``y_true > 0.5``.

    Args:
        y_pred: scores, logits or probabilities.
        y_true: class indices, one-hot rows, or 0/1 labels for binary predictions.
        ignore_index: targets equal to it are left out (padding tokens). Default: -100.
        threshold: decision threshold of binary predictions (use 0 for logits). Default: 0.5.

    Returns:
        The accuracy in [0, 1] (NaN when nothing is counted).
    """
    correct, total = _accuracy_counts(y_pred, y_true, ignore_index, threshold)
    return correct / total if total else math.nan


def binary_accuracy(y_pred: Any, y_true: Any, threshold: float = 0.5) -> float:
    """Fraction of elements where ``y_pred > threshold`` agrees with ``y_true > 0.5``."""
    correct, total = _binary_counts(y_pred, y_true, threshold)
    return correct / total if total else math.nan


def _top_k_counts(y_pred: Any, y_true: Any, k: int, ignore_index: int | None) -> tuple[int, int]:
    p, t = _numpy(y_pred), _numpy(y_true)
    labels, axis = _index_targets("top_k_accuracy", p, t)
    p = np.moveaxis(p, axis, -1)
    mask = _kept(labels, ignore_index)
    if mask is not None:
        p, labels = p[mask], labels[mask]
    if labels.size == 0:
        return 0, 0
    c = p.shape[-1]
    if labels.min() < 0 or labels.max() >= c:
        raise ValueError(
            f"top_k_accuracy: targets must lie in [0, {c}), got {labels.min()}..{labels.max()}."
        )
    true_score = np.take_along_axis(p, labels[..., None], axis=-1)
    # rank = how many classes score strictly higher; ties at the boundary count as in the top k
    rank = (p > true_score).sum(axis=-1)
    hits = rank < k
    return int(hits.sum()), int(hits.size)


def top_k_accuracy(y_pred: Any, y_true: Any, k: int = 5, ignore_index: int | None = -100) -> float:
    """Fraction of targets whose class is among the ``k`` highest scores.

    A target counts as a hit when fewer than ``k`` classes score strictly higher than it, so
    classes tied at the boundary are all inside the top ``k`` (as Keras's ``in_top_k``).

    Args:
        y_pred: scores of shape ``(N, C, ...)`` (or ``(N, ..., C)``, see the module docstring).
        y_true: class indices of shape ``(N, ...)``, or one-hot rows.
        k: how many top classes count. Default: 5.
        ignore_index: targets equal to it are left out. Default: -100.

    Example:
        >>> import numpy as np
        >>> scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
        >>> top_k_accuracy(scores, np.array([2, 2]), k=2)
        0.5
    """
    correct, total = _top_k_counts(y_pred, y_true, _check_k(k), ignore_index)
    return correct / total if total else math.nan


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    z = z.astype(np.float64, copy=False)
    shifted = z - z.max(axis=axis, keepdims=True)  # log-sum-exp shift: exp never overflows
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _nll_sums(y_pred: Any, y_true: Any, ignore_index: int | None) -> tuple[float, int]:
    p, t = _numpy(y_pred), _numpy(y_true)
    labels, axis = _index_targets("perplexity", p, t)
    logp = np.moveaxis(_log_softmax(p, axis), axis, -1)
    mask = _kept(labels, ignore_index)
    if mask is not None:
        logp, labels = logp[mask], labels[mask]
    if labels.size == 0:
        return 0.0, 0
    c = logp.shape[-1]
    if labels.min() < 0 or labels.max() >= c:
        raise ValueError(
            f"perplexity: targets must lie in [0, {c}), got {labels.min()}..{labels.max()}."
        )
    picked = np.take_along_axis(logp, labels[..., None], axis=-1)
    return float(-picked.sum()), int(labels.size)


def perplexity(y_pred: Any, y_true: Any, ignore_index: int | None = -100) -> float:
    """``exp`` of the mean cross-entropy per token: ``exp(-sum log p(target) / tokens)``.

    Args:
        y_pred: logits (or log-probabilities; log-softmax leaves those unchanged).
        y_true: token indices.
        ignore_index: tokens equal to it (padding) are left out. Default: -100.

    Example:
        >>> import numpy as np
        >>> round(perplexity(np.zeros((4, 10)), np.arange(4)), 6)  # uniform over 10 tokens
        10.0
    """
    total, count = _nll_sums(y_pred, y_true, ignore_index)
    return math.exp(total / count) if count else math.nan


def _labels_of(y_pred: np.ndarray, y_true: np.ndarray, threshold: float) -> tuple[np.ndarray, int]:
    """Predicted class indices and the number of classes the predictions can express (0: any).

    Scores give their arg-max (and their number of columns); a single probability column is
    thresholded (two classes); integer predictions of the targets' shape are labels already.
    """
    if y_pred.dtype.kind in "iub" and y_pred.shape == y_true.shape:
        return y_pred.astype(np.int64), 0
    if y_pred.shape == y_true.shape or y_pred.shape == (*y_true.shape, 1):
        return (y_pred.reshape(y_true.shape) > threshold).astype(np.int64), 2
    axis = _class_axis("confusion_matrix", y_pred, y_true)
    return y_pred.argmax(axis=axis), y_pred.shape[axis]


def confusion_matrix(
    y_pred: Any, y_true: Any, num_classes: int | None = None, threshold: float = 0.5
) -> np.ndarray:
    """Count matrix ``M[i, j]``: examples of true class ``i`` predicted as class ``j``.

    Args:
        y_pred: scores ``(N, C, ...)`` (arg-max is taken), a single probability column (binary,
            thresholded) or predicted labels (integers of the targets' shape).
        y_true: class indices.
        num_classes: the matrix size; default: the number of score columns (2 for a single
            column), or for labels the largest label + 1.
        threshold: decision threshold of single-column predictions. Default: 0.5.

    Returns:
        An int64 array of shape ``(num_classes, num_classes)``; rows are true classes.

    Raises:
        ValueError: a label outside ``[0, num_classes)``.

    Example:
        >>> import numpy as np
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]))
        array([[1, 1],
               [0, 1]])
    """
    p, t = _numpy(y_pred), _numpy(y_true).astype(np.int64, copy=False)
    labels, width = _labels_of(p, t, threshold)
    pred, true = labels.reshape(-1), t.reshape(-1)
    if num_classes is None:
        top = int(max(pred.max(initial=-1), true.max(initial=-1))) + 1
        num_classes = max(width, top)
    n = int(num_classes)
    for what, values in (("targets", true), ("predictions", pred)):
        if values.size and (values.min() < 0 or values.max() >= n):
            raise ValueError(
                f"confusion_matrix: {what} must lie in [0, {n}), got "
                f"{values.min()}..{values.max()}."
            )
    return np.bincount(true * n + pred, minlength=n * n).reshape(n, n)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"top_k_accuracy: k must be an integer >= 1, got {k!r}.")
    return int(k)
