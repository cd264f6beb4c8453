"""Floor 2: functions that create tensors.

Random ones draw from the package generator, which ``manual_seed`` reseeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from .tensor import Tensor

__all__ = [
    "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn", "randint",
    "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like",
    "from_numpy",
]  # fmt: skip


def _shape(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"a shape must consist of integers, got {tuple(size)!r}.")
    shape = tuple(int(n) for n in size)
    if any(n < 0 for n in shape):
        raise ValueError(f"negative dimension in shape {shape}.")
    return shape


def _float_dtype(dtype: Any, name: str) -> np.dtype:
    dt = backend.to_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{name}: draws floating-point samples; dtype must be floating, got {dt}.")
    return dt


def _leaf(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(data, requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros. Example: `cr.zeros(2, 3).shape` is `(2, 3)`."""
    return _leaf(np.zeros(_shape(size), dtype=backend.to_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _leaf(np.ones(_shape(size), dtype=backend.to_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (fill it before use)."""
    return _leaf(np.empty(_shape(size), dtype=backend.to_dtype(dtype)), requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``."""
    shape = _shape((size,))
    if dtype is None and isinstance(fill_value, (bool, int)) and not isinstance(fill_value, float):
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64
    return _leaf(np.full(shape, fill_value, dtype=backend.to_dtype(dtype)), requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; integers give int64."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero.")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else backend.default_dtype()
    return _leaf(np.arange(start, end, step, dtype=backend.to_dtype(dtype)), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _leaf(np.linspace(start, end, steps, dtype=backend.to_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Identity matrix (n x m)."""
    return _leaf(np.eye(n, m, dtype=backend.to_dtype(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from the package generator."""
    dt = _float_dtype(dtype, "rand")
    return _leaf(backend.get_rng().random(_shape(size)).astype(dt), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the package generator."""
    dt = _float_dtype(dtype, "randn")
    return _leaf(backend.get_rng().standard_normal(_shape(size)).astype(dt), requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), dtype: Any = np.int64) -> Tensor:
    """Integers uniform on [low, high) (or [0, low) when high is None)."""
    if high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint: low must be below high, got low={low}, high={high}.")
    shape = _shape((size,))
    return Tensor(backend.get_rng().integers(low, high, size=shape).astype(backend.to_dtype(dtype)))


def _like(x: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    return arr.shape, arr.dtype if dtype is None else backend.to_dtype(dtype)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape and dtype of ``x``."""
    shape, dt = _like(x, dtype)
    return _leaf(np.zeros(shape, dtype=dt), requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape and dtype of ``x``."""
    shape, dt = _like(x, dtype)
    return _leaf(np.ones(shape, dtype=dt), requires_grad)


def empty_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialised, with the shape and dtype of ``x``."""
    shape, dt = _like(x, dtype)
    return _leaf(np.empty(shape, dtype=dt), requires_grad)


def full_like(x: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with the shape and dtype of ``x``."""
    shape, dt = _like(x, dtype)
    return _leaf(np.full(shape, fill_value, dtype=dt), requires_grad)


def rand_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples shaped like ``x``."""
    shape, dt = _like(x, dtype)
    dt = _float_dtype(dt, "rand_like")
    return _leaf(backend.get_rng().random(shape).astype(dt), requires_grad)


def randn_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples shaped like ``x``."""
    shape, dt = _like(x, dtype)
    dt = _float_dtype(dt, "randn_like")
    return _leaf(backend.get_rng().standard_normal(shape).astype(dt), requires_grad)


def randint_like(x: Any, low: int, high: int | None = None, dtype: Any = np.int64) -> Tensor:
    """Random integers shaped like ``x``."""
    shape, _ = _like(x, None)
    return randint(low, high, shape, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap a NumPy array without copying (changes to one show in the other)."""
    return Tensor(np.asarray(array))
