"""Split nested state (dicts, lists, numbers, arrays) into JSON plus a table of named arrays.

Arrays go to a safetensors file; in the JSON each is replaced by ``{"__tensor__": "its.key"}``.
Tuples come back as lists and integer dict keys as strings (as JSON has it); ``Optimizer``
and the schedulers accept both.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import CheckpointError

__all__ = ["encode", "decode", "TENSOR_KEY"]

TENSOR_KEY = "__tensor__"


def _is_array(value: Any) -> bool:
    if isinstance(value, np.ndarray) or type(value).__module__.startswith(("cupy", "torch")):
        return True
    return hasattr(value, "grad_fn") and hasattr(value, "_requires_grad")  # a chainrule Tensor


def _unique_key(arrays: dict[str, Any], key: str) -> str:
    if key not in arrays:
        return key
    n = 1
    while f"{key}~{n}" in arrays:
        n += 1
    return f"{key}~{n}"


def encode(value: Any, where: str, arrays: dict[str, Any]) -> Any:
    """A JSON-ready copy of ``value``; arrays are moved to ``arrays`` under dotted keys.

    Args:
        value: nested dicts, lists and tuples of numbers, strings, None, arrays and Tensors.
        where: the dotted path of ``value`` (the key prefix of its arrays, and used in errors).
        arrays: filled with key -> array.

    Raises:
        TypeError: a value that neither JSON nor safetensors can hold, naming its path.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    if _is_array(value):
        key = _unique_key(arrays, where)
        arrays[key] = value
        return {TENSOR_KEY: key}
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if isinstance(k, bool) or not isinstance(k, (str, numbers.Integral)):
                raise TypeError(
                    f"checkpoint: {where} has the key {k!r}; keys must be strings or integers."
                )
            out[str(k)] = encode(v, f"{where}.{k}", arrays)
        return out
    if isinstance(value, (list, tuple)):
        return [encode(v, f"{where}.{i}", arrays) for i, v in enumerate(value)]
    raise TypeError(
        f"checkpoint: cannot store {where} (a {type(value).__name__}); use numbers, strings, "
        "None, lists, dicts, arrays or Tensors."
    )


def decode(value: Any, arrays: Mapping[str, np.ndarray], source: str) -> Any:
    """Put the arrays back where ``encode`` left markers.

    Raises:
        CheckpointError: a marker names an array that ``arrays`` (read from ``source``) lacks.
    """
    if isinstance(value, dict):
        if set(value) == {TENSOR_KEY} and isinstance(value[TENSOR_KEY], str):
            key = value[TENSOR_KEY]
            if key not in arrays:
                raise CheckpointError(
                    f"{source}: the array {key!r} named in state.json is missing from the file."
                )
            return arrays[key]
        return {k: decode(v, arrays, source) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, arrays, source) for v in value]
    return value
