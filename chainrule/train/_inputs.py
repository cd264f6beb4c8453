"""Floor 6: what ``fit``/``evaluate``/``predict`` accept as data, turned into batches of arrays.

Accepted: a ``DataLoader`` (or any re-iterable of ``(x, y)`` batches, such as a list), a
one-shot iterator or generator of batches, a ``Dataset``, or arrays given Keras style as a
*tuple* ``(x, y)`` (or ``x`` alone for ``predict``), batched here with ``batch_size``. A list
is always a list of batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .. import functional as F
from ..data import DataLoader, Dataset, TensorDataset
from ..tensor import Tensor

__all__ = [
    "BatchSource",
    "as_batch_source",
    "split_batch",
    "batch_length",
    "to_tensors",
    "param_dtype",
]


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, Tensor)) or type(value).__module__.startswith("cupy")


def _host(value: Any) -> Any:
    if isinstance(value, Tensor):
        value = value.data
    return value.get() if type(value).__module__.startswith("cupy") else value


class BatchSource:
    """Batches for one epoch at a time.

    A re-iterable (a loader, a list) starts over each epoch; a one-shot iterator is drawn from
    across epochs, so with ``steps_per_epoch`` a generator can feed many epochs.

    Attributes:
        steps: batches per epoch when known (``len``), else None.
    """

    def __init__(self, data: Iterable[Any], caller: str) -> None:
        self.data = data
        self.caller = caller
        self.one_shot = isinstance(data, Iterator)
        self._iterator: Iterator[Any] | None = None
        try:
            self.steps: int | None = None if self.one_shot else len(data)  # type: ignore[arg-type]
        except TypeError:
            self.steps = None

    def epoch(self) -> Iterator[Any]:
        """An iterator over the next epoch's batches."""
        if self.one_shot:
            if self._iterator is None:
                self._iterator = iter(self.data)
            return self._iterator
        return iter(self.data)


def as_batch_source(
    data: Any, batch_size: int, shuffle: bool, caller: str, targets: bool = True
) -> BatchSource:
    """Wrap any accepted form of data into a ``BatchSource``.

    Args:
        data: see the module docstring.
        batch_size: batch size for arrays and datasets.
        shuffle: shuffle arrays and datasets each epoch.
        caller: ``"Trainer.fit"`` and so on, for messages.
        targets: whether the arrays must come as ``(x, y)`` (False for ``predict``).

    Raises:
        TypeError: data of an unsupported kind.
        ValueError: arrays of different lengths, or a bad batch size.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"{caller}: batch_size must be an integer >= 1, got {batch_size!r}.")
    if batch_size < 1:
        raise ValueError(f"{caller}: batch_size must be an integer >= 1, got {batch_size!r}.")
    if _is_array(data):
        if targets:
            raise TypeError(
                f"{caller}: got a single array; pass (x, y) arrays, a DataLoader, or an iterable "
                "of (x, y) batches."
            )
        data = (data,)
    if isinstance(data, tuple) and data and all(_is_array(a) for a in data):
        arrays = [_host(a) for a in data]
        if targets and len(arrays) != 2:
            raise ValueError(
                f"{caller}: expected arrays (x, y), got a tuple of {len(arrays)} arrays."
            )
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ValueError(
                f"{caller}: x and y must have as many rows, got arrays of shapes {shapes}."
            )
        loader = DataLoader(TensorDataset(*arrays), batch_size=int(batch_size), shuffle=shuffle)
        return BatchSource(loader, caller)
    if isinstance(data, Dataset):
        return BatchSource(DataLoader(data, batch_size=int(batch_size), shuffle=shuffle), caller)
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes, dict)):
        return BatchSource(data, caller)
    raise TypeError(
        f"{caller}: expected a DataLoader, an iterable of (x, y) batches, a Dataset or arrays "
        f"(x, y), got {type(data).__name__}."
    )


def split_batch(batch: Any, caller: str, targets: bool = True) -> tuple[Any, Any]:
    """``(x, y)`` of a batch; ``y`` is None for a bare input batch when targets are optional."""
    if isinstance(batch, dict) and "x" in batch:
        return batch["x"], batch.get("y")
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1 and not targets:
            return batch[0], None
        raise ValueError(
            f"{caller}: each batch must be a pair (x, y), got a {type(batch).__name__} of "
            f"{len(batch)} items. Use a collate_fn that returns (inputs, targets)."
        )
    if not targets:
        return batch, None
    raise ValueError(
        f"{caller}: each batch must be a pair (x, y), got a {type(batch).__name__}; "
        "training and evaluation need targets. (Whole arrays go in a tuple: fit((x, y)); a list "
        "is read as a list of batches.)"
    )


def batch_length(x: Any, y: Any) -> int:
    """Number of examples in a batch: the first dimension of ``y`` (else of ``x``)."""
    for value in (y, x[0] if isinstance(x, (tuple, list)) else x):
        shape = getattr(value, "shape", None)
        if shape:
            return int(shape[0])
    return 1


def param_dtype(model: Any) -> Any:
    """The dtype of the model's first floating parameter (None if it has none)."""
    for p in model.parameters():
        if p.dtype.kind == "f":
            return p.dtype
    return None


def to_tensors(value: Any, dtype: Any, device: str | None) -> Any:
    """A batch array (or a tuple/list of them) as Tensors on ``device``; floats cast to ``dtype``.

    Integer arrays (class indices, token ids) keep their dtype; values that are not arrays pass
    through unchanged.
    """
    if isinstance(value, (tuple, list)):
        return type(value)(to_tensors(v, dtype, device) for v in value)
    if isinstance(value, Tensor):
        t = value
    elif isinstance(value, np.ndarray) or type(value).__module__.startswith("cupy"):
        if dtype is not None and value.dtype.kind == "f" and value.dtype != dtype:
            value = value.astype(dtype)
        t = Tensor._make(value)
    else:
        return value
    if device is not None and t.device.split(":")[0] != device.split(":")[0]:
        t = F.to_device(t, device)
    return t
