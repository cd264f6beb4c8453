"""ADALINE (Widrow and Hoff 1960): a linear unit trained by the LMS (delta) rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# XOR_INPUTS is read by the Example doctest of ``Adaline``
from ._common import XOR_INPUTS, _binary_labels, _features, _rng  # noqa: F401

__all__ = ["Adaline", "AdalineResult"]


@dataclass
class AdalineResult:
    """The outcome of ``Adaline.fit``.

    Attributes:
        converged: the full-batch gradient norm of the MSE fell below ``tol``.
        diverged: the MSE became non-finite or grew without bound (``lr`` too large).
        epochs: epochs run.
        mse: mean squared error of the linear output against the +-1 targets after each epoch.
        message: a one-line, human-readable summary.
    """

    converged: bool
    diverged: bool
    epochs: int
    mse: list[float]
    message: str


class Adaline:
    """ADALINE (Widrow and Hoff 1960): a linear unit trained by the LMS (delta) rule.

    Targets are coded ``d = +-1`` and the error is measured on the linear output, before the
    threshold. The online (LMS) rule, per sample, is

        w <- w + lr (d - w . x - b) x,     b <- b + lr (d - w . x - b);

    the batch rule averages the same correction over all ``N`` samples, which is gradient descent on
    half the mean squared error ``E = mean (d - w . x - b)**2 / 2``:

        w <- w + lr / N sum_i (d_i - w . x_i - b) x_i.

    Batch descent with ``lr < 2 / lambda_max`` (the largest eigenvalue of ``mean (x, 1)(x, 1)^T``)
    converges to the least-squares weights; online LMS hovers near them, and gets there when ``lr``
    decays (``lr_decay``). The class is ``+1`` when ``w . x + b >= 0``.

    Args:
        n_features: inputs per sample; inferred by the first ``fit`` when None.
        lr: learning rate.
        mode: ``"online"`` (per-sample LMS, Widrow-Hoff) or ``"batch"`` (full-batch gradient).
        lr_decay: the rate in epoch ``k`` is ``lr / (1 + lr_decay * k)``. Default: 0 (constant).
        shuffle: visit samples in a new random order each epoch (online mode).
        seed: seed for the shuffling; None uses the package generator (``manual_seed``).

    Example:
        >>> a = Adaline(lr=0.5, mode="batch")
        >>> a.fit(XOR_INPUTS, [0, 0, 0, 1], epochs=1000).converged
        True
        >>> a.predict(XOR_INPUTS).tolist(), a.weight.round(3).tolist(), round(a.bias, 3)
        ([0, 0, 0, 1], [1.0, 1.0], -1.5)
    """

    def __init__(
        self,
        n_features: int | None = None,
        lr: float = 0.01,
        mode: str = "online",
        lr_decay: float = 0.0,
        shuffle: bool = True,
        seed: int | None = None,
    ) -> None:
        if mode not in ("online", "batch"):
            raise ValueError(f"Adaline: unknown mode {mode!r}; available: online, batch.")
        if lr <= 0:
            raise ValueError(f"Adaline: lr must be positive, got {lr}.")
        if lr_decay < 0:
            raise ValueError(f"Adaline: lr_decay must be non-negative, got {lr_decay}.")
        self.n_features = n_features
        self.lr = float(lr)
        self.mode = mode
        self.lr_decay = float(lr_decay)
        self.shuffle = shuffle
        self.seed = seed
        self.weight = np.zeros(n_features) if n_features is not None else None
        self.bias = 0.0
        self.classes: tuple[int, int] = (0, 1)

    def __repr__(self) -> str:
        return f"Adaline(n_features={self.n_features}, lr={self.lr}, mode={self.mode!r})"

    def decision_function(self, X: Any) -> np.ndarray:
        """The linear output ``w . x + b`` of each sample (what LMS fits to +-1)."""
        if self.weight is None:
            raise RuntimeError("Adaline: call fit before predict (the weights are not set).")
        Xa = _features(repr(self), X, self.n_features)
        return Xa @ self.weight + self.bias

    def predict(self, X: Any) -> np.ndarray:
        """Class of each sample (threshold at 0), in the label coding used by ``fit``."""
        positive = self.decision_function(X) >= 0
        return np.where(positive, self.classes[1], self.classes[0])

    def fit(self, X: Any, t: Any, epochs: int = 50, tol: float = 1e-8) -> AdalineResult:
        """Train by the delta rule for ``epochs`` passes, stopping early once converged.

        Training continues from the current weights (zeros for a new unit).

        Args:
            X: samples, shape ``(N, n_features)``.
            t: labels in {0, 1} or {-1, +1}, shape ``(N,)``; both are coded +-1 for training.
            epochs: the most passes over the data.
            tol: stop when the norm of the full-batch MSE gradient falls below this.

        Returns:
            An ``AdalineResult`` with the MSE after each epoch.
        """
        if self.n_features is None:
            self.n_features = int(np.asarray(X).shape[-1])
            self.weight = np.zeros(self.n_features)
        Xa = _features(repr(self), X, self.n_features)
        t01, self.classes = _binary_labels(repr(self), t, Xa.shape[0])
        if epochs < 1:
            raise ValueError(f"{self!r}: epochs must be at least 1, got {epochs}.")
        d = 2.0 * t01 - 1.0
        n = Xa.shape[0]
        augmented = np.hstack([Xa, np.ones((n, 1))])
        theta = np.append(self.weight, self.bias)  # (w, b) updated as one vector on (x, 1)
        rng = _rng(self.seed)
        start_mse = float(np.mean((d - augmented @ theta) ** 2))
        history: list[float] = []
        converged = diverged = False
        for epoch in range(epochs):
            lr = self.lr / (1.0 + self.lr_decay * epoch)
            if self.mode == "batch":
                theta += lr / n * (augmented.T @ (d - augmented @ theta))
            else:
                order = rng.permutation(n) if self.shuffle else range(n)
                for i in order:
                    error = d[i] - augmented[i] @ theta
                    theta += lr * error * augmented[i]
            residual = d - augmented @ theta
            mse = float(np.mean(residual**2))
            history.append(mse)
            if not np.isfinite(mse) or mse > 1e6 * max(start_mse, 1.0):
                diverged = True
                break
            if np.linalg.norm(augmented.T @ residual) / n < tol:
                converged = True
                break
        self.weight, self.bias = theta[:-1].copy(), float(theta[-1])
        if diverged:
            lam = float(np.linalg.eigvalsh(augmented.T @ augmented / n).max())  # batch: lr < 2/lam
            if self.mode == "batch":
                limit = 2.0 / lam
            else:
                limit = 2.0 / float(np.max(np.sum(augmented**2, axis=1)))
            message = (
                f"Adaline diverged at epoch {len(history)} (MSE {mse:.3g}): lr={self.lr} is too "
                f"large; the {self.mode} rule needs lr below about {limit:.3g}."
            )
        elif converged:
            message = f"Adaline converged after {len(history)} epochs (MSE {mse:.6g})."
        else:
            message = (
                f"Adaline ran {len(history)} epochs without meeting tol={tol} (MSE {mse:.6g}); "
                "online LMS with a constant lr hovers near the least-squares weights."
            )
        return AdalineResult(
            converged=converged,
            diverged=diverged,
            epochs=len(history),
            mse=history,
            message=message,
        )
