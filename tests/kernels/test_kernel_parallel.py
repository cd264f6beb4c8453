"""The kernel thread team: tasks beside the slabs, values computed once, concurrent callers."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from chainrule.backend import config
from chainrule.kernels import _parallel
from chainrule.kernels._parallel import Once, map_slabs, resolve


def _pooled() -> bool:
    return bool(_parallel.blas_controls()) and _parallel.numba_threads() > 1


@pytest.mark.parametrize("threaded", [True, False])
def test_tasks_run_once_each_and_slab_results_keep_their_order(monkeypatch, threaded):
    monkeypatch.setattr(config, "use_numba", True)
    ran = []
    lock = threading.Lock()

    def task(k):
        def run():
            with lock:
                ran.append(k)

        return run

    def slab(n0, m):
        time.sleep(0.0005)  # release the GIL, as the kernels do
        return n0, m

    out = map_slabs(slab, 20, 3, threaded, tasks=[task(k) for k in range(3)])
    assert sorted(ran) == [0, 1, 2]
    assert [n0 for n0, _ in out] == sorted(n0 for n0, _ in out)
    assert [i for n0, m in out for i in range(n0, n0 + m)] == list(range(20))


def test_tasks_run_even_without_slabs_to_pool(monkeypatch):
    monkeypatch.setattr(config, "use_numba", True)
    ran = []
    assert map_slabs(lambda n0, m: n0, 1, 1, True, tasks=[lambda: ran.append(1)]) == [0]
    assert ran == [1]


def test_slabs_wait_for_a_once_that_a_task_computes(monkeypatch):
    monkeypatch.setattr(config, "use_numba", True)
    if not _pooled():
        pytest.skip("needs a controllable OpenBLAS and two threads")
    calls = []

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.02)  # long enough that the other thread's first slab must wait for it
        return np.arange(4.0)

    value = Once(compute, shape=(4,))
    assert value.shape == (4,)
    out = map_slabs(lambda n0, m: resolve(value).sum() + n0, 8, 1, True, tasks=[value])
    assert out == [6.0 + n0 for n0 in range(8)]
    assert len(calls) == 1  # computed once, although both threads asked for it


def test_once_computes_once_across_threads_and_resolve_passes_arrays_through():
    count = []
    value = Once(lambda: count.append(1) or len(count))
    threads = [threading.Thread(target=value) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert value() == 1 and count == [1]
    a = np.ones(3)
    assert resolve(a) is a
    assert resolve(value) == 1


def test_an_error_in_a_task_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(config, "use_numba", True)

    def fail():
        raise RuntimeError("task failed")

    with pytest.raises(RuntimeError, match="task failed"):
        map_slabs(lambda n0, m: n0, 8, 1, True, tasks=[fail])
    assert map_slabs(lambda n0, m: n0, 6, 2, True) == [0, 2, 4]  # the team still works


def test_concurrent_callers_share_the_team_and_each_gets_its_results(monkeypatch):
    monkeypatch.setattr(config, "use_numba", True)
    results = {}

    def caller(k):
        def slab(n0, m):
            time.sleep(0.0005)
            return (k, n0)

        results[k] = map_slabs(slab, 16, 1, True)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        assert results[k] == [(k, n0) for n0 in range(16)]
