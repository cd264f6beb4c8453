"""Samplers: the order in which a `DataLoader` visits dataset positions.

Random samplers draw their numbers when iteration starts, from the generator given to them or else
from the package generator (``chainrule.backend.get_rng()``), so ``manual_seed`` fixes the order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from chainrule.backend import get_rng

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


def _length_of(data_source: Any) -> int:
    if isinstance(data_source, (int, np.integer)):
        n = int(data_source)
    else:
        n = len(data_source)
    if n < 0:
        raise ValueError(f"sampler: the data source length must be >= 0, got {n}.")
    return n


class Sampler:
    """Base class: an iterable of dataset positions with a known length."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__.")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__.")


class SequentialSampler(Sampler):
    """Positions ``0, 1, ..., n-1`` in order.

    Args:
        data_source: a dataset (its length is used) or the length itself.

    Example:
        >>> list(SequentialSampler(3))
        [0, 1, 2]
    """

    def __init__(self, data_source: Any) -> None:
        self.num_samples = _length_of(data_source)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.num_samples))

    def __len__(self) -> int:
        return self.num_samples


class RandomSampler(Sampler):
    """A random permutation of the positions, or draws with replacement.

    Args:
        data_source: a dataset (its length is used) or the length itself.
        replacement: draw positions independently with replacement. Default: False.
        num_samples: how many positions to yield; default: the dataset length. Without
            replacement, a value above the length chains several permutations.
        generator: random source; default: the package generator at iteration time.

    Example:
        >>> sorted(RandomSampler(4, generator=np.random.default_rng(0)))
        [0, 1, 2, 3]
    """

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        self.n = _length_of(data_source)
        self.replacement = bool(replacement)
        self.num_samples = self.n if num_samples is None else int(num_samples)
        if self.num_samples < 0:
            raise ValueError(f"RandomSampler: num_samples must be >= 0, got {self.num_samples}.")
        if self.n == 0 and self.num_samples > 0:
            raise ValueError("RandomSampler: cannot draw samples from an empty data source.")
        self.generator = generator

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        if self.replacement:
            return rng.integers(0, self.n, size=self.num_samples)
        full, rest = divmod(self.num_samples, max(self.n, 1))
        parts = [rng.permutation(self.n) for _ in range(full)]
        if rest:
            parts.append(rng.permutation(self.n)[:rest])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        rng = self.generator if self.generator is not None else get_rng()
        return iter(self._draw(rng).tolist())

    def __len__(self) -> int:
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """Positions drawn with probability proportional to ``weights``.

    Args:
        weights: one non-negative weight per dataset position (need not sum to 1).
        num_samples: how many positions to draw per epoch.
        replacement: draw with replacement. Default: True. Without it, ``num_samples`` must not
            exceed the number of positive weights.
        generator: random source; default: the package generator at iteration time.

    Example:
        >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=np.random.default_rng(0))
        >>> list(s)
        [1, 1, 1, 1]
    """

    def __init__(
        self,
        weights: Sequence[float] | np.ndarray,
        num_samples: int,
        replacement: bool = True,
        generator: np.random.Generator | None = None,
    ) -> None:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be a non-empty sequence of finite, "
                f"non-negative numbers with a positive sum, got {w[:8].tolist()}"
                f"{' ...' if w.size > 8 else ''}."
            )
        self.num_samples = int(num_samples)
        if self.num_samples < 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples must be >= 0, got {self.num_samples}."
            )
        positive = int(np.count_nonzero(w))
        if not replacement and self.num_samples > positive:
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {self.num_samples} samples without "
                f"replacement from {positive} positions with positive weight."
            )
        self.weights = w
        self.replacement = bool(replacement)
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = self.generator if self.generator is not None else get_rng()
        p = self.weights / self.weights.sum()
        draws = rng.choice(p.size, size=self.num_samples, replace=self.replacement, p=p)
        return iter(draws.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the positions of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: any iterable of positions with a length.
        batch_size: positions per batch (>= 1).
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(5), 2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(
                f"BatchSampler: batch_size must be an integer >= 1, got {batch_size!r}."
            )
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)
