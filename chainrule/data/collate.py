"""Collate: turn a list of samples into one batch of arrays.

Samples may be arrays, numbers, strings, or tuples/lists/dicts of these, nested. Arrays of equal
shape are stacked; arrays whose shapes differ (variable-length sequences) are padded to the
largest size along every axis with ``padding_value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.backend import default_dtype

__all__ = ["default_collate", "pad_batch"]


def pad_batch(
    arrays: Sequence[Any],
    padding_value: float = 0,
    max_length: int | None = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack arrays of different sizes into one array padded at the end of every axis.

    Args:
        arrays: arrays with the same number of dimensions, e.g. token-id sequences of shape
            ``(T_i,)`` or feature sequences ``(T_i, F)``.
        padding_value: value written into the padding.
        max_length: pad (or cut) axis 0 to this length instead of the longest one.
        dtype: dtype of the result; default: the common dtype of the inputs.

    Returns:
        ``(padded, lengths)``: padded has shape ``(N, L, ...)``; lengths (int64, shape ``(N,)``)
        holds each array's axis-0 length after cutting.

    Example:
        >>> padded, lengths = pad_batch([np.array([1, 2, 3]), np.array([4])])
        >>> padded.tolist(), lengths.tolist()
        ([[1, 2, 3], [4, 0, 0]], [3, 1])
    """
    items = [np.asarray(a) for a in arrays]
    if not items:
        raise ValueError("pad_batch: expected at least one array, got none.")
    ndims = {a.ndim for a in items}
    if len(ndims) != 1 or 0 in ndims:
        shapes = [a.shape for a in items[:6]]
        raise ValueError(
            "pad_batch: all arrays must have the same number (>= 1) of dimensions, "
            f"got shapes {shapes}{' ...' if len(items) > 6 else ''}."
        )
    shape = np.max([a.shape for a in items], axis=0)
    if max_length is not None:
        if max_length < 0:
            raise ValueError(f"pad_batch: max_length must be >= 0, got {max_length}.")
        shape[0] = max_length
    out_dtype = np.result_type(*items) if dtype is None else np.dtype(dtype)
    out = np.full((len(items), *shape.tolist()), padding_value, dtype=out_dtype)
    lengths = np.empty(len(items), dtype=np.int64)
    for k, a in enumerate(items):
        a = a[: shape[0]]
        lengths[k] = a.shape[0]
        out[(k, *tuple(slice(0, s) for s in a.shape))] = a
    return out, lengths


def _collate_arrays(items: list[np.ndarray], padding_value: float) -> np.ndarray:
    first = items[0].shape
    if all(a.shape == first for a in items):
        return np.stack(items)
    return pad_batch(items, padding_value=padding_value)[0]


def _is_number_list(batch: Sequence[Any]) -> bool:
    """True when every sample is a list of plain numbers (a token-id sequence, say)."""
    for b in batch:
        if not isinstance(b, list):
            return False
        for v in b:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
                return False
    return True


def _number_lists_to_arrays(batch: Sequence[list]) -> list[np.ndarray]:
    integral = all(isinstance(v, (int, np.integer)) for b in batch for v in b)
    dtype = np.int64 if integral else default_dtype()
    return [np.asarray(b, dtype=dtype) for b in batch]


def default_collate(batch: Sequence[Any], padding_value: float = 0) -> Any:
    """Merge a list of samples into a batch, following the structure of the first sample.

    Args:
        batch: the samples, all with the same structure.
        padding_value: fill used when array samples have different shapes.

    Returns:
        arrays -> one array with a new leading axis (padded if shapes differ); Python ints ->
        int64 array; Python floats -> array of the default dtype; bools -> bool array;
        strings -> list of strings; lists of numbers -> a padded array (they are sequences);
        other tuples/lists -> tuple (or namedtuple) of collated fields;
        dicts -> dict of collated values; ``None`` -> ``None``.

    Example:
        >>> x, y = default_collate([(np.zeros(2), 1), (np.ones(2), 0)])
        >>> x.shape, y.tolist()
        ((2, 2), [1, 0])
    """
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch.")
    elem = batch[0]
    if elem is None:
        return None
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic):
        return _collate_arrays([np.asarray(b) for b in batch], padding_value)
    if isinstance(elem, bool):
        return np.asarray(batch, dtype=bool)
    if isinstance(elem, int):
        return np.asarray(batch, dtype=np.int64)
    if isinstance(elem, float):
        return np.asarray(batch, dtype=default_dtype())
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        missing = [k for b in batch for k in elem if k not in b]
        if missing:
            raise ValueError(
                f"default_collate: every dict sample needs the keys {sorted(map(str, elem))}; "
                f"key {missing[0]!r} is missing from at least one sample."
            )
        return {key: default_collate([b[key] for b in batch], padding_value) for key in elem}
    if isinstance(elem, list) and _is_number_list(batch):
        return _collate_arrays(_number_lists_to_arrays(batch), padding_value)
    if isinstance(elem, (tuple, list)):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise ValueError(
                f"default_collate: every sample must have {size} fields like the first one, "
                f"got lengths {sorted({len(b) for b in batch})}."
            )
        fields = [default_collate([b[i] for b in batch], padding_value) for i in range(size)]
        if hasattr(elem, "_fields"):
            return type(elem)(*fields)
        return tuple(fields)
    if hasattr(elem, "__array__"):
        return _collate_arrays([np.asarray(b) for b in batch], padding_value)
    raise TypeError(
        "default_collate: samples must be arrays, numbers, strings, or tuples/lists/dicts of "
        f"them, got {type(elem).__name__}."
    )
