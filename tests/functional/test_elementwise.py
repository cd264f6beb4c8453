"""Elementwise ops: gradcheck (broadcasting, 0-d, size-0, reused inputs) and PyTorch twins."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr

BROADCAST = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((4, 1, 3), (2, 1)),
    ((0, 3), (3,)),
]


def t64(array, requires_grad=True):
    return cr.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def away_from_zero(shape, seed=0):
    """Values with |x| in [0.5, 1.5] and random signs (away from kinks and poles)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def positive(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


# ----------------------------------------------------------------------------- binary arithmetic
BINARY = {
    "add": (cr.add, normal),
    "sub": (cr.sub, normal),
    "mul": (cr.mul, normal),
    "div": (cr.div, away_from_zero),
    "maximum": (cr.maximum, normal),
    "minimum": (cr.minimum, normal),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
def test_binary_gradcheck(name, shapes):
    fn, second = BINARY[name]
    x = t64(normal(shapes[0], 1))
    y = t64(second(shapes[1], 2))
    out = fn(x, y)
    assert out.shape == np.broadcast_shapes(*shapes)
    assert cr.gradcheck(fn, [x, y])


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_with_python_and_numpy_constants(name):
    fn, _ = BINARY[name]
    x = t64(away_from_zero((2, 3)))
    assert cr.gradcheck(lambda a: fn(a, 1.5), [x])
    assert cr.gradcheck(lambda a: fn(0.7, a), [x])
    assert cr.gradcheck(lambda a: fn(a, np.full(3, 0.8)), [x])


@pytest.mark.parametrize(
    "fn",
    [lambda x: x * x, lambda x: x + x, lambda x: x - x * 2, lambda x: x / (x * x + 1)],
    ids=["x*x", "x+x", "x-2x", "x/(x*x+1)"],
)
def test_reused_input(fn):
    assert cr.gradcheck(fn, [t64(normal((2, 3)))])


@pytest.mark.parametrize(
    "cr_fn, torch_name",
    [
        (cr.add, "add"),
        (cr.sub, "sub"),
        (cr.mul, "mul"),
        (cr.div, "div"),
        (cr.maximum, "maximum"),
        (cr.minimum, "minimum"),
    ],
)
@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((4, 1, 3), (2, 1)), ((), (5,))], ids=str)
def test_binary_matches_torch(cr_fn, torch_name, shapes):
    torch = pytest.importorskip("torch")
    x, y = normal(shapes[0], 1), away_from_zero(shapes[1], 2)
    assert_matches_torch(cr_fn, getattr(torch, torch_name), [x, y])


def test_maximum_minimum_split_ties_like_torch():
    torch = pytest.importorskip("torch")
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 3.0])
    assert_matches_torch(cr.maximum, torch.maximum, [x, y])
    assert_matches_torch(cr.minimum, torch.minimum, [x, y])
    a = t64([2.0])
    cr.maximum(a, a).backward()
    assert a.grad.item() == 1.0


# ----------------------------------------------------------------------------- powers
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
def test_pow_tensor_exponent_gradcheck(shapes):
    x = t64(positive(shapes[0], 1))
    y = t64(normal(shapes[1], 2))
    assert cr.gradcheck(cr.pow, [x, y])


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 1.0])
def test_pow_scalar_exponent(exponent):
    x = t64(positive((2, 3)))
    assert cr.gradcheck(lambda a: a**exponent, [x])


def test_pow_scalar_base_and_integer_exponent_of_negative_base():
    assert cr.gradcheck(lambda a: 2.0**a, [t64(normal((3,)))])
    assert cr.gradcheck(lambda a: a**3, [t64(away_from_zero((4,)))])


def test_pow_zero_exponent_has_zero_gradient_at_zero():
    x = t64([0.0, 2.0])
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_pow_matches_torch():
    torch = pytest.importorskip("torch")
    assert_matches_torch(cr.pow, torch.pow, [positive((2, 3), 1), normal((3,), 2)])
    assert_matches_torch(lambda a: a**3, lambda a: a**3, [normal((2, 3))])
    assert_matches_torch(lambda a: a**0.5, lambda a: a**0.5, [positive((4,))])
    assert_matches_torch(lambda a: 3.0**a, lambda a: 3.0**a, [normal((4,))])


# ----------------------------------------------------------------------------- unary functions
UNARY = {
    "neg": (cr.neg, normal, "neg"),
    "abs": (cr.abs, away_from_zero, "abs"),
    "exp": (cr.exp, normal, "exp"),
    "log": (cr.log, positive, "log"),
    "sqrt": (cr.sqrt, positive, "sqrt"),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 4), (0, 2)], ids=str)
def test_unary_gradcheck(name, shape):
    fn, sample, _ = UNARY[name]
    x = t64(sample(shape))
    assert fn(x).shape == shape
    assert cr.gradcheck(fn, [x])


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, sample, torch_name = UNARY[name]
    assert_matches_torch(fn, getattr(torch, torch_name), [sample((3, 4))])


