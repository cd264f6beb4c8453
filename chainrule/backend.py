"""Floor 1: the array module, default dtype, device names and the package's random generator.

Everything above this file asks here for ``xp`` (NumPy on the CPU, CuPy on a GPU) and for random
numbers, so that ``manual_seed`` makes every random source of the package repeatable.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = [
    "config",
    "default_dtype",
    "get_array_module",
    "get_rng",
    "manual_seed",
    "get_rng_state",
    "set_rng_state",
    "set_default_dtype",
    "to_dtype",
    "device_of",
]


class _Config:
    """Package-wide switches (the only global state chainrule keeps).

    Attributes:
        use_numba: run the numba-compiled kernels; ``False`` selects the plain NumPy fallbacks.
            The environment variable ``CHAINRULE_NO_NUMBA=1`` sets it to ``False`` at import.
        default_dtype: dtype of floating tensors made without an explicit dtype.
    """

    def __init__(self) -> None:
        self.use_numba: bool = os.environ.get("CHAINRULE_NO_NUMBA", "0") in ("", "0", "false")
        self.default_dtype: np.dtype = np.dtype(np.float32)

    def __repr__(self) -> str:
        return f"config(use_numba={self.use_numba}, default_dtype={self.default_dtype})"


config = _Config()

_rng: np.random.Generator = np.random.default_rng()
_seed: int | None = None


def default_dtype() -> np.dtype:
    """The dtype given to floating tensors made without one (float32 unless changed)."""
    return config.default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of new floating tensors, e.g. ``set_default_dtype("float64")`` for checks."""
    dt = to_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}.")
    config.default_dtype = dt


def to_dtype(dtype: Any) -> np.dtype:
    """Turn a name ('float32'), a NumPy type, or None (the default dtype) into a ``np.dtype``."""
    if dtype is None:
        return config.default_dtype
    try:
        return np.dtype(dtype)
    except TypeError as err:
        hint = "use e.g. 'float32', 'float64', 'int64'"
        raise TypeError(f"unknown dtype {dtype!r}; {hint}.") from err


def get_array_module(*arrays: Any) -> Any:
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    for a in arrays:
        if type(a).__module__.startswith("cupy"):
            import cupy

            return cupy
    return np


def device_of(array: Any) -> str:
    """Device name of a raw array: ``'cpu'`` or ``'cuda:N'``."""
    if type(array).__module__.startswith("cupy"):
        return f"cuda:{array.device.id}"
    return "cpu"


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random source the package uses (initializers, dropout, shuffling, augmentation).

    Also seeds NumPy's legacy global generator and Python's ``random``, for user code that mixes
    them. Example: ``cr.manual_seed(0); a = cr.randn(3)`` twice gives the same ``a``.
    """
    global _rng, _seed
    import random

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}.")
    _seed = int(seed)
    _rng = np.random.default_rng(_seed)
    np.random.seed(_seed % 2**32)
    random.seed(_seed)
    return _rng


def get_rng() -> np.random.Generator:
    """The package's random generator (reseeded by ``manual_seed``)."""
    return _rng


def get_rng_state() -> dict:
    """A JSON-serialisable snapshot of the package generator, for checkpoints."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a snapshot taken by ``get_rng_state``."""
    _rng.bit_generator.state = state
