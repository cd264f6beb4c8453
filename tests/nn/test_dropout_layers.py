"""Dropout and Dropout2d layers: training statistics, evaluation identity, seeding, repr, errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_dropout_train_statistics_and_eval_identity():
    drop = nn.Dropout(0.3)
    x = cr.ones(100_000)
    y = drop(x).data
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.02
    drop.eval()
    assert drop(x) is x


def test_dropout2d_drops_channels_in_training_only():
    drop = nn.Dropout2d(0.5)
    x = cr.ones(32, 16, 4, 4)
    y = drop(x).data.reshape(32, 16, 16)
    assert (y == y[:, :, :1]).all()
    assert abs(np.mean(y[:, :, 0] == 0) - 0.5) < 0.06
    assert drop.eval()(x) is x


def test_seeded_repeatability_in_a_model():
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))
    x = cr.randn(4, 8)
    cr.manual_seed(2)
    a = model(x).data
    cr.manual_seed(2)
    b = model(x).data
    np.testing.assert_array_equal(a, b)


def test_gradient_flows_through_kept_units_only():
    x = cr.randn(6, 5, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, (y.data != 0) * 2.0)


def test_repr_and_errors():
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"
    assert repr(nn.Dropout2d()) == "Dropout2d(p=0.5)"
    with pytest.raises(ValueError, match=r"Dropout: p must lie in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"Dropout2d\(p=0.5\) expected a 3 or 4-d input"):
        nn.Dropout2d()(cr.randn(4, 5))
