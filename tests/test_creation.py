"""Creation functions: shapes, dtypes, values, and repeatability under manual_seed."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize("fn, value", [(cr.zeros, 0.0), (cr.ones, 1.0)])
def test_zeros_ones(fn, value):
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = fn(*args)
        assert t.shape == (2, 3) and t.dtype == np.float32
        assert np.all(t.data == value)
    assert fn().shape == ()
    assert fn(0, 3).shape == (0, 3)
    assert fn(2, dtype="int64").dtype == np.int64
    assert fn(2, requires_grad=True).requires_grad


def test_empty_and_full():
    assert cr.empty(2, 3).shape == (2, 3)
    f = cr.full((2, 2), 1.5)
    assert f.dtype == np.float32 and np.all(f.data == 1.5)
    assert cr.full(3, 7).dtype == np.int64
    assert cr.full((2,), True).dtype == np.bool_
    assert cr.full([2, 1], 2.0, dtype="float64").dtype == np.float64


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="negative dimension"):
        cr.zeros(2, -1)
    with pytest.raises(TypeError, match="integers"):
        cr.ones(2.5)
    with pytest.raises(ValueError, match="step must not be zero"):
        cr.arange(0, 3, 0)
    with pytest.raises(ValueError, match="low must be below high"):
        cr.randint(5, 3, (2,))
    with pytest.raises(TypeError, match="floating"):
        cr.rand(3, dtype="int64")
    with pytest.raises(TypeError, match="floating"):
        cr.randn_like(cr.arange(3))


def test_arange():
    a = cr.arange(5)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert cr.arange(2, 8, 3).tolist() == [2, 5]
    f = cr.arange(0, 1, 0.25)
    assert f.dtype == np.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert cr.arange(3.0).dtype == np.float32
    assert cr.arange(3, dtype="float64").dtype == np.float64


def test_linspace_and_eye():
    s = cr.linspace(0, 1, 5)
    assert s.dtype == np.float32 and s.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    e = cr.eye(3)
    assert e.dtype == np.float32 and np.array_equal(e.data, np.eye(3))
    assert cr.eye(2, 3).shape == (2, 3)


@pytest.mark.parametrize("fn", [cr.rand, cr.randn])
def test_random_floats_repeatable(fn):
    cr.manual_seed(42)
    a = fn(3, 4)
    cr.manual_seed(42)
    b = fn(3, 4)
    c = fn(3, 4)
    assert a.dtype == np.float32 and a.shape == (3, 4)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(b.data, c.data)
    assert fn(2, dtype="float64").dtype == np.float64
    assert fn(2, requires_grad=True).requires_grad


def test_rand_range_and_randn_moments():
    u = cr.rand(10_000)
    assert 0 <= u.data.min() and u.data.max() < 1
    n = cr.randn(10_000, dtype="float64")
    assert abs(n.data.mean()) < 0.05 and abs(n.data.std() - 1) < 0.05


def test_randint():
    cr.manual_seed(3)
    a = cr.randint(0, 5, (100,))
    cr.manual_seed(3)
    b = cr.randint(0, 5, (100,))
    assert a.dtype == np.int64 and a.shape == (100,)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.data.min() >= 0 and a.data.max() <= 4 and len(set(a.tolist())) == 5
    c = cr.randint(3, size=(2, 2))
    assert c.shape == (2, 2) and c.data.max() < 3
    assert cr.randint(0, 2, 4).shape == (4,)
    assert cr.randint(0, 2).shape == ()


def test_like_functions():
    x = cr.ones(2, 3, dtype="float64")
    for fn in (cr.zeros_like, cr.ones_like, cr.empty_like, cr.rand_like, cr.randn_like):
        t = fn(x)
        assert t.shape == (2, 3) and t.dtype == np.float64
        assert fn(x, dtype="float32").dtype == np.float32
    assert np.all(cr.zeros_like(x).data == 0) and np.all(cr.ones_like(x).data == 1)
    f = cr.full_like(x, 2.5)
    assert f.dtype == np.float64 and np.all(f.data == 2.5)
    assert cr.zeros_like(np.zeros((4,), dtype=np.int32)).dtype == np.int32
    r = cr.randint_like(x, 0, 10)
    assert r.shape == (2, 3) and r.dtype == np.int64
    assert cr.ones_like(x, requires_grad=True).requires_grad


def test_like_functions_repeatable():
    x = cr.ones(5)
    cr.manual_seed(7)
    a = [cr.rand_like(x), cr.randn_like(x), cr.randint_like(x, 0, 100)]
    cr.manual_seed(7)
    b = [cr.rand_like(x), cr.randn_like(x), cr.randint_like(x, 0, 100)]
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_manual_seed_validates():
    with pytest.raises(ValueError, match="non-negative"):
        cr.manual_seed(-1)


def test_rng_state_round_trip():
    state = cr.get_rng_state()
    a = cr.randn(3)
    cr.set_rng_state(state)
    np.testing.assert_array_equal(a.data, cr.randn(3).data)


def test_default_dtype_switch():
    cr.set_default_dtype("float64")
    try:
        assert cr.randn(2).dtype == np.float64 and cr.tensor(1.0).dtype == np.float64
    finally:
        cr.set_default_dtype("float32")
    assert cr.tensor(1.0).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        cr.set_default_dtype("int64")
