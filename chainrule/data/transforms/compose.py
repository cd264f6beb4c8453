"""`Compose`: chain batch transforms, sharing one random generator."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.backend import get_rng

__all__ = ["Compose"]


def _takes_rng(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "rng" in params


class Compose:
    """Apply transforms in order; those with an ``rng`` parameter receive the same generator.

    Args:
        transforms: callables taking a batch (and optionally ``rng=``) and returning a batch.

    Example:
        >>> from chainrule.data.transforms import ImageAugmenter, ToFloat
        >>> t = Compose([ImageAugmenter(rotation_range=10), ToFloat()])
        >>> t(np.zeros((2, 1, 8, 8), np.uint8), rng=np.random.default_rng(0)).dtype
        dtype('float32')
    """

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}.")
        self._rng_flags = [_takes_rng(t) for t in self.transforms]

    def __call__(self, batch: Any, rng: np.random.Generator | None = None) -> Any:
        rng = rng if rng is not None else get_rng()
        for t, wants_rng in zip(self.transforms, self._rng_flags, strict=True):
            batch = t(batch, rng=rng) if wants_rng else t(batch)
        return batch

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"
