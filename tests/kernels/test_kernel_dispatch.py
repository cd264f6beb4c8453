"""The numba/NumPy switch: config flag, environment variable, missing numba, unsupported dtypes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.backend import config
from chainrule.kernels import HAVE_NUMBA, use_numba

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> str:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return out.stdout.strip()


def test_config_switch(monkeypatch):
    x = np.zeros(3, np.float32)
    monkeypatch.setattr(config, "use_numba", False)
    assert not use_numba(x)
    monkeypatch.setattr(config, "use_numba", True)
    assert use_numba(x) == HAVE_NUMBA


def test_only_float32_and_float64_take_the_compiled_path(monkeypatch):
    monkeypatch.setattr(config, "use_numba", True)
    assert not use_numba(np.zeros(2, np.float16))
    assert not use_numba(np.zeros(2, np.int64))
    assert not use_numba([1.0, 2.0])


def test_environment_variable_turns_numba_off():
    code = (
        "from chainrule.kernels import use_numba; import numpy as np; print(use_numba(np.ones(1)))"
    )
    assert _run(code, CHAINRULE_NO_NUMBA="1") == "False"


def test_kernels_work_when_numba_cannot_import():
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from chainrule import kernels as K\n"
        "x = np.arange(32.0).reshape(1, 2, 4, 4)\n"
        "y = K.conv2d_forward(x, np.ones((1, 2, 3, 3)), None, 1, 1)\n"
        "p, i = K.max_pool2d_forward(x, 2)\n"
        "print(K.HAVE_NUMBA, y.shape, p.shape)"
    )
    assert _run(code) == "False (1, 1, 4, 4) (1, 2, 2, 2)"


def test_thread_pool_restores_blas_threads_and_keeps_slab_order(monkeypatch):
    from chainrule.kernels import _parallel

    monkeypatch.setattr(config, "use_numba", True)
    controls = _parallel.blas_controls()
    before = [get() for get, _ in controls]
    seen = []

    def slab(n0, m):
        seen.append([get() for get, _ in controls])
        return n0, m

    slabs = _parallel.map_slabs(slab, 10, 3, threaded=True)
    assert [n0 for n0, _ in slabs] == sorted(n0 for n0, _ in slabs)  # results in slab order
    assert [i for n0, m in slabs for i in range(n0, n0 + m)] == list(range(10))
    assert max(m for _, m in slabs) <= 3
    assert [get() for get, _ in controls] == before
    if controls and _parallel.numba_threads() > 1:
        assert all(counts == [1] * len(controls) for counts in seen)


def test_thread_pool_caller_works_too_and_nested_calls_run_inline(monkeypatch):
    import threading
    import time

    from chainrule.kernels import _parallel

    monkeypatch.setattr(config, "use_numba", True)
    if not _parallel.blas_controls() or _parallel.numba_threads() < 2:
        pytest.skip("needs a controllable OpenBLAS and two threads")
    caller = threading.get_ident()
    seen = []

    def slab(n0, m):
        time.sleep(0.001)  # release the GIL as the numba and BLAS kernels do
        nested = _parallel.map_slabs(lambda a, b: threading.get_ident(), 4, 1, True)
        seen.append((threading.get_ident(), set(nested)))
        return n0

    assert _parallel.map_slabs(slab, 64, 1, threaded=True) == list(range(64))
    assert caller in {owner for owner, _ in seen}  # the calling thread claimed slabs as well
    assert len({owner for owner, _ in seen}) > 1
    for owner, nested in seen:
        assert nested == {owner}  # a nested call stays on the thread running the slab


def test_thread_pool_error_propagates_after_the_helpers_finish(monkeypatch):
    from chainrule.kernels import _parallel

    monkeypatch.setattr(config, "use_numba", True)
    before = [get() for get, _ in _parallel.blas_controls()]
    done = []

    def slab(n0, m):
        if n0 == 0:
            raise RuntimeError("slab 0 failed")
        done.append(n0)
        return n0

    with pytest.raises(RuntimeError, match="slab 0 failed"):
        _parallel.map_slabs(slab, 8, 1, threaded=True)
    assert [get() for get, _ in _parallel.blas_controls()] == before
    assert _parallel.map_slabs(lambda n0, m: n0, 6, 2, threaded=True) == [0, 2, 4]


def test_scratch_buffers_are_reused_per_thread():
    from chainrule.kernels._parallel import scratch

    a = scratch("test", 10, np.float32)
    b = scratch("test", 8, np.float32)
    assert a.shape == (10,) and b.shape == (8,) and np.shares_memory(a, b)
    c = scratch("test", 20, np.float32)
    assert c.shape == (20,) and not np.shares_memory(a, c)
    assert scratch("test", 4, np.float64).dtype == np.float64


def test_small_inputs_run_single_threaded_and_restore_the_thread_count(monkeypatch):
    pytest.importorskip("numba")
    import numba

    from chainrule.kernels import log_softmax_forward

    monkeypatch.setattr(config, "use_numba", True)
    before = numba.get_num_threads()
    small = log_softmax_forward(np.zeros((4, 3)))
    large = log_softmax_forward(np.zeros((300, 200)))
    np.testing.assert_allclose(small, np.log(1 / 3))
    np.testing.assert_allclose(large, np.log(1 / 200))
    assert numba.get_num_threads() == before
