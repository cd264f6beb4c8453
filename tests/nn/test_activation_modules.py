"""Activation modules: each matches its PyTorch twin forward and backward, and prints settings."""

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr
from chainrule import nn

CASES = [
    ("Sigmoid", {}, {}),
    ("Tanh", {}, {}),
    ("ReLU", {}, {}),
    ("LeakyReLU", {"negative_slope": 0.2}, {"negative_slope": 0.2}),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}, {"beta": 2.0, "threshold": 5.0}),
    ("ELU", {"alpha": 0.5}, {"alpha": 0.5}),
    ("GELU", {}, {}),
    ("GELU", {"approximate": "tanh"}, {"approximate": "tanh"}),
    ("Softmax", {"dim": 1}, {"dim": 1}),
    ("LogSoftmax", {"dim": -1}, {"dim": -1}),
]


def _away_from_kinks(shape):
    x = np.random.default_rng(0).standard_normal(shape) * 3
    x[np.abs(x) < 1e-3] = 0.5
    return x


@pytest.mark.parametrize(("name", "ours", "theirs"), CASES)
def test_activation_module_matches_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, name)(**ours)
    twin = getattr(torch.nn, name)(**theirs)
    assert_matches_torch(layer, twin, [_away_from_kinks((4, 5, 3))], rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize(("name", "ours", "theirs"), CASES)
def test_activation_module_has_no_state_and_ignores_mode(name, ours, theirs):
    layer = getattr(nn, name)(**ours)
    x = cr.randn(3, 4)
    y = layer(x).data.copy()
    np.testing.assert_array_equal(layer.eval()(x).data, y)
    assert layer.num_parameters() == 0 and layer.state_dict() == {}


def test_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU(0.1)) == "LeakyReLU(negative_slope=0.1)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"


def test_stable_for_large_inputs():
    x = cr.tensor([-1e4, 0.0, 1e4])
    for layer in (nn.Sigmoid(), nn.Tanh(), nn.Softplus(), nn.ELU(), nn.GELU(), nn.LogSoftmax()):
        assert np.isfinite(layer(x).data).all(), type(layer).__name__
    np.testing.assert_allclose(nn.Softmax()(x).data, [0.0, 0.0, 1.0])


def test_bad_arguments_and_path_in_errors():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
    model = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=2))
    with pytest.raises(
        ValueError, match=r"raised in model.1 \[Softmax\] called with input shape \(2, 3\)"
    ):
        model(cr.zeros(2, 3))
