"""The autograd engine: graph walk, accumulation, grad modes, hooks, grad, gradcheck, anomaly."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Context, Function, GradcheckError, Node


def leaf(*shape, dtype="float64"):
    return cr.randn(*shape, dtype=dtype, requires_grad=True)


# ----------------------------------------------------------------------------- the graph walk
def test_chain_of_10000_ops_backpropagates_without_recursion():
    x = cr.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert np.isclose(x.grad.item(), 1.0001**10_000)


def test_long_chain_is_freed_without_recursion():
    x = cr.ones(2, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_deep_unrolled_recurrence():
    # an RNN-like recurrence over 1,000 steps with the weight reused at every step
    w = cr.tensor(0.999, dtype="float64", requires_grad=True)
    h = cr.tensor(1.0, dtype="float64")
    for _ in range(1000):
        h = h * w
    h.backward()
    assert np.isclose(w.grad.item(), 1000 * 0.999**999)


def test_reused_tensor_accumulates():
    x = leaf(3)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 1)


def test_gradient_accumulates_across_backward_calls():
    x = leaf(3)
    (x * 3.0).sum().backward()
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 5.0))


def test_broadcast_gradients_sum_back_to_input_shapes():
    a = leaf(3, 1)
    b = leaf(4)
    c = leaf()
    (a * b + c).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,) and c.grad.shape == ()
    np.testing.assert_allclose(a.grad.data, np.full((3, 1), b.data.sum()))
    np.testing.assert_allclose(b.grad.data, np.full(4, a.data.sum()))
    assert c.grad.item() == 12


def test_diamond_graph():
    x = leaf(4)
    a = x * 2.0
    b = x * 3.0
    (a * b).sum().backward()  # y = 6 x^2
    np.testing.assert_allclose(x.grad.data, 12 * x.data)


class _Counted(Function):
    """Identity that counts how often its backward runs."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        _Counted.calls += 1
        return grad


def test_each_node_is_visited_once_dynamic_programming():
    # x -> h -> (h*2, h*3, h*4) -> sum: h's backward must run once with the complete gradient
    _Counted.calls = 0
    x = leaf(3)
    h = _Counted.apply(x)
    y = (h * 2.0 + h * 3.0 + h * 4.0).sum()
    y.backward()
    assert _Counted.calls == 1
    np.testing.assert_allclose(x.grad.data, np.full(3, 9.0))


def test_stacked_diamonds_stay_linear():
    # 30 stacked diamonds: 2^30 paths, but each node is visited once
    x = cr.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(30):
        y = y * 0.5 + y * 0.5
    y.backward()
    assert np.isclose(x.grad.item(), 1.0)


def test_shared_gradient_buffer_is_not_aliased():
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.data += 1  # in place
    np.testing.assert_array_equal(b.grad.data, np.ones(3))
    a.grad.mul_(5)
    np.testing.assert_array_equal(b.grad.data, np.ones(3))


def test_pass_through_gradient_is_not_aliased():
    a = cr.ones(2, 3, requires_grad=True)
    b = cr.ones(6, requires_grad=True)
    (a.reshape(6) + b).sum().backward()
    b.grad.data[0] = 7.0
    assert a.grad.data[0, 0] == 1.0


def test_user_gradient_is_not_aliased():
    a = cr.ones(3, requires_grad=True)
    g = cr.ones(3)
    (a * 1.0).backward(g)
    a.grad.data += 1
    np.testing.assert_array_equal(g.data, np.ones(3))
    b = cr.ones(3, requires_grad=True)
    b.backward(g)  # a leaf as the root
    b.grad.data += 1
    np.testing.assert_array_equal(g.data, np.ones(3))


def test_leaf_grad_is_writable_after_broadcasting_backward():
    x = cr.ones(3, 4, requires_grad=True)
    x.sum().backward()
    x.grad.zero_()
    x.mean().backward()
    x.grad.data *= 2
    np.testing.assert_allclose(x.grad.data, np.full((3, 4), 2 / 12))


def test_zero_d_results_are_arrays():
    a = cr.tensor(2.0, requires_grad=True)
    y = a * 3.0
    assert isinstance(y.data, np.ndarray) and y.shape == ()
    y.backward()
    assert isinstance(a.grad.data, np.ndarray)
    a.grad.zero_()
    assert a.grad.item() == 0.0


# ----------------------------------------------------------------------------- grad modes
def test_no_grad_and_enable_grad():
    x = leaf(2)
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
        with cr.enable_grad():
            z = x * 2
            assert cr.is_grad_enabled()
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad


