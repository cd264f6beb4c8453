"""Run BLAS on fewer threads in the calling thread, for GEMMs too small to split well.

The per-step GEMMs are small ((B, H) @ (H, G*H)). Split over threads, each call pays a thread
handshake, and on a busy machine one descheduled partner stalls every step: measured 10-40x slower
than one thread under load. OpenBLAS (0.3.27+) can set the thread count of the calling thread
only; the step loops use one thread when a step's GEMM is below _SMALL_GEMM multiply-adds, and the
large GEMMs (input projection, weight gradients) keep every thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["BlasThreads", "blas_set_threads_local", "step_threads"]

_SMALL_GEMM = 1 << 24
_set_threads_local: Any = None
_looked_up = False


def blas_set_threads_local() -> Any:
    """``openblas_set_num_threads_local`` of the OpenBLAS NumPy uses, or None if unavailable."""
    global _set_threads_local, _looked_up
    if _looked_up:
        return _set_threads_local
    _looked_up = True
    try:
        import ctypes
        import glob
        import os

        base = os.path.dirname(np.__file__)
        patterns = (
            "../numpy.libs/*openblas*.so*",
            ".dylibs/*openblas*.dylib",
            "../numpy.libs/*.dll",
        )
        for pattern in patterns:
            for path in glob.glob(os.path.join(base, pattern)):
                fn = getattr(ctypes.CDLL(path), "openblas_set_num_threads_local", None)
                if fn is not None:
                    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
                    _set_threads_local = fn
                    return fn
    except Exception:  # noqa: BLE001 - any failure means "leave the thread count alone"
        _set_threads_local = None
    return _set_threads_local


class BlasThreads:
    """``with BlasThreads(n):`` runs BLAS on ``n`` threads in this thread (no-op if n is None)."""

    def __init__(self, n: int | None) -> None:
        self.fn = blas_set_threads_local() if n is not None else None
        self.n, self.prev = n, None

    def __enter__(self) -> None:
        if self.fn is not None:
            self.prev = self.fn(self.n)

    def __exit__(self, *exc: object) -> None:
        if self.fn is not None and self.prev is not None and self.prev > 0:
            self.fn(self.prev)


def step_threads(B: int, H: int, G: int, xp: Any) -> int | None:
    """Threads for the per-step GEMM ``(B, H) @ (H, G*H)``: 1 when small, None (all) otherwise."""
    return 1 if xp is np and B * H * G * H < _SMALL_GEMM else None
