"""Weight gradients finished in the background during backward: same values, never read early."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import _deferred
from chainrule.backend import config
from chainrule.kernels import _dispatch, _parallel

F = cr.functional


@pytest.fixture
def marks(monkeypatch):
    """Counts the arrays the kernels leave to the background; skips where none can be."""
    monkeypatch.setattr(config, "use_numba", True)
    if not (_dispatch.HAVE_NUMBA and _parallel.blas_controls() and _parallel.numba_threads() > 1):
        pytest.skip("needs numba, a controllable OpenBLAS and two threads")
    count = []
    original = _deferred.mark
    monkeypatch.setattr(_deferred, "mark", lambda a: (count.append(1), original(a))[1])
    return count


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 16, 12, 12)).astype(np.float32)
    w1 = (rng.standard_normal((16, 16, 3, 3)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((16, 16, 3, 3)) * 0.2).astype(np.float32)
    up = rng.standard_normal((6, 16, 12, 12)).astype(np.float32)
    return x, w1, w2, up


def _grads(build, defer, monkeypatch):
    """Gradients of ``build``'s loss with the background allowed or not (synchronous)."""
    with monkeypatch.context() as m:
        if not defer:
            m.setattr(_deferred, "is_allowed", lambda: False)
        return build()


def test_gradients_left_to_the_background_equal_the_synchronous_ones(marks, monkeypatch):
    x, w1, w2, up = _data()

    def build():
        xt = cr.tensor(x, requires_grad=True)
        a, b = cr.tensor(w1, requires_grad=True), cr.tensor(w2, requires_grad=True)
        y = F.conv2d(F.relu(F.conv2d(xt, a, padding=1)), b, padding=1)
        (y * cr.tensor(up)).sum().backward()
        return [t.grad.numpy().copy() for t in (xt, a, b)]

    late = _grads(build, True, monkeypatch)
    assert len(marks) >= 2  # both weight gradients went to the background
    now = _grads(build, False, monkeypatch)
    for got, expected in zip(late, now, strict=True):
        np.testing.assert_array_equal(got, expected)  # same slabs, same order of sums
    assert _dispatch.BACKGROUND[0] == 0 and not _deferred._pending


@pytest.mark.parametrize("case", ["shared", "hook", "accumulate", "non_leaf"])
def test_a_gradient_read_during_the_walk_is_finished_first(marks, monkeypatch, case):
    x, w1, _, up = _data(1)

    def build():
        xt = cr.tensor(x, requires_grad=True)
        w = cr.tensor(w1, requires_grad=True)
        seen = []
        if case == "hook":
            w.register_hook(lambda g: seen.append(g.numpy().copy()))
        weight = w * 1.0 if case == "non_leaf" else w
        y = F.conv2d(xt, weight, padding=1)
        if case == "shared":
            y = F.conv2d(F.relu(y), weight, padding=1)  # two weight gradients to add up
        loss = (y * cr.tensor(up)).sum()
        loss.backward(retain_graph=case == "accumulate")
        if case == "accumulate":
            loss.backward()  # adds into the existing .grad
        return [w.grad.numpy().copy(), xt.grad.numpy().copy(), *seen]

    late = _grads(build, True, monkeypatch)
    assert marks
    now = _grads(build, False, monkeypatch)
    assert len(late) == len(now)
    for got, expected in zip(late, now, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_autograd_grad_and_anomaly_mode_stay_synchronous(marks):
    x, w1, _, _ = _data(2)
    xt, w = cr.tensor(x, requires_grad=True), cr.tensor(w1, requires_grad=True)
    (gw,) = cr.grad(F.conv2d(xt, w, padding=1).sum(), [w])
    with cr.detect_anomaly():
        F.conv2d(xt, w, padding=1).sum().backward()
    assert not marks
    np.testing.assert_array_equal(gw.numpy(), w.grad.numpy())


def test_a_background_error_surfaces_when_the_walk_ends(marks):
    done = []

    def slab(n0, m):
        if n0 == 0:
            raise RuntimeError("slab 0 failed")
        return n0

    result = np.zeros(3)
    with pytest.raises(RuntimeError, match="slab 0 failed"):
        with _deferred.allowed():
            _parallel.map_slabs_later(slab, 8, 1, True, done.append, result)
            assert _deferred.pending(result[1:])  # views of the result count too
    assert done == []  # the finishing call was skipped
    assert not _deferred.pending(result) and _dispatch.BACKGROUND[0] == 0
    with _deferred.allowed():  # the team still works afterwards
        _parallel.map_slabs_later(lambda n0, m: n0, 8, 1, True, done.append, result)
    assert done == [list(range(8))]


def test_outside_a_backward_pass_map_slabs_later_runs_at_once(marks):
    done = []
    _parallel.map_slabs_later(lambda n0, m: (n0, m), 10, 3, True, done.append, np.zeros(1))
    assert done and [n0 for n0, _ in done[0]] == sorted(n0 for n0, _ in done[0])
    assert not marks