def test_grad_mode_decorators_nest_and_recurse():
    @cr.no_grad()
    def inner(x, depth):
        assert not cr.is_grad_enabled()
        if depth:
            return inner(x, depth - 1)
        return x * 2

    @cr.enable_grad()
    def outer(x):
        return x * 2

    x = leaf(2)
    assert inner(x, 3).grad_fn is None
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert outer(x).grad_fn is not None
        assert not cr.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with cr.no_grad():
            raise ValueError("boom")
    assert cr.is_grad_enabled()


def test_same_no_grad_object_nested():
    ctx = cr.no_grad()
    with ctx:
        with ctx:
            pass
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_set_grad_enabled_call_with_and_decorator():
    with cr.set_grad_enabled(False):
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    try:
        assert not cr.is_grad_enabled()
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()

    @cr.set_grad_enabled(False)
    def f():
        return cr.is_grad_enabled()

    assert cr.is_grad_enabled()  # decorating does not switch the mode
    assert f() is False
    assert cr.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with cr.no_grad():
        t = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_ops_on_tensors_without_grad_record_nothing():
    y = cr.ones(3) * 2 + 1
    assert y.grad_fn is None and not y.requires_grad


def test_integer_results_do_not_require_grad():
    x = leaf(2, 3)
    assert not cr.argmax(x, axis=1).requires_grad
    assert not (x > 0).requires_grad
    assert (x > 0).dtype == np.bool_


# ----------------------------------------------------------------------------- leaves and flags
def test_detach():
    x = leaf(3)
    d = (x * 2).detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.data, (d * 1).data) is False
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, d.data)  # no gradient through d


def test_detach_shares_data_and_detach_in_place():
    x = leaf(3)
    assert np.shares_memory(x.detach().data, x.data)
    y = x * 2
    y.detach_()
    assert y.is_leaf and not y.requires_grad


def test_requires_grad_():
    x = cr.ones(3)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(TypeError, match="floating"):
        cr.arange(3).requires_grad_()
    with pytest.raises(TypeError, match="floating"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        cr.zeros(2, dtype="int64", requires_grad=True)
    y = leaf(2) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_leaf_and_non_leaf_grad():
    x = leaf(3)
    h = x * 2
    h.sum().backward()
    assert x.is_leaf and not h.is_leaf
    assert x.grad is not None
    assert h.grad is None


def test_retain_grad():
    x = leaf(3)
    h = x * 2
    assert h.retain_grad() is h and h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    x.retain_grad()  # a no-op on leaves
    with pytest.raises(RuntimeError):
        cr.ones(2).retain_grad()


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * np.exp(x.data))


def test_second_backward_over_freed_buffers_is_a_clear_error():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_of_non_scalar_needs_a_gradient():
    x = leaf(3)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs.*shape \\(3,\\)"):
        y.backward()
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(cr.ones(4, dtype="float64"))
    y.backward(cr.tensor([1.0, 2.0, 3.0], dtype="float64"))
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(1).sum().backward()


def test_backward_on_a_leaf():
    x = cr.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


# ----------------------------------------------------------------------------- hooks
def test_register_hook_on_leaf_and_non_leaf():
    x = leaf(3)
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = x.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], np.ones(3))
    np.testing.assert_allclose(x.grad.data, np.full(3, 20.0))
    handle.remove()
    handle.remove()  # removing twice is harmless
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 2.0))


def test_non_leaf_hook_replaces_gradient_downstream():
    x = leaf(3)
    h = x * 2
    h.register_hook(lambda g: g * 0)
    (h * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.zeros(3))


def test_hook_needs_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(2).register_hook(lambda g: g)


# ----------------------------------------------------------------------------- cr.grad
def test_grad_for_leaves_and_non_leaves():
    x = leaf(3)
    h = x.exp()
    y = (h * h).sum()
    gx, gh = cr.grad(y, [x, h])
    np.testing.assert_allclose(gx.data, 2 * np.exp(2 * x.data))
    np.testing.assert_allclose(gh.data, 2 * h.data)
    assert x.grad is None and h.grad is None  # nothing stored


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf(3)
    y1 = x * 2
    y2 = x * x
    (g,) = cr.grad([y1, y2], [x], [cr.ones(3, dtype="float64"), cr.ones(3, dtype="float64")])
    np.testing.assert_allclose(g.data, 2 + 2 * x.data)


def test_grad_unused_inputs():
    x, z = leaf(2), leaf(2)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.grad(y, [x, z], retain_graph=True)
    gx, gz = cr.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx is not None


