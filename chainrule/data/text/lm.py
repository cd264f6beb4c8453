"""Language-model batching: lay a token stream out as parallel rows, then cut BPTT windows.

``batchify`` splits a stream of ids into ``batch_size`` contiguous rows (dropping the tail that
does not fill a column), so row ``b`` continues where the previous window of row ``b`` ended and
the hidden state can be carried across windows (truncated backpropagation through time).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["batchify", "bptt_batches", "BPTTIterator"]


def batchify(ids: Sequence[int] | np.ndarray, batch_size: int) -> np.ndarray:
    """Shape a token stream into ``(batch_size, steps)``, each row a contiguous slice.

    Example:
        >>> batchify(np.arange(10), 3).tolist()
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """
    data = np.asarray(ids).reshape(-1)
    if batch_size < 1:
        raise ValueError(f"batchify: batch_size must be >= 1, got {batch_size}.")
    steps = data.size // batch_size
    if steps < 2:
        raise ValueError(
            f"batchify: {data.size} tokens give fewer than 2 steps per row for batch_size "
            f"{batch_size}; a language model needs an input and a next-token target."
        )
    return data[: steps * batch_size].reshape(batch_size, steps)


class BPTTIterator:
    """Windows ``(x, y)`` of ``bptt`` steps over a batchified stream; ``y`` is ``x`` moved by one.

    Args:
        data: ``(batch_size, steps)`` from `batchify`.
        bptt: window length (the last window may be shorter).
        time_major: yield ``(bptt, batch_size)`` arrays instead of ``(batch_size, bptt)``.

    Example:
        >>> x, y = next(iter(BPTTIterator(batchify(np.arange(10), 2), bptt=2)))
        >>> x.tolist(), y.tolist()
        ([[0, 1], [5, 6]], [[1, 2], [6, 7]])
    """

    def __init__(self, data: np.ndarray, bptt: int, time_major: bool = False) -> None:
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[1] < 2:
            raise ValueError(
                f"BPTTIterator: expected data of shape (batch_size, steps >= 2) from batchify, "
                f"got {data.shape}."
            )
        if bptt < 1:
            raise ValueError(f"BPTTIterator: bptt must be >= 1, got {bptt}.")
        self.data, self.bptt, self.time_major = data, int(bptt), bool(time_major)

    def __len__(self) -> int:
        return -(-(self.data.shape[1] - 1) // self.bptt)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        steps = self.data.shape[1]
        for start in range(0, steps - 1, self.bptt):
            length = min(self.bptt, steps - 1 - start)
            x = self.data[:, start : start + length]
            y = self.data[:, start + 1 : start + 1 + length]
            if self.time_major:
                yield np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
            else:
                yield x, y


def bptt_batches(
    data: np.ndarray, bptt: int, time_major: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Iterate over the ``(x, y)`` windows of `BPTTIterator`."""
    return iter(BPTTIterator(data, bptt, time_major))
