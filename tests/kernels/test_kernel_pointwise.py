"""The threaded element-wise kernels against NumPy's expressions, on both paths."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels._dispatch import SERIAL_BELOW
from chainrule.kernels.pointwise import (
    add_relu,
    add_row_bias_,
    add_same_shape,
    relu_backward,
    relu_forward,
    relu_inplace,
)

# one size below the threaded threshold, one above it (and not a multiple of anything nice)
SIZES = [(3, 5, 7), (2, 3, SERIAL_BELOW // 6 + 37)]


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_matches_maximum(backend, rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[::11] = 0.0
    y = relu_forward(x)
    assert y.dtype == dtype and y.shape == x.shape and y is not x
    np.testing.assert_array_equal(y, np.maximum(x, 0))


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_passes_gradient_where_output_positive(backend, rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = relu_forward(x)
    dx = relu_backward(g, y)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, np.where(x > 0, g, 0))


@pytest.mark.parametrize("shape", SIZES)
def test_relu_keeps_nan_and_blocks_nan_gradient_of_closed_units(backend, shape):
    x = np.full(shape, -1.0, np.float32)
    x.flat[0] = np.nan
    x.flat[1] = 2.0
    y = relu_forward(x)
    assert np.isnan(y.flat[0]) and y.flat[1] == 2.0 and y.flat[2] == 0.0
    g = np.full(shape, np.nan, np.float32)
    dx = relu_backward(g, y)
    assert dx.flat[2] == 0.0 and np.isnan(dx.flat[1])


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_same_shape_matches_numpy(backend, rng, shape, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    out = add_same_shape(a, b)
    assert out is not a and out is not b
    np.testing.assert_array_equal(out, a + b)


def test_non_contiguous_and_broadcast_operands_take_numpy(backend, rng):
    big = rng.standard_normal((4, 2 * SERIAL_BELOW)).astype(np.float32)
    view = big[:, ::2]
    np.testing.assert_array_equal(relu_forward(view), np.maximum(view, 0))
    row = rng.standard_normal(view.shape[1]).astype(np.float32)
    np.testing.assert_array_equal(add_same_shape(view, row), view + row)
    mixed = view.astype(np.float64)
    np.testing.assert_array_equal(add_same_shape(np.ascontiguousarray(view), mixed), view + mixed)


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_relu_matches_numpy(backend, rng, shape, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    a.flat[0] = np.nan
    out = add_relu(a, b)
    assert out.dtype == dtype and np.isnan(out.flat[0])
    np.testing.assert_array_equal(out, np.maximum(a + b, 0))
    np.testing.assert_array_equal(add_relu(a, b[..., :1]), np.maximum(a + b[..., :1], 0))


@pytest.mark.parametrize("shape", SIZES)
def test_relu_inplace_overwrites_its_argument(backend, rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    x.flat[0] = np.nan
    expected = np.maximum(x, 0)
    assert relu_inplace(x) is x
    np.testing.assert_array_equal(x, expected)
    view = rng.standard_normal((4, 2 * SERIAL_BELOW)).astype(np.float32)[:, ::2]
    expected = np.maximum(view, 0)
    relu_inplace(view)
    np.testing.assert_array_equal(view, expected)


@pytest.mark.parametrize("shape", [(700, 2000), (3, 5)])
def test_add_row_bias_adds_in_place(backend, shape):
    rng = np.random.default_rng(11)
    y = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    expected = y + b
    out = add_row_bias_(y, b)
    assert out is y
    np.testing.assert_array_equal(y, expected)
