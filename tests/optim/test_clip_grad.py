"""Gradient clipping by total norm and by value, against PyTorch and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

SHAPES = [(5, 4), (4,), (3, 3, 2)]


def _grads(scale: float = 1.0, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(s) for s in SHAPES]


def _params(grads) -> list[cr.Tensor]:
    params = []
    for g in grads:
        p = cr.zeros(*g.shape, dtype="float64", requires_grad=True)
        p.grad = cr.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = _grads()
    params = _params(grads)
    total = optim.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tparams, grads, strict=True):
        t.grad = torch.from_numpy(g.copy())
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert isinstance(total, cr.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for p, t in zip(params, tparams, strict=True):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_by_hand():
    a = cr.zeros(2, requires_grad=True)
    b = cr.zeros(1, requires_grad=True)
    a.grad, b.grad = cr.tensor([3.0, 0.0]), cr.tensor([4.0])
    total = optim.clip_grad_norm_([a, b], max_norm=2.5)
    assert total.item() == pytest.approx(5.0)
    assert total.dtype == np.float32
    np.testing.assert_allclose(a.grad.data, [1.5, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, [2.0], rtol=1e-5)
    # below the bound: untouched
    total = optim.clip_grad_norm_([a, b], max_norm=10.0)
    np.testing.assert_allclose(a.grad.data, [1.5, 0.0], rtol=1e-5)
    assert total.item() == pytest.approx(2.5)


def test_params_without_grad_are_skipped():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    a.grad = cr.tensor([0.0, 2.0])
    assert optim.clip_grad_norm_([a, b], 1.0).item() == pytest.approx(2.0)
    np.testing.assert_allclose(a.grad.data, [0.0, 1.0], rtol=1e-5)
    assert b.grad is None
    assert optim.clip_grad_norm_([b], 1.0).item() == 0.0
    assert optim.clip_grad_norm_(a, 1.0).item() == pytest.approx(1.0, rel=1e-5)  # a single tensor


def test_nonfinite_norm():
    a = cr.zeros(2, requires_grad=True)
    a.grad = cr.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is inf"):
        optim.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(a.grad.data, [np.inf, 1.0])  # left as it was
    optim.clip_grad_norm_([a], 1.0)  # scaled by max_norm / inf = 0, as in PyTorch
    assert a.grad.data[1] == 0.0


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    grads = _grads(scale=2.0)
    params = _params(grads)
    optim.clip_grad_value_(params, 0.7)
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tparams, grads, strict=True):
        t.grad = torch.from_numpy(g.copy())
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for p, t in zip(params, tparams, strict=True):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
    assert max(np.abs(p.grad.data).max() for p in params) == 0.7


def test_clipping_after_backward():
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()  # grad (6, 8), norm 10
    assert optim.clip_grad_norm_([w], 1.0).item() == pytest.approx(10.0)
    np.testing.assert_allclose(np.linalg.norm(w.grad.data), 1.0, rtol=1e-5)


def test_bad_input():
    a = cr.zeros(2, requires_grad=True)
    a.grad = cr.ones(2)
    with pytest.raises(ValueError, match="max_norm must be a number >= 0"):
        optim.clip_grad_norm_([a], -1.0)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        optim.clip_grad_norm_([a], 1.0, norm_type=0)
    with pytest.raises(ValueError, match="clip_value must be a number >= 0"):
        optim.clip_grad_value_([a], -0.5)
    with pytest.raises(TypeError, match="parameter 0 must be a Tensor"):
        optim.clip_grad_value_([np.ones(2)], 0.5)
