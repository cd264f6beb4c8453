"""The course's first neurons, each with its historical learning rule, on plain NumPy arrays.

- ``McCullochPitts`` (1943): binary inputs, fixed integer weights, a threshold and absolute
  inhibition. Hand-wired units compute AND, OR and NOT; ``xor_impossible`` tries every unit on a
  weight grid and finds all Boolean functions of two inputs except XOR and XNOR; ``xor_network``
  computes XOR with two layers of such units.
- ``Perceptron`` (Rosenblatt 1958): error correction ``w <- w + lr (t - y) x``. On linearly
  separable data it stops after at most ``(R / gamma)**2`` mistakes (Novikoff 1962, see
  ``novikoff_bound``); on XOR it reports that it did not converge.
- ``Adaline`` (Widrow and Hoff 1960): the LMS (delta) rule on the linear output, which descends the
  mean squared error towards the least-squares weights.
- ``train_xor_mlp``: the multilayer network trained by backpropagation, which solves XOR.

Only ``train_xor_mlp`` records a graph; it imports the autograd layers when called.
See ``docs/neurons.md`` for the update rules and the convergence theorem.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import backend

__all__ = [
    "McCullochPitts",
    "McCullochPittsNetwork",
    "XorSearchResult",
    "xor_impossible",
    "xor_network",
    "Perceptron",
    "PerceptronResult",
    "NovikoffBound",
    "novikoff_bound",
    "Adaline",
    "AdalineResult",
    "XorMLPResult",
    "train_xor_mlp",
    "XOR_INPUTS",
    "XOR_TARGETS",
]

XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)
"""The four points of the XOR problem, in truth-table order."""
XOR_TARGETS = np.array([0, 1, 1, 0], dtype=np.int64)
"""XOR of each row of ``XOR_INPUTS``."""


# --------------------------------------------------------------------------- input checks
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


# --------------------------------------------------------------------------- McCulloch-Pitts
class McCullochPitts:
    """A McCulloch-Pitts threshold unit (1943): fixed integer weights, no learning.

    With binary inputs ``x`` and the set ``I`` of inhibitory inputs, the unit fires

        y = 1  if  x_i == 0 for every i in I  and  sum_{i not in I} w_i x_i >= threshold,
        y = 0  otherwise.

    Inhibition is absolute, as in the 1943 paper: one active inhibitory input silences the unit
    whatever the excitation; the weights of inhibitory inputs are not used. Negative weights are
    also allowed (the later "threshold logic unit" form of inhibition).

    Args:
        weights: integer weight of each input.
        threshold: integer firing threshold.
        inhibitory: indices of the inhibitory inputs. Default: none.

    Shape:
        input ``(n,)`` or ``(N, n)`` of 0/1 values -> output ``()`` or ``(N,)`` of 0/1 (int64).

    Example:
        >>> McCullochPitts.and_gate()([[0, 1], [1, 1]]).tolist()
        [0, 1]
    """

    def __init__(
        self, weights: Sequence[int], threshold: int, inhibitory: Sequence[int] = ()
    ) -> None:
        w = np.asarray(weights)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(
                f"McCullochPitts: weights must be a non-empty 1-D sequence, got {w!r}."
            )
        integral = w.dtype.kind in "biu" or (w.dtype.kind == "f" and np.all(w == np.round(w)))
        if not integral:
            raise TypeError(f"McCullochPitts: weights must be integers, got {w.tolist()}.")
        if int(threshold) != threshold:
            raise TypeError(f"McCullochPitts: threshold must be an integer, got {threshold!r}.")
        n = w.size
        inhib = sorted({int(i) for i in inhibitory})
        bad = [i for i in inhib if not 0 <= i < n]
        if bad:
            raise ValueError(f"McCullochPitts: inhibitory indices must lie in [0, {n}), got {bad}.")
        self.weights = w.astype(np.int64)
        self.threshold = int(threshold)
        self.inhibitory = tuple(inhib)
        self._excitatory = np.ones(n, dtype=bool)
        self._excitatory[list(inhib)] = False

    @property
    def n_inputs(self) -> int:
        """Number of inputs the unit reads."""
        return int(self.weights.size)

    def __call__(self, x: Any) -> np.ndarray:
        """Output of the unit (see the class docstring for the firing rule)."""
        arr = np.asarray(x)
        single = arr.ndim == 1
        batch = arr[None, :] if single else arr
        if batch.ndim != 2 or batch.shape[1] != self.n_inputs:
            raise ValueError(
                f"{self!r} expected input of shape ({self.n_inputs},) or (N, {self.n_inputs}), "
                f"got {arr.shape}."
            )
        if batch.dtype.kind not in "biuf" or not np.all((batch == 0) | (batch == 1)):
            odd = np.unique(batch[(batch != 0) & (batch != 1)])[:5].tolist()
            raise ValueError(
                f"{self!r}: inputs must be binary (0 or 1), got values {odd}. "
                "McCulloch-Pitts units read all-or-none signals."
            )
        b = batch.astype(np.int64)
        excitation = b[:, self._excitatory] @ self.weights[self._excitatory]
        inhibited = b[:, ~self._excitatory].any(axis=1)
        y = ((excitation >= self.threshold) & ~inhibited).astype(np.int64)
        return y[0] if single else y

    def truth_table(self) -> tuple[np.ndarray, np.ndarray]:
        """All ``2**n`` binary inputs (rows in counting order) and the unit's output on each."""
        inputs = np.array(list(itertools.product((0, 1), repeat=self.n_inputs)), dtype=np.int64)
        return inputs, self(inputs)

    def __repr__(self) -> str:
        inhib = f", inhibitory={list(self.inhibitory)}" if self.inhibitory else ""
        return f"McCullochPitts(weights={self.weights.tolist()}, threshold={self.threshold}{inhib})"

    @classmethod
    def and_gate(cls, n_inputs: int = 2) -> McCullochPitts:
        """AND of ``n_inputs`` inputs: unit weights, threshold ``n_inputs``."""
        return cls([1] * n_inputs, threshold=n_inputs)

    @classmethod
    def or_gate(cls, n_inputs: int = 2) -> McCullochPitts:
        """OR of ``n_inputs`` inputs: unit weights, threshold 1."""
        return cls([1] * n_inputs, threshold=1)

    @classmethod
    def not_gate(cls) -> McCullochPitts:
        """NOT: one inhibitory input and threshold 0, so the unit fires unless the input does."""
        return cls([1], threshold=0, inhibitory=[0])


