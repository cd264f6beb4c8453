"""Indexable datasets: the abstract `Dataset`, arrays as a dataset, subsets, concatenation, splits.

A dataset is anything with ``__len__`` and ``__getitem__(i)``. A dataset that can gather a whole
batch at once with fancy indexing also defines ``get_batch(indices)``; the `DataLoader` then skips
the per-sample loop and the collate step, which matters for in-memory arrays such as MNIST.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.backend import get_rng

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """Base class of indexable datasets: subclasses define ``__len__`` and ``__getitem__``.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i * i
        >>> [Squares()[i] for i in range(4)]
        [0, 1, 4, 9]
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__.")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _check_index(owner: str, index: Any, length: int) -> int:
    """Turn a Python or NumPy integer (negative allowed) into a valid position, or raise."""
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise TypeError(f"{owner}: index must be an integer, got {type(index).__name__}.")
    i = int(index)
    if i < 0:
        i += length
    if not 0 <= i < length:
        raise IndexError(f"{owner}: index {int(index)} is out of range for length {length}.")
    return i


class TensorDataset(Dataset):
    """Arrays that share their first dimension; item ``i`` is the tuple of their ``i``-th rows.

    Args:
        *arrays: one or more arrays (anything ``np.asarray`` accepts) with equal length.

    Example:
        >>> ds = TensorDataset(np.zeros((5, 2)), np.arange(5))
        >>> len(ds), int(ds[3][1])
        (5, 3)
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array, got none.")
        self.arrays = tuple(np.asarray(a) for a in arrays)
        for k, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {k} is a scalar; expected shape (N, ...).")
        lengths = [a.shape[0] for a in self.arrays]
        if len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(
                f"TensorDataset: all arrays must have the same first dimension, got shapes {shapes}."  # noqa: E501
            )

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        i = _check_index("TensorDataset", index, len(self))
        return tuple(a[i] for a in self.arrays)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, ...]:
        """Rows ``indices`` of every array, gathered in one fancy-indexing call each."""
        idx = np.asarray(indices, dtype=np.int64)
        return tuple(a[idx] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The items of ``dataset`` at positions ``indices``, in that order.

    Args:
        dataset: the dataset to view.
        indices: positions into ``dataset``.
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(
                f"Subset: indices must lie in [-{n}, {n}) for a dataset of length {n}, "
                f"got range [{self.indices.min()}, {self.indices.max()}]."
            )

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, index: int) -> Any:
        i = _check_index("Subset", index, len(self))
        return self.dataset[int(self.indices[i])]

    def __getattr__(self, name: str) -> Any:
        # get_batch is offered only when the wrapped dataset offers it.
        if name == "get_batch" and hasattr(self.__dict__.get("dataset"), "get_batch"):
            return self._get_batch
        raise AttributeError(f"'Subset' object has no attribute {name!r}")

    def _get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        return self.dataset.get_batch(self.indices[np.asarray(indices, dtype=np.int64)])


class ConcatDataset(Dataset):
    """Several datasets one after another.

    Args:
        datasets: the datasets; item ``i`` comes from the first dataset whose cumulative length
            exceeds ``i``.

    Example:
        >>> a, b = TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))
        >>> ds = ConcatDataset([a, b])
        >>> len(ds), int(ds[4][0])
        (5, 11)
    """

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset, got an empty list.")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index: int) -> Any:
        i = _check_index("ConcatDataset", index, len(self))
        k = bisect.bisect_right(self.cumulative_sizes, i)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][i - start]


def _split_lengths(lengths: Sequence[int | float], n: int) -> list[int]:
    """Integer lengths from counts, or from fractions summing to 1 (remainder spread round-robin)."""  # noqa: E501
    values = list(lengths)
    if not values:
        raise ValueError("random_split: lengths must not be empty.")
    if all(isinstance(v, (int, np.integer)) for v in values):
        counts = [int(v) for v in values]
        if any(c < 0 for c in counts) or sum(counts) != n:
            raise ValueError(
                f"random_split: lengths {counts} must be non-negative and sum to the dataset "
                f"length {n} (they sum to {sum(counts)})."
            )
        return counts
    fractions = [float(v) for v in values]
    if any(f < 0 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split: fractions {fractions} must be non-negative and sum to 1, "
            f"got sum {sum(fractions)}."
        )
    counts = [int(math.floor(n * f)) for f in fractions]
    for k in range(n - sum(counts)):
        counts[k % len(counts)] += 1
    return counts


def random_split(
    dataset: Any,
    lengths: Sequence[int | float],
    generator: np.random.Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: item counts summing to ``len(dataset)``, or fractions summing to 1.
        generator: random source; default: the package generator (``manual_seed`` fixes it).

    Returns:
        One `Subset` per entry of ``lengths``.

    Example:
        >>> train, val = random_split(TensorDataset(np.arange(10)), [0.8, 0.2])
        >>> len(train), len(val)
        (8, 2)
    """
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    rng = generator if generator is not None else get_rng()
    order = rng.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, order[bounds[k] : bounds[k + 1]]) for k in range(len(counts))]
