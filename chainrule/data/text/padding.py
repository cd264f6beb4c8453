"""Fixed-length sequences: pad or truncate lists of token ids into one matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(
    sequences: Sequence[Sequence[int] | np.ndarray],
    maxlen: int | None = None,
    padding: str = "post",
    truncating: str = "post",
    value: int | float = 0,
    dtype: Any = np.int64,
) -> np.ndarray:
    """Stack sequences into an ``(N, maxlen)`` array, padding short ones and cutting long ones.

    Args:
        sequences: lists or 1-D arrays of token ids.
        maxlen: the length; default: the longest sequence.
        padding: ``"post"`` adds the padding at the end, ``"pre"`` at the start.
        truncating: ``"post"`` cuts the end of long sequences, ``"pre"`` the start.
        value: the padding value (0 is ``<pad>`` in a default `Vocabulary`).
        dtype: result dtype.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2).tolist()
        [[1, 2], [4, 0]]
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="pre", truncating="pre").tolist()
        [[2, 3], [0, 4]]
    """
    for name, choice in (("padding", padding), ("truncating", truncating)):
        if choice not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', got {choice!r}.")
    arrays = [np.asarray(s).reshape(-1) for s in sequences]
    length = max((a.size for a in arrays), default=0) if maxlen is None else int(maxlen)
    if length < 0:
        raise ValueError(f"pad_sequences: maxlen must be >= 0, got {maxlen}.")
    out = np.full((len(arrays), length), value, dtype=dtype)
    for i, a in enumerate(arrays):
        if length == 0:
            continue
        cut = a[:length] if truncating == "post" else a[-length:]
        if padding == "post":
            out[i, : cut.size] = cut
        else:
            out[i, length - cut.size :] = cut
    return out
