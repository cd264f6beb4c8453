"""nn.init: statistics of each scheme, fans, gains, orthogonality and seeded repeatability."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import init


def big(*shape, dtype="float32"):
    return nn.Parameter(cr.zeros(*shape, dtype=dtype))


def test_uniform_and_normal_statistics():
    w = init.uniform_(big(400, 500), -2.0, 3.0)
    assert w.data.min() >= -2.0 and w.data.max() < 3.0
    assert abs(w.data.mean() - 0.5) < 0.02
    w = init.normal_(big(400, 500), mean=1.0, std=2.0)
    assert abs(w.data.mean() - 1.0) < 0.02 and abs(w.data.std() - 2.0) < 0.02


def test_constants():
    w = big(3, 4)
    assert init.ones_(w) is w and (w.data == 1).all()
    assert (init.zeros_(w).data == 0).all()
    assert (init.constant_(w, 0.25).data == 0.25).all()
    np.testing.assert_array_equal(init.eye_(w).data, np.eye(3, 4))


@pytest.mark.parametrize(
    ("shape", "fans"), [((10, 20), (20, 10)), ((16, 3, 5, 5), (75, 400)), ((8, 4, 3), (12, 24))]
)
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(big(*shape)) == fans


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions, got shape \\(5,\\)"):
        init.xavier_uniform_(big(5))


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'; available: linear"):
        init.calculate_gain("swish")


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.3)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param)
        )


def test_xavier_statistics():
    fan_in, fan_out = 600, 400
    w = init.xavier_uniform_(big(fan_out, fan_in), gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    std = 2.0 * math.sqrt(2 / (fan_in + fan_out))
    assert w.data.std() == pytest.approx(std, rel=0.02)
    w = init.xavier_normal_(big(fan_out, fan_in))
    assert w.data.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_normal_std(mode):
    w = init.kaiming_normal_(big(500, 800), mode=mode, nonlinearity="relu")
    fan = 800 if mode == "fan_in" else 500
    assert w.data.std() == pytest.approx(math.sqrt(2 / fan), rel=0.02)
    assert abs(w.data.mean()) < 0.1 * math.sqrt(2 / fan)


def test_kaiming_uniform_bound_and_std():
    w = init.kaiming_uniform_(big(64, 32, 3, 3), a=0.0, nonlinearity="relu")
    fan_in = 32 * 9
    bound = math.sqrt(3) * math.sqrt(2 / fan_in)
    assert np.abs(w.data).max() <= bound
    assert w.data.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.03)
    # PyTorch's Linear default: a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w = init.kaiming_uniform_(big(300, 100), a=math.sqrt(5))
    assert np.abs(w.data).max() <= 0.1 and np.abs(w.data).max() > 0.099


def test_kaiming_bad_mode():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(big(3, 3), mode="fan_avg")


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (40, 40), (16, 4, 3, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(big(*shape, dtype="float64"), gain=1.0)
    flat = w.data.reshape(shape[0], -1)
    rows, cols = flat.shape
    product = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(product, np.eye(min(rows, cols)), atol=1e-10)
    w = init.orthogonal_(big(20, 20, dtype="float64"), gain=3.0)
    np.testing.assert_allclose(w.data @ w.data.T, 9 * np.eye(20), atol=1e-9)


@pytest.mark.parametrize(
    "fill",
    [
        lambda w: init.uniform_(w),
        lambda w: init.normal_(w),
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.orthogonal_,
    ],
)
def test_seeded_repeatability(fill):
    cr.manual_seed(7)
    a = fill(big(6, 5)).data.copy()
    b = fill(big(6, 5)).data.copy()
    cr.manual_seed(7)
    again = fill(big(6, 5)).data.copy()
    np.testing.assert_array_equal(a, again)
    assert not np.array_equal(a, b)


def test_explicit_generator_leaves_the_package_generator_alone():
    state = cr.get_rng_state()
    a = init.normal_(big(3, 3), generator=np.random.default_rng(5)).data.copy()
    b = init.normal_(big(3, 3), generator=np.random.default_rng(5)).data.copy()
    np.testing.assert_array_equal(a, b)
    assert cr.get_rng_state() == state


def test_init_keeps_dtype_leaf_and_aliases():
    w = big(4, 4, dtype="float64")
    init.he_normal_(w)
    assert w.dtype == np.float64 and w.is_leaf and w.grad_fn is None and w.requires_grad
    assert (
        init.glorot_uniform_ is init.xavier_uniform_ and init.glorot_normal_ is init.xavier_normal_
    )
    assert init.he_uniform_ is init.kaiming_uniform_ and init.he_normal_ is init.kaiming_normal_


def test_init_inside_grad_mode_and_on_empty_tensors():
    w = big(3, 0)
    assert init.kaiming_uniform_(w) is w
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
