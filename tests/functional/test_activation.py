"""Activations: float64 gradchecks away from kinks, PyTorch agreement, stability at 1e4."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import gradcheck

SHAPES = [(), (3,), (2, 3, 4)]

# name -> (chainrule call, torch call taking the torch.nn.functional module)
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, lambda tf, x: tf.sigmoid(x)),
    "tanh": (F.tanh, lambda tf, x: tf.tanh(x)),
    "relu": (F.relu, lambda tf, x: tf.relu(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda tf, x: tf.leaky_relu(x, 0.2)),
    "leaky_relu_default": (F.leaky_relu, lambda tf, x: tf.leaky_relu(x)),
    "softplus": (F.softplus, lambda tf, x: tf.softplus(x)),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda tf, x: tf.softplus(x, beta=2.0, threshold=3.0),
    ),
    "elu": (F.elu, lambda tf, x: tf.elu(x)),
    "elu_alpha": (lambda x: F.elu(x, alpha=0.5), lambda tf, x: tf.elu(x, alpha=0.5)),
    "gelu": (F.gelu, lambda tf, x: tf.gelu(x)),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda tf, x: tf.gelu(x, approximate="tanh"),
    ),
}


def _away_from_kinks(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values in +-[0.1, 3]: off the kink at 0 and off softplus_beta's threshold (beta x = 3)."""
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 3.0, size=shape)
    return np.where(np.abs(2 * x - 3.0) < 0.05, 2.0, x)


