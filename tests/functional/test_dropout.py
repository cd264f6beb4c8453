"""dropout and dropout2d: statistics, inverted scaling, evaluation identity, seeding, gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    x = cr.ones(200_000)
    y = F.dropout(x, p).data
    zeroed = np.mean(y == 0)
    assert abs(zeroed - p) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1.0 / (1.0 - p)], rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02  # inverted scaling keeps the mean
    assert y.dtype == np.float32


def test_dropout_eval_and_edge_probabilities_are_identity_or_zero():
    x = cr.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.data, 0)
    assert not np.isnan(y.data).any()
    assert F.dropout2d(cr.randn(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)


def test_dropout_is_seeded():
    x = cr.randn(50, 20)
    cr.manual_seed(7)
    a = F.dropout(x, 0.3).data
    cr.manual_seed(7)
    b = F.dropout(x, 0.3).data
    c = F.dropout(x, 0.3).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_dropout_gradient_is_the_mask():
    x = cr.tensor(np.random.default_rng(0).standard_normal((4, 6)), requires_grad=True)

    def fn(x):
        cr.manual_seed(11)  # the same mask at every call of the finite differences
        return F.dropout(x, 0.4)

    assert cr.gradcheck(fn, [x])
    y = fn(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, (y.data != 0) / 0.6)


def test_dropout2d_drops_whole_channels():
    x = cr.ones(64, 32, 3, 3)
    y = F.dropout2d(x, 0.25).data
    per_channel = y.reshape(64, 32, 9)
    assert (per_channel == per_channel[:, :, :1]).all()  # a channel is all kept or all dropped
    dropped = np.mean(per_channel[:, :, 0] == 0)
    assert abs(dropped - 0.25) < 0.03
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    unbatched = F.dropout2d(cr.ones(32, 3, 3), 0.5).data.reshape(32, 9)
    assert (unbatched == unbatched[:, :1]).all()


def test_dropout2d_gradcheck():
    x = cr.tensor(np.random.default_rng(1).standard_normal((2, 4, 3, 3)), requires_grad=True)

    def fn(x):
        cr.manual_seed(3)
        return F.dropout2d(x, 0.5)

    assert cr.gradcheck(fn, [x])


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        F.dropout(cr.ones(3), p)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        F.dropout2d(cr.ones(1, 3, 2, 2), p)


def test_dropout2d_rejects_wrong_ndim():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(C, H, W\), got \(4, 5\)"):
        F.dropout2d(cr.ones(4, 5), 0.5)