def test_grad_results_do_not_alias():
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(3, requires_grad=True)
    ga, gb = cr.grad((a + b).sum(), [a, b])
    ga.data += 1
    np.testing.assert_array_equal(gb.data, np.ones(3))


def test_grad_of_output_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.grad(cr.ones(1).sum(), [leaf(1)])


# ----------------------------------------------------------------------------- custom functions
class _Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 2 * x * grad


class _WrongSquare(_Square):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 3 * x * grad  # deliberately wrong


class _ScaleBy(Function):
    """y = a * x with a constant, checking needs_input_grad and None gradients."""

    @staticmethod
    def forward(ctx, x, a):
        ctx.save_for_backward(a)
        ctx.flags = ctx.needs_input_grad
        return x * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * a, None


def test_custom_function_passes_gradcheck():
    assert cr.gradcheck(_Square.apply, [leaf(2, 3)])


def test_gradcheck_detects_a_wrong_backward():
    with pytest.raises(GradcheckError, match="analytic .* vs numeric"):
        cr.gradcheck(_WrongSquare.apply, [leaf(2, 3)])
    assert cr.gradcheck(_WrongSquare.apply, [leaf(3)], raise_exception=False) is False


def test_gradcheck_input_rules():
    with pytest.raises(TypeError, match="float64"):
        cr.gradcheck(cr.exp, [cr.randn(3, requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        cr.gradcheck(cr.exp, [cr.randn(3, dtype="float64")])


def test_gradcheck_on_non_contiguous_input():
    x = cr.randn(3, 4, dtype="float64").T.detach().requires_grad_()
    assert not x.data.flags.c_contiguous
    assert cr.gradcheck(lambda t: (t * t).sum(axis=0), [x])


def test_needs_input_grad_and_constant_inputs():
    x = leaf(3)
    a = np.array([1.0, 2.0, 3.0])
    y = _ScaleBy.apply(x, a)
    assert y.grad_fn.ctx.flags == (True, False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, a)
    assert isinstance(y.grad_fn, Node) and isinstance(y.grad_fn.ctx, Context)
    assert repr(y.grad_fn) == "<_ScaleByBackward>"


def test_unrelated_tensor_in_graph_gets_no_grad():
    x, w = leaf(3), cr.randn(3, dtype="float64")
    (x * w).sum().backward()
    assert w.grad is None


# ----------------------------------------------------------------------------- anomaly mode
def test_detect_anomaly_names_forward_op():
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Log \\(forward\\) produced NaN"):
        with cr.detect_anomaly():
            cr.log(x)
    cr.log(x)  # outside anomaly mode NaN passes silently


def test_detect_anomaly_names_backward_op():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (cr.sqrt(x) * 2.0).sum()  # forward is finite, d sqrt/dx at 0 is Inf
        with pytest.raises(RuntimeError, match="Sqrt \\(backward\\) produced Inf"):
            y.backward()


@pytest.mark.filterwarnings("ignore:overflow encountered in exp")
def test_detect_anomaly_as_decorator():
    @cr.detect_anomaly()
    def f():
        return cr.exp(cr.tensor([1e6]))

    with pytest.raises(RuntimeError, match="Exp \\(forward\\) produced Inf"):
        f()
    assert not cr.autograd.is_anomaly_enabled()


# ----------------------------------------------------------------------------- memory
def _live_nodes() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Node)


def test_training_loop_memory_stays_flat():
    cr.manual_seed(0)
    x = cr.randn(16, 8)
    target = cr.randn(16, 1)
    w1 = (cr.randn(8, 16) * 0.3).requires_grad_()
    w2 = (cr.randn(16, 1) * 0.3).requires_grad_()
    params = [w1, w2]

    def step() -> float:
        h = cr.relu(x @ w1)
        loss = ((h @ w2 - target) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with cr.no_grad():
            for p in params:
                p -= 0.01 * p.grad
        return loss.item()

    gc.collect()
    baseline_nodes = _live_nodes()
    first = step()
    tracemalloc.start()
    for _ in range(100):
        step()
    gc.collect()
    early, _ = tracemalloc.get_traced_memory()
    refs = []
    for i in range(900):
        last = step()
        if i % 300 == 0:
            h = x @ w1
            refs.append(weakref.ref(h.grad_fn))
            del h
    gc.collect()
    late, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert last < first  # it trains
    assert late - early < 64 * 1024, f"memory grew by {late - early} bytes over 900 steps"
    assert all(r() is None for r in refs)
    assert _live_nodes() == baseline_nodes
