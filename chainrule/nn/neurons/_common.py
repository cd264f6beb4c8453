"""Shared by the neuron modules: the XOR problem's data and the learning rules' input checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import backend

__all__ = ["XOR_INPUTS", "XOR_TARGETS"]

XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)
"""The four points of the XOR problem, in truth-table order."""
XOR_TARGETS = np.array([0, 1, 1, 0], dtype=np.int64)
"""XOR of each row of ``XOR_INPUTS``."""


def _rng(seed: int | None) -> np.random.Generator:
    """An explicit seed gives its own generator; otherwise the package's (``manual_seed``)."""
    return backend.get_rng() if seed is None else np.random.default_rng(seed)


def _features(owner: str, X: Any, n_features: int | None) -> np.ndarray:
    """``X`` as a float64 matrix ``(N, n_features)``; one sample ``(n_features,)`` is allowed."""
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(
            f"{owner} expected X of shape (N, {n_features or 'n_features'}), got {arr.shape}."
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{owner} expected X of shape (N, {n_features}), got {arr.shape}: "
            f"each sample must have {n_features} features."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: X must be numeric, got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{owner}: X contains NaN or Inf.")
    return arr


def _binary_labels(owner: str, t: Any, n: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Targets coded as 0/1, and the label pair the caller used: ``(0, 1)`` or ``(-1, 1)``."""
    arr = np.asarray(t)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{owner} expected targets of shape ({n},), got {arr.shape}.")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: targets must be numeric labels, got dtype {arr.dtype}.")
    values = set(np.unique(arr).tolist())
    if values <= {0, 1}:
        return (arr == 1).astype(np.int64), (0, 1)
    if values <= {-1, 1}:
        return (arr == 1).astype(np.int64), (-1, 1)
    shown = sorted(values)[:6]
    raise ValueError(
        f"{owner}: targets must be binary labels in {{0, 1}} or {{-1, +1}}, got values {shown}."
    )
