"""Argument checks shared by the kernels: int-or-pair arguments, paddings and output sizes.

Errors name the kernel, what it expected and what it received, so that a bad call from a layer
reads as a sentence rather than a NumPy traceback.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "pair",
    "padding4",
    "conv_out_size",
    "pool_out_size",
    "check_ndim",
    "check_float",
]


def pair(value: Any, name: str, where: str, minimum: int = 1) -> tuple[int, int]:
    """Turn an int or a 2-sequence of ints into a pair, checking each is at least ``minimum``."""
    if isinstance(value, (int, np.integer)):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        out = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{where}: {name} must be an int or a pair of ints, got {value!r}.")
    if min(out) < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value!r}.")
    return out


def padding4(value: Any, where: str) -> tuple[int, int, int, int]:
    """Padding as (top, bottom, left, right) from an int, a pair (ph, pw) or a 4-tuple."""
    if isinstance(value, (int, np.integer)):
        out = (int(value),) * 4
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        out = (int(value[0]), int(value[0]), int(value[1]), int(value[1]))
    elif isinstance(value, (tuple, list)) and len(value) == 4:
        out = tuple(int(v) for v in value)
    else:
        raise ValueError(
            f"{where}: padding must be an int, a pair (ph, pw) or (top, bottom, left, right), "
            f"got {value!r}."
        )
    if min(out) < 0:
        raise ValueError(f"{where}: padding must be non-negative, got {value!r}.")
    return out  # type: ignore[return-value]


def conv_out_size(size: int, k: int, s: int, p_lo: int, p_hi: int, d: int, where: str) -> int:
    """Output length of a sliding window: ``(size + p_lo + p_hi - d*(k-1) - 1) // s + 1``."""
    span = d * (k - 1) + 1
    if size + p_lo + p_hi < span:
        raise ValueError(
            f"{where}: input of size {size} (padded to {size + p_lo + p_hi}) is smaller than the "
            f"kernel's reach {span} (kernel {k}, dilation {d})."
        )
    return (size + p_lo + p_hi - span) // s + 1


def pool_out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool, where: str) -> int:
    """Pooling output length (PyTorch's rule: in ceil mode the last window starts inside)."""
    span = d * (k - 1) + 1
    if 2 * p > span:
        raise ValueError(
            f"{where}: padding {p} must be at most half the kernel's reach {span} "
            f"(kernel {k}, dilation {d})."
        )
    if size + 2 * p < span:
        raise ValueError(
            f"{where}: input of size {size} (padded to {size + 2 * p}) is smaller than the "
            f"kernel's reach {span}."
        )
    num = size + 2 * p - span
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def check_ndim(x: Any, ndim: int, layout: str, where: str) -> None:
    """Raise ValueError unless ``x`` has ``ndim`` dimensions; ``layout`` names them."""
    if getattr(x, "ndim", None) != ndim:
        raise ValueError(
            f"{where}: expected a {ndim}-D array ({layout}), got shape {getattr(x, 'shape', x)}."
        )


def check_float(x: Any, where: str, name: str = "input") -> None:
    """Raise TypeError unless ``x`` is a floating-point array."""
    if getattr(getattr(x, "dtype", None), "kind", None) != "f":
        raise TypeError(
            f"{where}: {name} must be a floating-point array, got dtype "
            f"{getattr(x, 'dtype', type(x).__name__)}."
        )
