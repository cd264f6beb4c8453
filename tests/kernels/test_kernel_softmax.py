"""Fused softmax cross-entropy and log-softmax against plain formulas and F.cross_entropy."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tolerance
from kernel_reference import numeric_vjp

from chainrule.kernels import (
    log_softmax_backward,
    log_softmax_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)


def _ce_reference(z, t, w, ignore, eps, reduction):
    """Loss by the definition, one row at a time, in float64."""
    N, C = z.shape
    w = np.ones(C) if w is None else w
    losses, wts = np.zeros(N), np.zeros(N)
    for i in range(N):
        if t[i] == ignore:
            continue
        row = z[i].astype(np.float64)
        lp = row - np.log(np.sum(np.exp(row - row.max()))) - row.max()
        q = np.full(C, eps / C)
        q[t[i]] += 1 - eps
        # smoothing weights each class by w[c]; the true class by w[t]
        losses[i] = -(1 - eps) * w[t[i]] * lp[t[i]] - eps / C * np.sum(w * lp)
        wts[i] = w[t[i]]
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / wts.sum()


CE_CASES = [
    (None, -100, 0.0, "mean"),
    (None, -100, 0.0, "sum"),
    (None, 2, 0.0, "none"),
    ("w", -100, 0.0, "mean"),
    ("w", 1, 0.1, "mean"),
    (None, 0, 0.25, "sum"),
    ("w", -100, 0.3, "none"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight,ignore,eps,reduction", CE_CASES)
def test_cross_entropy_matches_definition(backend, rng, dtype, weight, ignore, eps, reduction):
    N, C = 7, 5
    z = (rng.standard_normal((N, C)) * 3).astype(dtype)
    t = rng.integers(0, C, N)
    t[1] = 2
    w = rng.random(C) + 0.5 if weight else None
    loss, probs = softmax_cross_entropy_forward(z, t, w, ignore, eps, reduction)
    assert loss.dtype == dtype and probs.dtype == dtype
    ref = _ce_reference(z, t, w, ignore, eps, reduction)
    np.testing.assert_allclose(loss, ref, **tolerance(dtype))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    g = rng.standard_normal(N) if reduction == "none" else np.array(1.7)
    dz = softmax_cross_entropy_backward(g, probs, t, w, ignore, eps, reduction)
    expected = numeric_vjp(lambda v: _ce_reference(v, t, w, ignore, eps, reduction), z, g)
    np.testing.assert_allclose(
        dz,
        expected,
        rtol=1e-4 if dtype == np.float32 else 1e-6,
        atol=1e-5 if dtype == np.float32 else 1e-8,
    )
    if ignore in t:
        assert np.all(dz[t == ignore] == 0)


def test_cross_entropy_is_stable_for_huge_logits(backend):
    z = np.array([[1000.0, 0.0, -1000.0], [-5e4, 5e4, 0.0]], dtype=np.float32)
    loss, probs = softmax_cross_entropy_forward(z, np.array([2, 1]), reduction="none")
    assert np.all(np.isfinite(loss)) and loss[0] == pytest.approx(2000.0) and loss[1] == 0.0
    assert np.all(np.isfinite(probs))


def test_cross_entropy_all_ignored_mean_is_nan(backend):
    loss, probs = softmax_cross_entropy_forward(np.zeros((2, 3)), np.array([-100, -100]))
    assert np.isnan(loss)
    dz = softmax_cross_entropy_backward(1.0, probs, np.array([-100, -100]))
    assert np.all(dz == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight,ignore,eps,reduction", CE_CASES)
def test_cross_entropy_matches_torch(backend, rng, dtype, weight, ignore, eps, reduction):
    torch = pytest.importorskip("torch")
    N, C = 9, 4
    z = (rng.standard_normal((N, C)) * 2).astype(dtype)
    t = rng.integers(0, C, N)
    t[0] = 1
    w = (rng.random(C) + 0.5).astype(dtype) if weight else None
    zt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(
        zt,
        torch.tensor(t),
        None if w is None else torch.tensor(w),
        ignore_index=ignore,
        reduction=reduction,
        label_smoothing=eps,
    )
    g = rng.standard_normal(N).astype(dtype) if reduction == "none" else np.array(1.0, dtype)
    lt.backward(torch.tensor(g))
    loss, probs = softmax_cross_entropy_forward(z, t, w, ignore, eps, reduction)
    dz = softmax_cross_entropy_backward(g, probs, t, w, ignore, eps, reduction)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(loss, lt.detach().numpy(), **tol)
    np.testing.assert_allclose(dz, zt.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (4, 6), (2, 3, 7)])
def test_log_softmax(backend, rng, dtype, shape):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    y = log_softmax_forward(x)
    x64 = x.astype(np.float64)
    expected = x64 - np.log(np.exp(x64).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(y, expected, **tolerance(dtype))
    g = rng.standard_normal(shape).astype(dtype)
    dx = log_softmax_backward(g, y)

    def f(v):
        return v - np.log(np.exp(v).sum(axis=-1, keepdims=True))

    np.testing.assert_allclose(dx, numeric_vjp(f, x, g), rtol=1e-4, atol=1e-5)


def test_log_softmax_matches_torch_and_survives_large_inputs(backend, rng):
    torch = pytest.importorskip("torch")
    x = (rng.standard_normal((3, 5)) * 300).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.log_softmax(xt, dim=-1)
    g = rng.standard_normal((3, 5)).astype(np.float32)
    yt.backward(torch.tensor(g))
    y = log_softmax_forward(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(log_softmax_backward(g, y), xt.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"logits": np.zeros(3), "targets": np.array([0])}, r"\(N, C\)"),
        ({"logits": np.zeros((2, 3)), "targets": np.array([0, 3])}, "out of range"),
        ({"logits": np.zeros((2, 3)), "targets": np.array([0.0, 1.0])}, "integer targets"),
        (
            {"logits": np.zeros((2, 3)), "targets": np.array([0, 1]), "reduction": "avg"},
            "available: mean, sum, none",
        ),
        (
            {"logits": np.zeros((2, 3)), "targets": np.array([0, 1]), "weight": np.ones(2)},
            "weight must have shape",
        ),
        (
            {"logits": np.zeros((2, 3)), "targets": np.array([0, 1]), "label_smoothing": 1.5},
            "label_smoothing",
        ),
    ],
)
def test_cross_entropy_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy_forward(**kwargs)
