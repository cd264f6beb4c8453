"""McCulloch-Pitts threshold units (1943), the search showing no single unit computes XOR, and XOR
from two layers of them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._common import XOR_INPUTS, XOR_TARGETS

__all__ = [
    "McCullochPitts",
    "McCullochPittsNetwork",
    "XorSearchResult",
    "xor_impossible",
    "xor_network",
]


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
