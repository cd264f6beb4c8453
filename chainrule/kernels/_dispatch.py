"""Choose between a numba-compiled kernel and its plain NumPy twin at call time.

Every kernel in this package exists twice with the same signature: a loop nest compiled by numba
(``parallel=True``, ``cache=True``, ``fastmath=False``; ``prange`` over the outer dimension) and a
vectorised NumPy version. ``use_numba()`` decides which one runs: numba must have imported, the
switch ``chainrule.backend.config.use_numba`` must be on (``CHAINRULE_NO_NUMBA=1`` turns it off),
and the arrays must be CPU arrays of a dtype the compiled kernels are built for (float32/float64).
If numba fails to import, the NumPy versions run silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.backend import config

__all__ = [
    "HAVE_NUMBA",
    "SERIAL_BELOW",
    "jit",
    "jit_serial",
    "jit_helper",
    "prange",
    "use_numba",
    "numba_threads",
]

# numba's OpenMP workers spin after each parallel kernel by default, and the spinning steals the
# cores from the BLAS threads of the GEMM that usually comes next (measured: a conv/batch-norm/pool
# sequence ran 1.5x slower, and up to 10x on a loaded machine). A passive wait policy makes them
# sleep instead. It must be set before numba starts its thread pool; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:  # numba is optional at run time: without it every kernel takes its NumPy path
    import numba as _numba

    prange = _numba.prange
    HAVE_NUMBA = True
except Exception:  # noqa: BLE001 - any failure to import numba means "no numba"
    _numba = None
    prange = range
    HAVE_NUMBA = False

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# Below this many elements in its largest array a parallel kernel runs on the calling thread
# alone: waking a second thread costs more than the work, and on a busy machine a woken thread
# may wait a whole scheduler time slice (measured: a 128x10 cross-entropy took 0.08 ms, or 5 ms).
SERIAL_BELOW = 1 << 15


# Background jobs queued or running on the kernel threads (``_team.py`` keeps the count); while
# there are any, a parallel kernel runs on the calling thread alone, the other cores being busy.
BACKGROUND = [0]


class _ParallelKernel:
    """A numba ``parallel=True`` kernel that runs single-threaded on small inputs."""

    __slots__ = ("dispatcher",)

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher

    def __call__(self, *args: Any) -> Any:
        work = max((a.size for a in args if isinstance(a, np.ndarray)), default=0)
        threads = _numba.get_num_threads()
        if (work >= SERIAL_BELOW and not BACKGROUND[0]) or threads == 1:
            return self.dispatcher(*args)
        _numba.set_num_threads(1)  # per calling thread in numba
        try:
            return self.dispatcher(*args)
        finally:
            _numba.set_num_threads(threads)


def jit(fn: Callable[..., Any], reassociate: bool = False) -> Callable[..., Any] | None:
    """Compile ``fn`` with numba as a parallel CPU kernel, or return None when numba is absent.

    The kernel runs on one thread when its largest array has fewer than ``SERIAL_BELOW`` elements.

    Args:
        fn: the loop nest.
        reassociate: let LLVM reorder floating-point sums (fastmath's ``reassoc`` flag alone), so
            that a reduction loop is vectorised with several partial sums instead of one add
            chain bound by the adder's latency (batch norm's statistics: 1.75x faster). The order
            is fixed at compile time, so results stay deterministic; they differ from sequential
            summation by rounding only.
    """
    if not HAVE_NUMBA:
        return None
    fastmath: Any = {"reassoc"} if reassociate else False
    compiled = _numba.njit(parallel=True, cache=True, fastmath=fastmath, nogil=True)(fn)
    return _ParallelKernel(compiled)


def jit_serial(fn: Callable[..., Any], reassociate: bool = False) -> Callable[..., Any] | None:
    """Compile ``fn`` as a single-threaded kernel (``prange`` runs as ``range``), or None.

    For the packing steps between GEMMs, where measured parallel runs gained nothing and woke
    a second thread pool next to BLAS's. ``reassociate`` as in ``jit``: a copy loop that also
    sums what it copies is vectorised only with it (measured 3-5x on the bias-gradient gathers).
    """
    if not HAVE_NUMBA:
        return None
    fastmath: Any = {"reassoc"} if reassociate else False
    return _numba.njit(parallel=False, cache=True, fastmath=fastmath, nogil=True)(fn)


def jit_helper(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile a small serial helper that the parallel kernels call (plain Python without numba)."""
    if not HAVE_NUMBA:
        return fn
    return _numba.njit(cache=True, fastmath=False, inline="always")(fn)


def use_numba(*arrays: Any) -> bool:
    """Whether the numba kernels should run for these arrays.

    Args:
        *arrays: the floating arrays the kernel will read (indices and None are not checked).

    Returns:
        True when numba imported, ``config.use_numba`` is on, and every array is a NumPy array of
        float32 or float64.
    """
    if not (HAVE_NUMBA and config.use_numba):
        return False
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.dtype not in _FLOATS:
            return False
    return True


def numba_threads() -> int:
    """Number of threads the numba kernels use (1 without numba)."""
    if not HAVE_NUMBA:
        return 1
    return int(_numba.get_num_threads())