def _leaf(a: np.ndarray) -> cr.Tensor:
    return cr.tensor(np.array(a, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_gradcheck(name, shape):
    fn = ELEMENTWISE[name][0]
    assert gradcheck(fn, [_leaf(_away_from_kinks(shape))])


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_input_used_twice(name):
    fn = ELEMENTWISE[name][0]
    assert gradcheck(lambda x: fn(x) * x + fn(x * 0.5), [_leaf(_away_from_kinks((5,), seed=1))])


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, twin = ELEMENTWISE[name]
    x = _away_from_kinks((4, 5), seed=2)
    assert_matches_torch(fn, lambda t: twin(torch.nn.functional, t), [x], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_float32_stays_float32(name):
    fn = ELEMENTWISE[name][0]
    x = cr.tensor(_away_from_kinks((3, 2)).astype(np.float32), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


LARGE = [-1e4, -1e3, -100.0, -30.0, -1.0, -1e-3, 1e-3, 1.0, 30.0, 100.0, 1e3, 1e4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_stable_at_1e4(name, dtype):
    torch = pytest.importorskip("torch")
    fn, twin = ELEMENTWISE[name]
    x = np.array(LARGE, dtype=dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    outs, grads = assert_matches_torch(
        fn, lambda t: twin(torch.nn.functional, t), [x], rtol=tol, atol=tol
    )
    assert np.all(np.isfinite(outs[0])) and np.all(np.isfinite(grads[0]))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck_every_axis(name, shape):
    fn = getattr(F, name)
    x = np.random.default_rng(3).standard_normal(shape)
    for axis in range(-len(shape), len(shape)):
        assert gradcheck(lambda a, axis=axis: fn(a, axis=axis), [_leaf(x)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_input_used_twice(name):
    fn = getattr(F, name)
    x = _leaf(np.random.default_rng(4).standard_normal((3, 4)))
    assert gradcheck(lambda a: fn(a * a, axis=1) * a, [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_matches_torch(name, axis):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((3, 4, 5))
    assert_matches_torch(
        getattr(F, name),
        getattr(torch.nn.functional, name),
        [x],
        rtol=1e-10,
        atol=1e-12,
        cr_kwargs={"axis": axis},
        torch_kwargs={"dim": axis},
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_stable_at_1e4(name, dtype):
    torch = pytest.importorskip("torch")
    x = np.array(
        [[1e4, -1e4, 0.0, 1.0], [-1e4, -1e4, -1e4, -1e4 + 1], [1e4, 1e4, 1e4, 1e4]], dtype=dtype
    )
    tol = 1e-5 if dtype == np.float32 else 1e-10
    outs, grads = assert_matches_torch(
        getattr(F, name),
        getattr(torch.nn.functional, name),
        [x],
        rtol=tol,
        atol=tol,
        torch_kwargs={"dim": -1},
    )
    assert np.all(np.isfinite(outs[0])) and np.all(np.isfinite(grads[0]))


def test_softmax_rows_sum_to_one():
    y = F.softmax(cr.randn(4, 7, dtype="float64") * 50, axis=1)
    np.testing.assert_allclose(y.numpy().sum(axis=1), np.ones(4), rtol=1e-12)


def test_relu_and_leaky_relu_gradient_at_zero_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, 0.0, 1.0])
    assert_matches_torch(F.relu, torch.relu, [x])
    assert_matches_torch(F.leaky_relu, torch.nn.functional.leaky_relu, [x])
    assert_matches_torch(F.elu, torch.nn.functional.elu, [x])


def test_heaviside_is_a_step_without_gradient():
    x = cr.tensor([-1.0, 0.0, 0.5], requires_grad=True)
    y = F.heaviside(x)
    np.testing.assert_array_equal(y.numpy(), [0.0, 1.0, 1.0])
    assert not y.requires_grad
    np.testing.assert_array_equal(F.heaviside(x, threshold=0.6).numpy(), [0.0, 0.0, 0.0])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(cr.randn(3), approximate="fast")
    with pytest.raises(ValueError, match=r"axis 2 .*\(3, 4\)"):
        F.softmax(cr.randn(3, 4), axis=2)
    with pytest.raises(ValueError, match="0-d"):
        F.log_softmax(cr.tensor(1.0))


@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((3, 0), 1), ((0, 3), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_empty_tensor_is_empty(name, shape, axis):
    x = cr.zeros(*shape, dtype="float64", requires_grad=True)
    y = getattr(F, name)(x, axis=axis)
    y.sum().backward()
    assert y.shape == shape and x.grad.shape == shape


def test_gelu_without_scipy_matches_torch(monkeypatch):
    torch = pytest.importorskip("torch")
    import sys

    monkeypatch.setitem(sys.modules, "scipy.special", None)  # importing it now raises ImportError
    for approximate in ("none", "tanh"):
        assert_matches_torch(
            F.gelu,
            torch.nn.functional.gelu,
            [_away_from_kinks((3, 4), seed=6)],
            rtol=1e-12,
            atol=1e-14,
            kwargs={"approximate": approximate},
        )


@pytest.mark.parametrize(
    "shapes", [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (3, 1)), ((40, 30, 30), (40, 30, 30))]
)
def test_add_relu_equals_relu_of_sum_with_gradients(shapes):
    rng = np.random.default_rng(3)
    a = cr.tensor(rng.standard_normal(shapes[0]), dtype="float64", requires_grad=True)
    b = cr.tensor(rng.standard_normal(shapes[1]), dtype="float64", requires_grad=True)
    assert gradcheck(F.add_relu, [a, b]) if a.numel() < 100 else True
    up = cr.tensor(rng.standard_normal(shapes[0]), dtype="float64")
    (F.add_relu(a, b) * up).sum().backward()
    ga, gb = a.grad.numpy(), b.grad.numpy()
    a.grad = b.grad = None
    (F.relu(a + b) * up).sum().backward()
    np.testing.assert_array_equal(F.add_relu(a, b).numpy(), F.relu(a + b).numpy())
    np.testing.assert_allclose(ga, a.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb, b.grad.numpy(), rtol=1e-12)


def test_add_relu_keeps_the_dtype_with_a_python_number():
    x = cr.tensor([-1.0, 0.5, 2.0], dtype="float32")
    y = F.add_relu(x, 0.25)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y.numpy(), np.array([0.0, 0.75, 2.25], np.float32))
