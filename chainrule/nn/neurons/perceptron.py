"""Rosenblatt's perceptron (1958), its error-correction rule, and Novikoff's bound (1962)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import _binary_labels, _features, _rng

__all__ = ["Perceptron", "PerceptronResult", "NovikoffBound", "novikoff_bound"]


@dataclass
class PerceptronResult:
    """The outcome of ``Perceptron.fit``.

    Attributes:
        converged: an epoch passed with no mistake (the data are separated).
        epochs: epochs run.
        mistakes: total mistakes, which is also the number of weight updates.
        mistakes_per_epoch: mistakes made in each epoch.
        cycled: the weights at the start of an epoch repeated an earlier epoch's (fixed sample
            order), so the rule would loop forever -- by the convergence theorem the data are not
            linearly separable.
        message: a one-line, human-readable summary.
    """

    converged: bool
    epochs: int
    mistakes: int
    mistakes_per_epoch: list[int]
    cycled: bool
    message: str

    @property
    def updates(self) -> int:
        """Weight updates made; the perceptron updates only on mistakes."""
        return self.mistakes


@dataclass(frozen=True)
class NovikoffBound:
    """The quantities of the perceptron convergence theorem for one separating hyperplane.

    Attributes:
        radius: ``R = max_i ||(x_i, 1)||``.
        margin: ``gamma = min_i s_i (w . x_i + b) / ||(w, b)||`` with ``s_i = +-1``.
        bound: ``(R / gamma) ** 2``, the most mistakes the perceptron (started at zero) can make.
    """

    radius: float
    margin: float
    bound: float


def novikoff_bound(X: Any, t: Any, weight: Any, bias: float = 0.0) -> NovikoffBound:
    """Mistake bound ``(R / gamma)**2`` of the perceptron convergence theorem (Novikoff 1962).

    The bias is treated as the weight of a constant input 1, so ``R`` and ``gamma`` are measured on
    the augmented vectors ``(x, 1)`` and ``(w, b)``, exactly as ``Perceptron`` updates them.

    Args:
        X: samples, shape ``(N, d)``.
        t: labels in {0, 1} or {-1, +1}, shape ``(N,)``.
        weight: a separating hyperplane's normal, shape ``(d,)``.
        bias: its offset.

    Returns:
        A ``NovikoffBound``.

    Raises:
        ValueError: if ``(weight, bias)`` does not separate the data strictly.
    """
    Xa = _features("novikoff_bound", X, None)
    t01, _ = _binary_labels("novikoff_bound", t, Xa.shape[0])
    w = np.asarray(weight, dtype=np.float64).reshape(-1)
    if w.shape[0] != Xa.shape[1]:
        raise ValueError(
            f"novikoff_bound: weight has {w.shape[0]} entries but X has {Xa.shape[1]} features."
        )
    augmented = np.hstack([Xa, np.ones((Xa.shape[0], 1))])
    w_aug = np.append(w, float(bias))
    signs = 2.0 * t01 - 1.0
    margin = float(np.min(signs * (augmented @ w_aug)) / np.linalg.norm(w_aug))
    if margin <= 0:
        raise ValueError(
            f"novikoff_bound: the hyperplane (weight={w.tolist()}, bias={bias}) does not separate "
            f"the data (margin {margin:.3g} <= 0)."
        )
    radius = float(np.max(np.linalg.norm(augmented, axis=1)))
    return NovikoffBound(radius=radius, margin=margin, bound=(radius / margin) ** 2)


class Perceptron:
    """Rosenblatt's perceptron (1958) trained by the error-correction rule.

    The output is ``y = 1 if w . x + b > 0 else 0``. For each sample, in turn,

        w <- w + lr (t - y) x,     b <- b + lr (t - y),

    with targets coded 0/1, so nothing changes on a correct answer and a mistake adds (or
    subtracts) ``lr x``. Started from zero weights on data separable with margin ``gamma`` inside a
    ball of radius ``R``, the rule makes at most ``(R / gamma)**2`` mistakes, whatever ``lr``
    (Novikoff 1962; see ``novikoff_bound``).

    Args:
        n_features: inputs per sample; inferred by the first ``fit`` when None.
        lr: learning rate (only the scale of ``w`` depends on it when starting from zero).
        shuffle: visit samples in a new random order each epoch (default: fixed order, which also
            lets ``fit`` detect cycling on non-separable data).
        seed: seed for the shuffling; None uses the package generator (``manual_seed``).

    Example:
        >>> p = Perceptron()
        >>> p.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1]).converged
        True
    """

    def __init__(
        self,
        n_features: int | None = None,
        lr: float = 1.0,
        shuffle: bool = False,
        seed: int | None = None,
    ) -> None:
        if lr <= 0:
            raise ValueError(f"Perceptron: lr must be positive, got {lr}.")
        self.n_features = n_features
        self.lr = float(lr)
        self.shuffle = shuffle
        self.seed = seed
        self.weight = np.zeros(n_features) if n_features is not None else None
        self.bias = 0.0
        self.classes: tuple[int, int] = (0, 1)

    def __repr__(self) -> str:
        return f"Perceptron(n_features={self.n_features}, lr={self.lr})"

    def decision_function(self, X: Any) -> np.ndarray:
        """The net input ``w . x + b`` of each sample."""
        if self.weight is None:
            raise RuntimeError("Perceptron: call fit before predict (the weights are not set).")
        Xa = _features(repr(self), X, self.n_features)
        return Xa @ self.weight + self.bias

    def predict(self, X: Any) -> np.ndarray:
        """Class of each sample, in the label coding used by ``fit`` ({0, 1} or {-1, +1})."""
        fired = self.decision_function(X) > 0
        return np.where(fired, self.classes[1], self.classes[0])

    def fit(self, X: Any, t: Any, max_epochs: int = 100) -> PerceptronResult:
        """Run the error-correction rule until an epoch has no mistake, or ``max_epochs``.

        Training continues from the current weights (zeros for a new perceptron). Data that are
        not linearly separable never converge; the result then says so, with no exception.

        Args:
            X: samples, shape ``(N, n_features)``.
            t: labels in {0, 1} or {-1, +1}, shape ``(N,)``.
            max_epochs: the most passes over the data.

        Returns:
            A ``PerceptronResult`` (``converged``, ``epochs``, ``mistakes``, ``message``...).
        """
        if self.n_features is None:
            self.n_features = int(np.asarray(X).shape[-1])
            self.weight = np.zeros(self.n_features)
        Xa = _features(repr(self), X, self.n_features)
        t01, self.classes = _binary_labels(repr(self), t, Xa.shape[0])
        if max_epochs < 1:
            raise ValueError(f"{self!r}: max_epochs must be at least 1, got {max_epochs}.")
        rng = _rng(self.seed)
        w = self.weight
        seen: dict[bytes, int] = {}
        per_epoch: list[int] = []
        cycled_from = -1
        for epoch in range(max_epochs):
            if not self.shuffle:
                state = np.append(w, self.bias).tobytes()
                if state in seen:
                    cycled_from = seen[state]
                    break
                seen[state] = epoch
            order = rng.permutation(Xa.shape[0]) if self.shuffle else range(Xa.shape[0])
            mistakes = 0
            for i in order:
                y = 1 if Xa[i] @ w + self.bias > 0 else 0
                error = t01[i] - y
                if error != 0:
                    w += self.lr * error * Xa[i]
                    self.bias += self.lr * error
                    mistakes += 1
            per_epoch.append(mistakes)
            if mistakes == 0:
                break
        total = int(sum(per_epoch))
        epochs = len(per_epoch)
        converged = bool(per_epoch) and per_epoch[-1] == 0
        if converged:
            message = (
                f"Perceptron converged after {epochs} epochs with {total} mistakes "
                "(the data are linearly separable)."
            )
        elif cycled_from >= 0:
            message = (
                "Perceptron did not converge: the weights at the start of epoch "
                f"{epochs + 1} repeat those of epoch {cycled_from + 1}, so the rule cycles "
                "forever. By the convergence theorem the data are not linearly separable."
            )
        else:
            message = (
                f"Perceptron did not converge in {epochs} epochs ({per_epoch[-1]} mistakes in the "
                "last one); the data may not be linearly separable, or need more epochs."
            )
        return PerceptronResult(
            converged=converged,
            epochs=epochs,
            mistakes=total,
            mistakes_per_epoch=per_epoch,
            cycled=cycled_from >= 0,
            message=message,
        )