class McCullochPittsNetwork:
    """Layers of McCulloch-Pitts units; every unit of a layer reads the whole previous layer.

    Args:
        layers: a sequence of layers, each a sequence of ``McCullochPitts`` units.

    Shape:
        input ``(n,)`` or ``(N, n)`` -> output of the last layer, ``(N, k)``, or ``(N,)`` when the
        last layer has a single unit.
    """

    def __init__(self, layers: Sequence[Sequence[McCullochPitts]]) -> None:
        if not layers or any(len(layer) == 0 for layer in layers):
            raise ValueError("McCullochPittsNetwork: every layer needs at least one unit.")
        for depth in range(1, len(layers)):
            width = len(layers[depth - 1])
            for unit in layers[depth]:
                if unit.n_inputs != width:
                    raise ValueError(
                        f"McCullochPittsNetwork: layer {depth} unit {unit!r} reads "
                        f"{unit.n_inputs} inputs, but layer {depth - 1} has {width} units."
                    )
        first = {unit.n_inputs for unit in layers[0]}
        if len(first) != 1:
            raise ValueError(
                "McCullochPittsNetwork: the units of the first layer read different input sizes "
                f"{sorted(first)}."
            )
        self.layers = [list(layer) for layer in layers]
        self.n_inputs = first.pop()

    def __call__(self, x: Any) -> np.ndarray:
        """Propagate binary inputs through the layers."""
        h = np.asarray(x)
        single = h.ndim == 1
        if single:
            h = h[None, :]
        for layer in self.layers:
            h = np.stack([unit(h) for unit in layer], axis=1)
        if h.shape[1] == 1:
            h = h[:, 0]
        return h[0] if single else h

    def truth_table(self) -> tuple[np.ndarray, np.ndarray]:
        """All ``2**n`` binary inputs and the network's output on each."""
        inputs = np.array(list(itertools.product((0, 1), repeat=self.n_inputs)), dtype=np.int64)
        return inputs, self(inputs)


