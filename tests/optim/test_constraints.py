"""The max-norm constraint (Srivastava et al. 2014; Kim 2014): the math, the hook, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim


def _rows(n=6, d=4, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, d))
    return w * np.array([0.1, 0.5, 1.0, 3.0, 10.0, 0.0])[:n, None]  # norms below and above c


def test_rows_above_the_bound_land_on_it():
    c = 1.5
    w0 = _rows()
    w = cr.tensor(w0, requires_grad=True)
    out = optim.max_norm_(w, max_value=c)
    assert out is w and w.grad_fn is None
    before = np.linalg.norm(w0, axis=1)
    after = np.linalg.norm(w.data, axis=1)
    over = before > c
    assert over.any() and (~over).any()
    np.testing.assert_allclose(after[over], c, rtol=1e-12)
    np.testing.assert_array_equal(w.data[~over], w0[~over])  # untouched, bit for bit
    np.testing.assert_allclose(w.data[over], w0[over] * (c / before[over])[:, None], rtol=1e-12)


def test_axis_choice():
    w0 = _rows().T.copy()  # columns are the vectors now (Keras's (in, out) layout)
    w = cr.tensor(w0)
    optim.max_norm_(w, max_value=1.0, axis=0)
    assert np.all(np.linalg.norm(w.data, axis=0) <= 1.0 + 1e-12)
    vec = cr.tensor([3.0, 4.0])  # a 1-D tensor is one vector
    np.testing.assert_allclose(optim.max_norm_(vec, 1.0).data, [0.6, 0.8], rtol=1e-6)


def test_conv_filters_are_the_vectors():
    rng = np.random.default_rng(1)
    w0 = 3.0 * rng.standard_normal((8, 3, 3, 3))
    w = cr.tensor(w0)
    optim.max_norm_(w, max_value=2.0)
    norms = np.sqrt((w.data.astype(np.float64) ** 2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(
        norms, np.minimum(np.sqrt((w0**2).sum(axis=(1, 2, 3))), 2.0), rtol=1e-5
    )


def test_matches_torch_renorm():
    torch = pytest.importorskip("torch")
    w0 = _rows()
    w = cr.tensor(w0)
    optim.max_norm_(w, max_value=1.5)
    expected = torch.renorm(torch.from_numpy(w0), p=2, dim=0, maxnorm=1.5).numpy()
    np.testing.assert_allclose(w.data, expected, rtol=1e-6)  # renorm divides by norm + 1e-7


def test_attached_to_an_optimizer_like_kim_2014():
    rng = np.random.default_rng(2)
    w = cr.tensor(rng.standard_normal((2, 10)), requires_grad=True)  # output layer: 2 classes
    opt = optim.SGD([w], lr=5.0)
    handle = optim.MaxNorm(w, max_value=3.0).attach(opt)
    for _ in range(5):
        w.grad = cr.tensor(rng.standard_normal((2, 10)))
        opt.step()
        assert np.all(np.linalg.norm(w.data, axis=1) <= 3.0 + 1e-12)
    handle.remove()
    w.grad = cr.tensor(10 * np.ones((2, 10)))
    opt.step()
    assert np.all(np.linalg.norm(w.data, axis=1) > 3.0)


def test_used_as_a_function_and_as_a_post_hook():
    w = cr.tensor([[3.0, 4.0], [0.0, 1.0]], requires_grad=True)
    constraint = optim.MaxNorm([w], max_value=2.0)
    constraint()
    np.testing.assert_allclose(w.data, [[1.2, 1.6], [0.0, 1.0]], rtol=1e-6)
    opt = optim.Adam([w], lr=1.0)
    opt.register_step_post_hook(constraint)
    w.grad = cr.tensor([[1.0, 1.0], [-1.0, -1.0]])
    opt.step()
    assert np.all(np.linalg.norm(w.data, axis=1) <= 2.0 + 1e-6)
    assert "max_value=2.0" in repr(constraint)


def test_bad_input():
    w = cr.zeros(2, 3)
    with pytest.raises(ValueError, match="max_value must be a number > 0"):
        optim.max_norm_(w, max_value=0.0)
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor with 2 dimensions"):
        optim.max_norm_(w, axis=2)
    with pytest.raises(ValueError, match="0-d tensor has no weight vectors"):
        optim.max_norm_(cr.tensor(1.0))
    with pytest.raises(TypeError, match="expected a Tensor"):
        optim.max_norm_(np.zeros(3))
    with pytest.raises(ValueError, match="MaxNorm: axis 3"):
        optim.MaxNorm([w], axis=3)
    with pytest.raises(TypeError, match="expected an Optimizer"):
        optim.MaxNorm([w]).attach("sgd")