def test_abs_gradient_is_zero_at_the_kink():
    x = t64([-1.0, 0.0, 2.0])
    cr.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 1.0])


def test_float32_unary_matches_torch():
    torch = pytest.importorskip("torch")
    x = positive((5, 4)).astype(np.float32)
    for name in ("exp", "log", "sqrt"):
        assert_matches_torch(getattr(cr, name), getattr(torch, name), [x], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- clip and where
def test_clip_gradcheck_away_from_bounds():
    x = t64(np.array([-2.0, -0.3, 0.1, 0.4, 3.0]))
    assert cr.gradcheck(lambda a: cr.clip(a, -1.0, 1.0), [x])
    assert cr.gradcheck(lambda a: cr.clip(a, min=0.0), [x])
    assert cr.gradcheck(lambda a: cr.clamp(a, max=0.2), [x])
    assert cr.gradcheck(lambda a: a.clip(-0.5, 0.5), [t64(normal((3, 4)))])


def test_clip_matches_torch_including_bounds():
    torch = pytest.importorskip("torch")
    x = np.array([-2.0, -1.0, 0.1, 1.0, 3.0])
    assert_matches_torch(lambda a: cr.clip(a, -1.0, 1.0), lambda a: torch.clamp(a, -1.0, 1.0), [x])
    assert_matches_torch(lambda a: cr.clip(a, min=0.0), lambda a: torch.clamp(a, min=0.0), [x])


def test_clip_with_tensor_bounds_and_errors():
    x = t64([-2.0, 0.0, 2.0])
    y = cr.clip(x, cr.tensor(-1.0), np.array([0.5, 0.5, 1.0]))
    assert y.tolist() == [-1.0, 0.0, 1.0] and y.dtype == np.float64
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="at least one of min and max"):
        cr.clip(x)


@pytest.mark.parametrize(
    "shapes", [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), ()), ((2, 1), (3,), (2, 3))], ids=str
)
def test_where_gradcheck(shapes):
    rng = np.random.default_rng(0)
    cond = rng.random(shapes[0]) > 0.5
    x = t64(normal(shapes[1], 1))
    y = t64(normal(shapes[2], 2))
    out = cr.where(cond, x, y)
    assert out.shape == np.broadcast_shapes(*shapes)
    assert cr.gradcheck(lambda a, b: cr.where(cr.tensor(cond), a, b), [x, y])


def test_where_matches_torch_and_accepts_constants():
    torch = pytest.importorskip("torch")
    cond = np.array([[True, False, True], [False, False, True]])
    assert_matches_torch(cr.where, torch.where, [cond, normal((2, 3), 1), normal((3,), 2)])
    x = t64(normal((2, 3)))
    z = cr.where(x > 0, x, 0.0)
    np.testing.assert_allclose(z.data, np.where(x.data > 0, x.data, 0))
    assert cr.where(cr.tensor([True, False]), 1.0, 0.0).dtype == np.float32


# ----------------------------------------------------------------------------- dtypes
def test_promotion_follows_pytorch():
    f32, f64 = cr.ones(3), cr.ones(3, dtype="float64")
    i64, b = cr.arange(3), cr.tensor([True, False, True])
    assert (f32 + i64).dtype == np.float32 and (i64 * f32).dtype == np.float32
    assert (i64 * 2.5).dtype == np.float32 and (2.5 - i64).dtype == np.float32
    assert (i64 + 2).dtype == np.int64 and (b * f32).dtype == np.float32
    assert (f32 + f64).dtype == np.float64
    assert (f32 * np.float64(2.0)).dtype == np.float32
    assert (f32 * np.ones(3)).dtype == np.float32
    assert (cr.tensor(2.0) * 3).dtype == np.float32


def test_mixed_precision_gradients_keep_input_dtypes():
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(3, dtype="float64", requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_float32_binary_matches_torch():
    torch = pytest.importorskip("torch")
    x = normal((4, 5), 1).astype(np.float32)
    y = away_from_zero((5,), 2).astype(np.float32)
    for name in ("add", "sub", "mul", "div"):
        assert_matches_torch(getattr(cr, name), getattr(torch, name), [x, y], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- no-gradient helpers
def test_sign_isnan_isfinite_logical():
    x = cr.tensor([-2.0, 0.0, np.nan, np.inf])
    assert cr.sign(cr.tensor([-2.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 1.0]
    assert cr.isnan(x).tolist() == [False, False, True, False]
    assert cr.isfinite(x).tolist() == [True, True, False, False]
    assert cr.logical_not(cr.tensor([True, False])).tolist() == [False, True]
    assert cr.logical_and(cr.tensor([True, True]), cr.tensor([True, False])).tolist() == [
        True,
        False,
    ]
    assert cr.logical_or(cr.tensor([False, False]), cr.tensor([True, False])).tolist() == [
        True,
        False,
    ]
    assert isinstance(cr.sign(cr.tensor(-3.0)).data, np.ndarray)


def test_binary_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError):
        cr.ones(2, 3) + cr.ones(4)