def xor_network() -> McCullochPittsNetwork:
    """XOR from two layers of McCulloch-Pitts units: ``(x1 AND NOT x2) OR (x2 AND NOT x1)``.

    Each hidden unit is excited by one input and inhibited by the other; the output unit is an OR.

    Example:
        >>> xor_network()(XOR_INPUTS).tolist()
        [0, 1, 1, 0]
    """
    only_first = McCullochPitts([1, 0], threshold=1, inhibitory=[1])
    only_second = McCullochPitts([0, 1], threshold=1, inhibitory=[0])
    return McCullochPittsNetwork([[only_first, only_second], [McCullochPitts.or_gate(2)]])


@dataclass(frozen=True)
class XorSearchResult:
    """What ``xor_impossible`` found.

    Attributes:
        units_checked: number of (weights, threshold, inhibitory set) combinations tried.
        realizable: truth tables (outputs on ``XOR_INPUTS``) computed by at least one unit.
        missing: the truth tables of two inputs that no unit on the grid computes.
        xor_found: whether some single unit computes XOR.
        example_units: one unit for each realizable truth table.
    """

    units_checked: int
    realizable: frozenset[tuple[int, ...]]
    missing: frozenset[tuple[int, ...]]
    xor_found: bool
    example_units: dict[tuple[int, ...], McCullochPitts] = field(repr=False)

    @property
    def impossible(self) -> bool:
        """True when no unit on the grid computes XOR."""
        return not self.xor_found


def xor_impossible(
    weights: Sequence[int] = range(-3, 4),
    thresholds: Sequence[int] = range(-4, 5),
    inhibitory: bool = True,
) -> XorSearchResult:
    """Exhaustively search single McCulloch-Pitts units of two inputs for one that computes XOR.

    Every pair of weights from ``weights``, every threshold from ``thresholds`` and (when
    ``inhibitory``) every set of inhibitory inputs is tried on the four inputs of ``XOR_INPUTS``.
    On the default grid the search realizes 14 of the 16 Boolean functions of two inputs -- all the
    linearly separable ones -- and misses exactly XOR ``(0, 1, 1, 0)`` and XNOR ``(1, 0, 0, 1)``.
    No real weights would help either: XOR needs ``0 < theta``, ``w1 >= theta``, ``w2 >= theta``
    and ``w1 + w2 < theta``, but the middle two give ``w1 + w2 >= 2 theta > theta``.

    Args:
        weights: candidate integer weights for each input.
        thresholds: candidate integer thresholds.
        inhibitory: also try each subset of the inputs as absolute inhibitors.

    Returns:
        An ``XorSearchResult``; ``result.impossible`` is True when no unit computes XOR.

    Example:
        >>> xor_impossible().impossible
        True
    """
    xor = tuple(XOR_TARGETS.tolist())
    inhibitor_sets: list[tuple[int, ...]] = [()]
    if inhibitory:
        inhibitor_sets += [(0,), (1,), (0, 1)]
    found: dict[tuple[int, ...], McCullochPitts] = {}
    checked = 0
    for w1, w2, theta, inhib in itertools.product(weights, weights, thresholds, inhibitor_sets):
        unit = McCullochPitts([w1, w2], threshold=theta, inhibitory=inhib)
        table = tuple(unit(XOR_INPUTS).tolist())
        found.setdefault(table, unit)
        checked += 1
    every = frozenset(itertools.product((0, 1), repeat=4))
    realizable = frozenset(found)
    return XorSearchResult(
        units_checked=checked,
        realizable=realizable,
        missing=every - realizable,
        xor_found=xor in realizable,
        example_units=found,
    )


# --------------------------------------------------------------------------- Perceptron
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


# --------------------------------------------------------------------------- Adaline
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


