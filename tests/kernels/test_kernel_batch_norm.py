"""Fused batch norm against the textbook formulas, finite differences and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tolerance
from kernel_reference import numeric_vjp

from chainrule.kernels import batch_norm_backward, batch_norm_forward_eval, batch_norm_forward_train

SHAPES = [(8, 5), (4, 3, 5, 6), (1, 2, 7, 3), (3, 4, 9)]


def _reference(x, gamma, beta, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x = x.astype(np.float64)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return xhat * gamma.reshape(shape) + beta.reshape(shape), mean, var


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_train_matches_formulas(backend, rng, dtype, shape):
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    gamma = rng.standard_normal(shape[1]).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    y, mean, var, invstd = batch_norm_forward_train(x, gamma, beta, 1e-5)
    ry, rmean, rvar = _reference(x, gamma, beta, 1e-5)
    tol = tolerance(dtype)
    assert y.dtype == mean.dtype == var.dtype == invstd.dtype == dtype
    np.testing.assert_allclose(y, ry, **tol)
    np.testing.assert_allclose(mean, rmean, **tol)
    np.testing.assert_allclose(var, rvar, **tol)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(rvar + 1e-5), **tol)


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_backward_matches_finite_differences(backend, rng, shape):
    x = rng.standard_normal(shape) * 2 + 1
    gamma = rng.standard_normal(shape[1])
    beta = rng.standard_normal(shape[1])
    g = rng.standard_normal(shape)
    y, mean, var, invstd = batch_norm_forward_train(x, gamma, beta, 1e-3)
    dx, dgamma, dbeta = batch_norm_backward(g, x, gamma, mean, invstd)
    np.testing.assert_allclose(
        dx, numeric_vjp(lambda v: _reference(v, gamma, beta, 1e-3)[0], x, g), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        dgamma,
        numeric_vjp(lambda v: _reference(x, v, beta, 1e-3)[0], gamma, g),
        rtol=1e-6,
        atol=1e-7,
    )
    np.testing.assert_allclose(
        dbeta,
        numeric_vjp(lambda v: _reference(x, gamma, v, 1e-3)[0], beta, g),
        rtol=1e-6,
        atol=1e-7,
    )


def test_batch_norm_eval_and_its_backward(backend, rng):
    x = rng.standard_normal((3, 4, 5, 2))
    rm, rv = rng.standard_normal(4), rng.random(4) + 0.5
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    y, invstd = batch_norm_forward_eval(x, rm, rv, gamma, beta, 1e-5)
    shape = (1, 4, 1, 1)
    expected = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + 1e-5) * gamma.reshape(
        shape
    ) + beta.reshape(shape)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    g = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = batch_norm_backward(g, x, gamma, rm, invstd, training=False)
    np.testing.assert_allclose(dx, g * (gamma * invstd).reshape(shape), rtol=1e-12)
    xhat = (x - rm.reshape(shape)) * invstd.reshape(shape)
    np.testing.assert_allclose(dgamma, (g * xhat).sum(axis=(0, 2, 3)), rtol=1e-10)
    np.testing.assert_allclose(dbeta, g.sum(axis=(0, 2, 3)), rtol=1e-10)


def test_batch_norm_without_affine_and_without_dx(backend, rng):
    x = rng.standard_normal((6, 3))
    y, mean, var, invstd = batch_norm_forward_train(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), var / (var + 1e-5), rtol=1e-10)
    dx, dgamma, dbeta = batch_norm_backward(np.ones_like(x), x, None, mean, invstd, need_dx=False)
    assert dx is None
    np.testing.assert_allclose(dbeta, 6.0)
    np.testing.assert_allclose(dgamma, 0.0, atol=1e-12)


def test_batch_norm_large_mean_keeps_variance(backend, rng):
    x = (rng.standard_normal((64, 2)) + 1e4).astype(np.float32)
    _, _, var, _ = batch_norm_forward_train(x)
    np.testing.assert_allclose(var, x.astype(np.float64).var(axis=0), rtol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(16, 6), (4, 3, 5, 7)])
def test_batch_norm_matches_torch(backend, rng, dtype, shape):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape).astype(dtype)
    gamma = rng.standard_normal(shape[1]).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    yt = torch.nn.functional.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    yt.backward(torch.tensor(g))
    y, mean, var, invstd = batch_norm_forward_train(x, gamma, beta, 1e-5)
    dx, dgamma, dbeta = batch_norm_backward(g, x, gamma, mean, invstd)
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-10}
    np.testing.assert_allclose(y, yt.detach().numpy(), **tol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **tol)
    np.testing.assert_allclose(dgamma, gt.grad.numpy(), **tol)
    np.testing.assert_allclose(dbeta, bt.grad.numpy(), **tol)


def test_batch_norm_bad_arguments():
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        batch_norm_forward_train(np.zeros(5))
    with pytest.raises(ValueError, match="gamma must have shape"):
        batch_norm_forward_train(np.zeros((4, 3)), np.ones(2))
    with pytest.raises(TypeError, match="floating"):
        batch_norm_forward_train(np.zeros((4, 3), np.int32))
    with pytest.raises(ValueError, match="must match"):
        batch_norm_backward(np.zeros((4, 2)), np.zeros((4, 3)), None, np.zeros(3), np.ones(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("relu", [False, True])
def test_batch_norm_adds_a_residual_before_the_relu(backend, rng, dtype, shape, relu):
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    r = rng.standard_normal(shape).astype(dtype)
    gamma = rng.standard_normal(shape[1]).astype(dtype)
    beta = rng.standard_normal(shape[1]).astype(dtype)
    ry = _reference(x, gamma, beta, 1e-5)[0] + r
    if relu:
        ry = np.maximum(ry, 0)
    y = batch_norm_forward_train(x, gamma, beta, 1e-5, relu, r)[0]
    np.testing.assert_allclose(y, ry, **tolerance(dtype))
    axes = (0,) + tuple(range(2, x.ndim))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    shape_c = (1, -1) + (1,) * (x.ndim - 2)
    expected = (x - mean.reshape(shape_c)) / np.sqrt(var.reshape(shape_c) + 1e-5)
    expected = expected * gamma.reshape(shape_c) + beta.reshape(shape_c) + r
    if relu:
        expected = np.maximum(expected, 0)
    y_eval = batch_norm_forward_eval(x, mean, var, gamma, beta, 1e-5, relu, r)[0]
    np.testing.assert_allclose(y_eval, expected, **tolerance(dtype))


def test_batch_norm_residual_shape_is_checked(backend):
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"batch_norm: residual \(2, 3\) must match x"):
        batch_norm_forward_train(x, residual=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"batch_norm\(eval\): residual"):
        batch_norm_forward_eval(x, np.zeros(3), np.ones(3), residual=np.ones((2, 4, 3)))
