"""Reductions with axis/keepdims: gradcheck, PyTorch twins, ties, stability and errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr

AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


def t64(shape, seed=0):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


REDUCTIONS = {
    "sum": (cr.sum, np.sum),
    "mean": (cr.mean, np.mean),
    "max": (cr.max, np.max),
    "min": (cr.min, np.min),
    "var": (cr.var, lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=1)),
    "std": (cr.std, lambda a, axis, keepdims: np.std(a, axis=axis, keepdims=keepdims, ddof=1)),
    "logsumexp": (
        cr.logsumexp,
        lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
    ),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_forward_and_gradcheck(name, axis, keepdims):
    fn, ref = REDUCTIONS[name]
    x = t64((2, 3, 4))
    out = fn(x, axis, keepdims)
    np.testing.assert_allclose(out.data, ref(x.data, axis=axis, keepdims=keepdims), rtol=1e-12)
    assert cr.gradcheck(lambda a: fn(a, axis, keepdims), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp"])
def test_reduction_of_0d_and_reused_input(name):
    fn, _ = REDUCTIONS[name]
    s = cr.tensor(1.5, dtype="float64", requires_grad=True)
    assert fn(s).shape == () and fn(s, 0).shape == () and fn(s, -1, True).shape == ()
    assert cr.gradcheck(lambda a: fn(a), [s])
    assert cr.gradcheck(lambda a: fn(a * a, 1), [t64((2, 3))])


def test_sum_of_empty_tensor():
    x = cr.tensor(np.zeros((0, 3)), requires_grad=True)
    assert cr.sum(x).item() == 0.0
    assert cr.sum(x, 0).shape == (3,)
    assert cr.gradcheck(lambda a: cr.sum(a, 0), [x])
    assert cr.mean(x, 1).shape == (0,)  # reduces over non-empty axes: fine


TORCH_REDUCTIONS = [
    ("sum", lambda t, a, k: t.sum(a, keepdim=k) if a is not None else t.sum()),
    ("mean", lambda t, a, k: t.mean(a, keepdim=k) if a is not None else t.mean()),
    ("max", lambda t, a, k: t.amax(a, keepdim=k) if a is not None else t.amax()),
    ("min", lambda t, a, k: t.amin(a, keepdim=k) if a is not None else t.amin()),
    ("var", lambda t, a, k: t.var(a, keepdim=k) if a is not None else t.var()),
    ("std", lambda t, a, k: t.std(a, keepdim=k) if a is not None else t.std()),
    (
        "logsumexp",
        lambda t, a, k: t.logsumexp(a, keepdim=k) if a is not None else t.logsumexp((0, 1, 2)),
    ),
]


@pytest.mark.parametrize("name, torch_fn", TORCH_REDUCTIONS, ids=[n for n, _ in TORCH_REDUCTIONS])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_matches_torch(name, torch_fn, axis, keepdims):
    pytest.importorskip("torch")
    fn, _ = REDUCTIONS[name]
    if axis is None and keepdims:
        pytest.skip("torch's full reductions do not take keepdim")
    assert_matches_torch(
        lambda a: fn(a, axis, keepdims), lambda t: torch_fn(t, axis, keepdims), shapes=[(2, 3, 4)]
    )


def test_max_min_split_ties_evenly_like_torch_amax():
    pytest.importorskip("torch")
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    assert_matches_torch(lambda a: cr.max(a, 1), lambda t: t.amax(1), [x])
    assert_matches_torch(lambda a: cr.min(a, 1), lambda t: t.amin(1), [x])
    assert_matches_torch(cr.max, lambda t: t.max(), [x])
    y = cr.tensor(x, requires_grad=True)
    cr.max(y, 1).sum().backward()
    np.testing.assert_allclose(y.grad.data, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_var_std_correction():
    x = t64((4, 5))
    np.testing.assert_allclose(cr.var(x, 1, correction=0).data, x.data.var(1))
    np.testing.assert_allclose(cr.std(x, correction=0).data, x.data.std())
    assert cr.gradcheck(lambda a: cr.var(a, 0, correction=0), [x])
    with pytest.raises(ValueError, match="too few"):
        cr.var(cr.ones(1, 3), 0)


def test_logsumexp_is_stable_for_large_inputs():
    x = cr.tensor([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4]], dtype="float64", requires_grad=True)
    y = cr.logsumexp(x, 1)
    expected = [1e4 + np.log(1 + np.exp(-1.0)), -1e4 + np.log(3)]
    np.testing.assert_allclose(y.data, expected)
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.data))
    np.testing.assert_allclose(x.grad.data.sum(1), [1.0, 1.0])
    f32 = cr.logsumexp(cr.tensor([1e4, 1e4]))
    assert np.isclose(f32.item(), 1e4 + np.log(2))


def test_logsumexp_of_minus_infinity():
    x = cr.tensor([-np.inf, -np.inf, 0.0])
    assert cr.logsumexp(x).item() == 0.0


def test_argmax_argmin():
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    assert cr.argmax(x).item() == 3 and cr.argmin(x).item() == 4
    assert cr.argmax(x, 1).tolist() == [1, 0] and cr.argmin(x, 0).tolist() == [0, 1, 0]
    assert cr.argmax(x, -1, keepdims=True).shape == (2, 1)
    assert cr.argmax(x).dtype == np.int64 and not cr.argmax(x).requires_grad
    assert cr.argmax(cr.tensor(3.0), 0).item() == 0


def test_mean_of_float32_keeps_dtype():
    assert cr.mean(cr.ones(3)).dtype == np.float32
    assert cr.sum(cr.ones(3, requires_grad=True), 0).dtype == np.float32


@pytest.mark.parametrize("fn", [cr.sum, cr.mean, cr.max, cr.min, cr.var, cr.logsumexp])
def test_bad_axes(fn):
    x = cr.ones(2, 3)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        fn(x, 2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        fn(x, -3)
    with pytest.raises(ValueError, match="repeated axis"):
        fn(x, (1, -1))
    with pytest.raises(TypeError, match="axis must be"):
        fn(x, 1.5)


def test_bad_axes_argmax():
    with pytest.raises(ValueError, match="out of range"):
        cr.argmax(cr.ones(2, 3), 2)
    with pytest.raises(TypeError, match="axis must be"):
        cr.argmax(cr.ones(2, 3), (0, 1))


@pytest.mark.parametrize("fn", [cr.mean, cr.max, cr.min, cr.logsumexp, cr.argmax])
def test_empty_reductions_without_identity(fn):
    with pytest.raises(ValueError, match="empty tensor"):
        fn(cr.ones(0, 3))
    with pytest.raises(ValueError, match="empty tensor"):
        fn(cr.ones(0, 3), 0)
