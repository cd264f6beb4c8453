"""Gradients still being computed in the background while the backward pass walks on.

A convolution's weight gradient is off the backward pass's critical path: nothing but the
optimizer reads it. During ``Tensor.backward`` the kernels may therefore hand its slabs to the
kernel threads as background work and return the (not yet written) array at once; the threads
then fill the moments the walk spends in Python. The autograd engine allows this only inside its
walk (``allowed``), stores such an array as a leaf's ``.grad`` without reading it, and calls
``flush`` before it reads one in any other way and when the walk ends, so no caller ever sees an
unfinished gradient.

This module only keeps the bookkeeping (no NumPy, no numba), so the engine can import it cheaply;
the kernels register the function that finishes their background work (``on_flush``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["allowed", "is_allowed", "mark", "pending", "flush", "on_flush"]

_local = threading.local()
_pending: set[int] = set()  # id() of the arrays owning the memory of unfinished results
_finishers: list[Callable[[], None]] = []


def _owner(array: Any) -> Any:
    base = getattr(array, "base", None)
    return array if base is None else base


@contextmanager
def allowed(enabled: bool = True) -> Iterator[None]:
    """Within this block (on this thread) kernels may leave results to the background.

    Everything left is finished on the way out, also when the block raises.
    """
    before = getattr(_local, "allowed", False)
    _local.allowed = enabled
    try:
        yield
    finally:
        _local.allowed = before
        flush()


def is_allowed() -> bool:
    """Whether the calling thread is inside ``allowed()``."""
    return getattr(_local, "allowed", False)


def mark(array: Any) -> None:
    """Record that ``array`` (and every view of its memory) is written in the background."""
    _pending.add(id(_owner(array)))


def pending(array: Any) -> bool:
    """Whether ``array`` is (a view of) a result still being written in the background."""
    return bool(_pending) and id(_owner(array)) in _pending


def on_flush(finish: Callable[[], None]) -> None:
    """Register the call that completes all background work (the kernel thread team's)."""
    if finish not in _finishers:
        _finishers.append(finish)


def flush() -> None:
    """Finish all background work; every marked array is complete afterwards."""
    if not _pending:
        return
    try:
        for finish in _finishers:
            finish()
    finally:
        _pending.clear()