# --------------------------------------------------------------------------- XOR by backprop
@dataclass
class XorMLPResult:
    """The outcome of ``train_xor_mlp``.

    Attributes:
        model: the trained ``nn.Sequential``.
        losses: training loss after each epoch's forward pass.
        outputs: the network's output on ``XOR_INPUTS`` after training, shape ``(4,)``.
        predictions: ``outputs`` thresholded at 0.5, as 0/1.
        solved: all four XOR cases right.
        message: a one-line, human-readable summary.
    """

    model: Any = field(repr=False)
    losses: list[float]
    outputs: np.ndarray
    predictions: np.ndarray
    solved: bool
    message: str


def train_xor_mlp(
    hidden: int = 4,
    epochs: int = 2000,
    lr: float = 0.5,
    seed: int | None = 0,
    activation: str = "tanh",
    loss: str = "bce",
) -> XorMLPResult:
    """Train ``Linear(2, hidden) -> activation -> Linear(hidden, 1) -> Sigmoid`` on XOR by backprop.

    Full-batch gradient descent (``optim.SGD``) on the four points of ``XOR_INPUTS``; the gradients
    come from chainrule's autograd, i.e. the chain rule evaluated backwards over the graph.

    Args:
        hidden: width of the hidden layer (2 is the minimum; 4 trains reliably).
        epochs: full-batch steps.
        lr: SGD learning rate.
        seed: seeds the weight initialization without disturbing the package generator; None
            draws from the package generator (``manual_seed``).
        activation: hidden nonlinearity, ``"tanh"`` or ``"sigmoid"``.
        loss: ``"bce"`` (binary cross-entropy) or ``"mse"`` (mean squared error).

    Returns:
        An ``XorMLPResult``; ``result.solved`` is True when all four cases are right.

    Example:
        >>> train_xor_mlp(epochs=1500).predictions.tolist()
        [0, 1, 1, 0]
    """
    # imported here: nn, optim and functional sit on this floor or below it, and this module must
    # import before (and without) them
    from ... import functional as F
    from ... import nn, optim
    from ...tensor import Tensor

    activations = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    losses_fn = {"bce": F.binary_cross_entropy, "mse": F.mse_loss}
    if activation not in activations:
        raise ValueError(
            f"train_xor_mlp: unknown activation {activation!r}; available: tanh, sigmoid."
        )
    if loss not in losses_fn:
        raise ValueError(f"train_xor_mlp: unknown loss {loss!r}; available: bce, mse.")
    if hidden < 1 or epochs < 1 or lr <= 0:
        raise ValueError(
            f"train_xor_mlp: need hidden >= 1, epochs >= 1 and lr > 0, got hidden={hidden}, "
            f"epochs={epochs}, lr={lr}."
        )

    saved_state = backend.get_rng_state()
    if seed is not None:
        backend.set_rng_state(np.random.default_rng(seed).bit_generator.state)
    try:
        model = nn.Sequential(
            nn.Linear(2, hidden), activations[activation](), nn.Linear(hidden, 1), nn.Sigmoid()
        )
    finally:
        if seed is not None:
            backend.set_rng_state(saved_state)

    x = Tensor(XOR_INPUTS, dtype=backend.default_dtype())
    target = Tensor(XOR_TARGETS.reshape(4, 1), dtype=backend.default_dtype())
    optimizer = optim.SGD(model.parameters(), lr=lr)
    criterion = losses_fn[loss]
    history: list[float] = []
    model.train()
    for _ in range(epochs):
        optimizer.zero_grad()
        objective = criterion(model(x), target)
        objective.backward()
        optimizer.step()
        history.append(float(objective.item()))

    model.eval()
    outputs = np.asarray(model(x).detach().numpy(), dtype=np.float64).reshape(-1)
    predictions = (outputs > 0.5).astype(np.int64)
    solved = bool(np.array_equal(predictions, XOR_TARGETS))
    verdict = "solves XOR" if solved else "does not solve XOR yet (try more epochs or another seed)"
    message = (
        f"MLP 2-{hidden}-1 ({activation}, {loss}) after {epochs} epochs: loss {history[-1]:.4g}, "
        f"outputs {np.round(outputs, 3).tolist()} -> {verdict}."
    )
    return XorMLPResult(
        model=model,
        losses=history,
        outputs=outputs,
        predictions=predictions,
        solved=solved,
        message=message,
    )
