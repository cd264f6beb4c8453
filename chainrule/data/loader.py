"""`DataLoader`: batches of arrays from a dataset, shuffled, optionally prefetched in a thread.

Determinism: when an epoch starts (``iter(loader)``), the loader fixes the epoch's batches of
positions and, if it has a batch transform, draws one seed for it, all in the calling thread and
from the loader's ``generator`` or else the package generator. A prefetch thread therefore yields
exactly the batches the loader would yield without it, and ``manual_seed`` repeats an epoch.
"""

from __future__ import annotations

import inspect
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from chainrule.backend import get_rng
from chainrule.data.collate import default_collate
from chainrule.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]

_POLL_S = 0.1  # how often a blocked prefetch thread checks whether it was told to stop


def _accepts_rng(fn: Callable) -> bool:
    """Whether ``fn`` takes an ``rng`` keyword (then it gets the loader's epoch generator)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "rng" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class DataLoader:
    """Iterates over a dataset in batches.

    Args:
        dataset: an indexable dataset (``len`` and ``[i]``). If it also has
            ``get_batch(indices)`` (e.g. `TensorDataset`) and no ``collate_fn`` is given, whole
            batches are gathered with one fancy-indexing call.
        batch_size: samples per batch. Default: 1.
        shuffle: visit the samples in a new random order each epoch. Default: False.
        sampler: the order of positions (overrides ``shuffle``).
        batch_sampler: yields whole lists of positions (overrides ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        drop_last: drop the last, smaller batch. Default: False.
        collate_fn: merges a list of samples into a batch; default `default_collate` (stacks
            arrays, pads variable-length sequences, keeps tuple/dict structure).
        batch_transform: applied to each collated batch, e.g. an `ImageAugmenter` (which changes
            only the images of an ``(images, labels)`` batch). If it takes an ``rng`` keyword it
            receives a generator seeded once per epoch by the loader.
        prefetch: number of batches a background thread prepares ahead; 0 (default) prepares
            them in the calling thread.
        generator: random source for shuffling and batch transforms; default: the package
            generator (``chainrule.backend.get_rng()``) at the start of each epoch.

    Example:
        >>> from chainrule.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10).reshape(5, 2), np.arange(5))
        >>> [y.tolist() for _, y in DataLoader(ds, batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        sampler: Sampler | Sequence[int] | None = None,
        batch_sampler: Any = None,
        drop_last: bool = False,
        collate_fn: Callable[[list], Any] | None = None,
        batch_transform: Callable[..., Any] | None = None,
        prefetch: int = 0,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                "DataLoader: dataset must define __len__ and __getitem__, "
                f"got {type(dataset).__name__}."
            )
        if not isinstance(prefetch, (int, np.integer)) or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch must be an integer >= 0, got {prefetch!r}.")
        if batch_sampler is not None:
            if sampler is not None or shuffle or drop_last or batch_size != 1:
                raise ValueError(
                    "DataLoader: batch_sampler already decides the batches; leave batch_size, "
                    "shuffle, sampler and drop_last at their defaults."
                )
        else:
            if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
                raise ValueError(
                    f"DataLoader: batch_size must be an integer >= 1, got {batch_size!r}."
                )
            if sampler is not None and shuffle:
                raise ValueError("DataLoader: give either sampler or shuffle=True, not both.")
            if sampler is None:
                if shuffle:
                    sampler = RandomSampler(dataset, generator=generator)
                else:
                    sampler = SequentialSampler(dataset)
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.batch_transform = batch_transform
        self.prefetch = int(prefetch)
        self.generator = generator
        self._transform_takes_rng = batch_transform is not None and _accepts_rng(batch_transform)

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def _make_batch(self, indices: list[int], rng: np.random.Generator | None) -> Any:
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            batch = self.dataset.get_batch(np.asarray(indices, dtype=np.int64))
        else:
            collate = self.collate_fn if self.collate_fn is not None else default_collate
            batch = collate([self.dataset[i] for i in indices])
        if self.batch_transform is not None:
            if self._transform_takes_rng:
                batch = self.batch_transform(batch, rng=rng)
            else:
                batch = self.batch_transform(batch)
        return batch

    def __iter__(self) -> Iterator[Any]:
        plan = [list(b) for b in self.batch_sampler]
        rng = None
        if self._transform_takes_rng:
            source = self.generator if self.generator is not None else get_rng()
            rng = np.random.default_rng(int(source.integers(0, 2**63 - 1)))
        if self.prefetch > 0 and plan:
            return _PrefetchIterator(self, plan, rng)
        return (self._make_batch(indices, rng) for indices in plan)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}(len={len(self.dataset)}), "
            f"batch_size={self.batch_size}, batches={len(self)}, prefetch={self.prefetch})"
        )


class _PrefetchIterator:
    """Builds batches in a daemon thread, at most ``loader.prefetch`` ahead of the consumer.

    An exception raised while building a batch is re-raised in the consumer. Dropping the
    iterator (or calling ``close``) stops the thread.
    """

    _DONE = object()

    def __init__(self, loader: DataLoader, plan: list[list[int]], rng: Any) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=loader.prefetch)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(
            target=self._work, args=(loader, plan, rng), name="chainrule-prefetch", daemon=True
        )
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _work(self, loader: DataLoader, plan: list[list[int]], rng: Any) -> None:
        try:
            for indices in plan:
                if self._stop.is_set():
                    return
                if not self._put(("batch", loader._make_batch(indices, rng))):
                    return
        except BaseException as err:  # handed to the consumer, which re-raises it
            self._put(("error", err))
            return
        self._put(("done", self._DONE))

    def __iter__(self) -> _PrefetchIterator:
        return self

    def __next__(self) -> Any:
        if self._finished:
            raise StopIteration
        while True:
            try:
                kind, item = self._queue.get(timeout=_POLL_S)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    self.close()
                    raise RuntimeError(
                        "DataLoader: the prefetch thread stopped without finishing the epoch."
                    ) from None
        if kind == "batch":
            return item
        self.close()
        if kind == "error":
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop the background thread and drop the batches it prepared."""
        self._finished = True
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def __del__(self) -> None:
        if not getattr(self, "_finished", True):
            self._stop.set()
