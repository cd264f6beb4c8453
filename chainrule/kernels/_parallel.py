"""Run the slabs of a convolution on a small thread pool, each slab on one core, BLAS included.

Why not numba's ``prange`` around a multi-threaded GEMM: a convolution alternates packing kernels
and GEMMs many times per call, and each switch between numba's thread team and OpenBLAS's is a
synchronisation; on a loaded machine every one of them can wait a scheduler time slice (measured:
a 50 ms conv2d took 8 s next to other busy processes, while PyTorch took 0.4 s). Here each worker
thread packs *and* multiplies its own slab with BLAS held to one thread, so a call synchronises
once, at the end, and the slab it just wrote is still in that core's cache when its GEMM reads it.

The pool is used when numba is active (its kernels release the GIL) and the loaded BLAS is an
OpenBLAS whose thread count can be set; otherwise slabs run one after another on the calling
thread with BLAS's own threads. Worker count: ``numba.get_num_threads()``, the calling thread
included (it claims slabs like the pool threads instead of waiting for them). The thread count is
process-wide (``openblas_set_num_threads_local`` of the pthreads builds NumPy ships sets it for
every thread too), so it is saved, held at one for the duration of the pooled work, and restored;
concurrent callers are counted so that the last one out restores it.

The threads are the team of ``_team.py``. Besides ``map_slabs`` (a call that returns when its
slabs are done) there is ``map_slabs_later``: inside an autograd backward pass its slabs become
background jobs, and the result is finished by ``finish_background`` when the engine flushes
(``chainrule/_deferred.py``); BLAS stays at one thread until then.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from chainrule import _deferred
from chainrule.kernels import _team
from chainrule.kernels._dispatch import numba_threads

__all__ = [
    "map_slabs", "map_slabs_later", "finish_background", "Once", "resolve", "scratch",
    "blas_controls", "openblas_libraries", "sum_slab_parts",
]  # fmt: skip

_SYMBOLS = (
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
)

_KEEP_BYTES = 64 * 1024 * 1024
_lock = threading.Lock()
_local = threading.local()
_state: dict[str, Any] = {
    "libraries": None, "controls": None, "active": 0, "saved": [],
}  # fmt: skip


def _loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux), else an empty list."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(p for p in paths if os.path.isfile(p))


def openblas_libraries() -> list[ctypes.CDLL]:
    """Every OpenBLAS mapped into this process, opened once (``_gemm.py`` reads them too)."""
    if _state["libraries"] is None:
        libraries = []
        for path in _loaded_openblas():
            try:
                libraries.append(ctypes.CDLL(path))
            except OSError:
                continue
        _state["libraries"] = libraries
    return _state["libraries"]


def blas_controls() -> list[tuple[Callable[[], int], Callable[[int], None]]]:
    """(get, set) thread-count functions of every loaded OpenBLAS; empty if there are none."""
    if _state["controls"] is None:
        controls = []
        for lib in openblas_libraries():
            for get_name, set_name in _SYMBOLS:
                getter = getattr(lib, get_name, None)
                setter = getattr(lib, set_name, None)
                if getter is not None and setter is not None:
                    getter.restype = ctypes.c_int
                    setter.argtypes = [ctypes.c_int]
                    setter.restype = None
                    controls.append((getter, setter))
                    break
        _state["controls"] = controls
    return _state["controls"]


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Hold every controllable BLAS to one thread; nested and concurrent uses are counted."""
    with _lock:
        if _state["active"] == 0:
            _state["saved"] = [get() for get, _ in blas_controls()]
            for _, set_threads in blas_controls():
                set_threads(1)
        _state["active"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["active"] -= 1
            if _state["active"] == 0:
                for (_, set_threads), n in zip(blas_controls(), _state["saved"], strict=True):
                    set_threads(n)


class Once:
    """A value computed on first use by whichever thread asks first; the others wait for it.

    Lets a slab call start on work that does not need the value (a convolution's input
    transform) while one thread computes it (the transformed weights), instead of computing it
    on the calling thread with every other core idle. Pass it in ``map_slabs(tasks=...)`` so
    that a thread starts on it at once.
    """

    def __init__(self, compute: Callable[[], Any], shape: tuple[int, ...] | None = None) -> None:
        """``compute`` makes the value; ``shape`` is the value's shape where known ahead."""
        self.shape = shape
        self._compute: Callable[[], Any] | None = compute
        self._value: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        if self._compute is not None:
            with self._lock:
                if self._compute is not None:
                    self._value = self._compute()
                    self._compute = None
        return self._value


def resolve(value: Any) -> Any:
    """``value()`` for a ``Once``, else ``value`` itself."""
    return value() if isinstance(value, Once) else value


def _slabs(N: int, nb: int, workers: int) -> list[tuple[int, int]]:
    """``(n0, m)`` of the slabs of about ``nb`` images covering ``range(N)``.

    With several workers, a whole number of slabs per worker, so that no core idles through the
    last round. Pooled and background runs split alike, so their results agree to the bit.
    """
    if workers > 1:
        count = -(-N // nb)
        count = -(-count // workers) * workers
        nb = -(-N // min(count, N))
    return [(n0, min(nb, N - n0)) for n0 in range(0, N, nb)]


def map_slabs(
    fn: Callable[[int, int], Any],
    N: int,
    nb: int,
    threaded: bool,
    tasks: Sequence[Callable[[], Any]] = (),
) -> list[Any]:
    """Call ``fn(n0, m)`` for the slabs ``[n0, n0+m)`` of ``nb`` images covering ``range(N)``.

    The calling thread works too: it and ``workers - 1`` pool threads each claim the next
    unclaimed slab until none is left, so one call wakes ``workers - 1`` threads once (not once
    per slab) and a slower core simply ends up with fewer slabs.

    Args:
        fn: work on one slab; must touch only its own slab's outputs and its own scratch.
        N: number of images.
        nb: images per slab.
        threaded: allow the pool (the caller's kernels must release the GIL: numba paths).
        tasks: independent calls claimed before the first slab (each by one thread, results
            dropped): serial work of this or another kernel, such as a ``Once`` the slabs wait
            on or the reduction of an earlier call's parts, that then overlaps the slabs
            instead of leaving the other cores idle.

    Returns:
        The results of ``fn`` in slab order.
    """
    workers = numba_threads() if threaded else 1
    nested = _team.in_slabs()  # a slab never waits on the team it runs in
    pooled = workers > 1 and N > 1 and not nested and bool(blas_controls())
    slabs = _slabs(N, nb, workers if pooled else 1)
    if not pooled or len(slabs) <= 1:
        for task in tasks:
            task()
        return [fn(n0, m) for n0, m in slabs]
    results: list[Any] = [None] * len(slabs)
    ntasks = len(tasks)

    def run_job(i: int) -> None:
        if i < ntasks:
            tasks[i]()
        else:
            results[i - ntasks] = fn(*slabs[i - ntasks])

    njobs = ntasks + len(slabs)
    pool = _team.team(workers - 1)
    with _single_threaded_blas():
        # the helpers are done before BLAS gets its threads back, even on an error
        if not pool.run(run_job, njobs):
            for i in range(njobs):
                run_job(i)
    return results


class _Later:
    """The background slabs of one ``map_slabs_later`` call and the call that uses their results."""

    def __init__(self, fn: Callable, slabs: list, finish: Callable[[list[Any]], None]) -> None:
        self.fn, self.slabs, self.finish = fn, slabs, finish
        self.results: list[Any] = [None] * len(slabs)
        self.left = len(slabs)
        self.lock = threading.Lock()

    def job(self, i: int) -> Callable[[], None]:
        def run() -> None:
            errors = _background["errors"]  # re-raised by finish_background
            try:
                if not errors:
                    self.results[i] = self.fn(*self.slabs[i])
            except BaseException as error:
                errors.append(error)
            with self.lock:
                self.left -= 1
                last = self.left == 0
            if not last:
                return
            try:
                if not errors:
                    self.finish(self.results)  # on whichever thread ran the last slab
            except BaseException as error:
                errors.append(error)
            finally:
                self.fn = self.slabs = self.finish = self.results = None  # free the inputs

        return run


_background: dict[str, Any] = {"errors": [], "blas": None}


def map_slabs_later(
    fn: Callable[[int, int], Any],
    N: int,
    nb: int,
    threaded: bool,
    finish: Callable[[list[Any]], None],
    result: np.ndarray,
    tasks: Sequence[Callable[[], Any]] = (),
) -> None:
    """``finish(map_slabs(fn, N, nb, threaded, tasks))``, left to the kernel threads if allowed.

    Inside an autograd backward pass (``chainrule._deferred.allowed``), with the thread team
    available, the slabs become background jobs and this returns at once (after running
    ``tasks`` on the calling thread): ``result``, the array ``finish`` writes, is marked pending,
    and the engine flushes before anything reads it. ``finish`` runs on the thread that completes
    the last slab. Elsewhere this runs at once, exactly as ``map_slabs``.
    """
    workers = numba_threads() if threaded else 1
    poolable = workers > 1 and N > 1 and not _team.in_slabs() and bool(blas_controls())
    if not (poolable and _deferred.is_allowed()):
        finish(map_slabs(fn, N, nb, threaded, tasks))
        return
    for task in tasks:
        task()
    pool = _team.team(workers - 1)
    if _background["blas"] is None:
        # background slabs multiply on one core each, as foreground ones do, until the flush
        _background["blas"] = _single_threaded_blas()
        _background["blas"].__enter__()
        _deferred.on_flush(finish_background)
    later = _Later(fn, _slabs(N, nb, workers), finish)
    _deferred.mark(result)
    pool.submit([later.job(i) for i in range(len(later.slabs))])


def finish_background() -> None:
    """Run what is left of the background slabs (the caller helping), then re-raise any error."""
    pool = _team.current()
    try:
        if pool is not None:
            pool.help_until_idle()
    finally:
        hold = _background["blas"]
        _background["blas"] = None
        if hold is not None:
            hold.__exit__(None, None, None)
    errors, _background["errors"] = _background["errors"], []
    if errors:
        raise errors[0]


def scratch(name: str, size: int, dtype: np.dtype) -> np.ndarray:
    """A per-thread reusable 1-D buffer of at least ``size`` elements (contents undefined).

    Reusing buffers avoids fresh page faults on every slab; each name has one buffer per
    thread, so a slab function must not hand one out beyond its own call. Buffers above
    ``_KEEP_BYTES`` are not kept.
    """
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (name, np.dtype(dtype).str)
    buf = buffers.get(key)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1), dtype=dtype)
        if buf.nbytes <= _KEEP_BYTES:
            buffers[key] = buf
    return buf[:size]


def sum_slab_parts(parts: list[Any], dw: np.ndarray | None, db: np.ndarray) -> None:
    """Reduce the ``(dw_part, db_part)`` results of a weight-gradient ``map_slabs`` call.

    Overwrites ``dw`` (when not None) with the sum of the ``dw_part``s and adds the ``db_part``s
    to ``db``; ``dw`` may be the first part itself, which then takes the sum in place.
    """
    if dw is not None:
        if dw is not parts[0][0]:
            dw[...] = parts[0][0]
        for dw_part, _ in parts[1:]:
            dw += dw_part
    for _, db_part in parts:
        db += db_part
