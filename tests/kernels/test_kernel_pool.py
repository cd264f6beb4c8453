"""Max, average and adaptive average pooling against loop references and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tolerance
from kernel_reference import adaptive_avg_ref, avg_pool_ref, max_pool_ref, numeric_vjp

from chainrule.kernels import (
    adaptive_avg_pool1d_backward,
    adaptive_avg_pool1d_forward,
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    avg_pool1d_backward,
    avg_pool1d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool1d_backward,
    max_pool1d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

# kernel, stride, padding, dilation, ceil_mode
MAX_CASES = [
    ((2, 2), (2, 2), (0, 0), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), False),
    ((3, 2), (1, 2), (1, 1), (2, 1), False),
    ((2, 3), (2, 2), (0, 1), (1, 1), True),
    ((3, 3), (3, 2), (1, 0), (1, 2), True),
]
AVG_CASES = [
    ((2, 2), (2, 2), (0, 0), False),
    ((3, 3), (2, 2), (1, 1), False),
    ((3, 2), (1, 2), (1, 1), False),
    ((2, 3), (2, 2), (0, 1), True),
    ((3, 3), (2, 3), (1, 1), True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k,s,p,d,ceil", MAX_CASES)
def test_max_pool2d_matches_loops(backend, rng, dtype, k, s, p, d, ceil):
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    y, idx = max_pool2d_forward(x, k, s, p, d, ceil)
    ry, ridx = max_pool_ref(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    assert idx.dtype == np.int64
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = max_pool2d_backward(g, idx, x.shape)
    expected = numeric_vjp(lambda v: max_pool2d_forward(v, k, s, p, d, ceil)[0], x, g)
    np.testing.assert_allclose(dx, expected, rtol=1e-5, atol=1e-6)


def test_max_pool2d_routes_repeated_winners(backend):
    # overlapping windows that share a maximum both send their gradient to it
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0
    y, idx = max_pool2d_forward(x, 2, 1)
    assert (idx == 4).all()
    dx = max_pool2d_backward(np.ones_like(y), idx, x.shape)
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


def test_max_pool2d_nan_wins_and_ties_take_the_first(backend):
    x = np.ones((1, 1, 2, 4))
    x[0, 0, 1, 3] = np.nan
    y, idx = max_pool2d_forward(x, 2, 2)
    assert y[0, 0, 0, 0] == 1.0 and idx[0, 0, 0, 0] == 0
    assert np.isnan(y[0, 0, 0, 1]) and idx[0, 0, 0, 1] == 7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ceil", [False, True])
def test_max_pool2d_2x2_fast_path_keeps_ties_nans_and_infinities(backend, dtype, ceil):
    # every 2x2 pattern of ties, NaNs and infinities, on odd sizes (ceil_mode leaves the fast path)
    rng = np.random.default_rng(3)
    x = rng.integers(-1, 2, size=(4, 3, 9, 11)).astype(dtype)  # many ties
    spots = rng.random(x.shape)
    x[spots < 0.08] = np.nan
    x[(spots >= 0.08) & (spots < 0.12)] = np.inf
    x[(spots >= 0.12) & (spots < 0.16)] = -np.inf
    y, idx = max_pool2d_forward(x, 2, 2, 0, 1, ceil)
    N, C, H, W = x.shape
    for n, c, oh, ow in np.ndindex(*y.shape):
        best, arg = -np.inf, -1  # PyTorch's rule: a greater value or any NaN takes over
        for h in range(2 * oh, min(2 * oh + 2, H)):
            for w in range(2 * ow, min(2 * ow + 2, W)):
                if x[n, c, h, w] > best or np.isnan(x[n, c, h, w]):
                    best, arg = x[n, c, h, w], h * W + w
        assert idx[n, c, oh, ow] == arg, (n, c, oh, ow)
        np.testing.assert_array_equal(y[n, c, oh, ow], best)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("k,s,p,ceil", AVG_CASES)
def test_avg_pool2d_matches_loops(backend, rng, dtype, k, s, p, ceil, include_pad):
    x = rng.standard_normal((2, 2, 7, 6)).astype(dtype)
    y = avg_pool2d_forward(x, k, s, p, ceil, include_pad)
    np.testing.assert_allclose(y, avg_pool_ref(x, k, s, p, ceil, include_pad), **tolerance(dtype))
    g = rng.standard_normal(y.shape)
    dx = avg_pool2d_backward(g.astype(dtype), x.shape, k, s, p, ceil, include_pad)
    expected = numeric_vjp(lambda v: avg_pool_ref(v, k, s, p, ceil, include_pad), x, g)
    np.testing.assert_allclose(dx, expected, rtol=1e-5, atol=1e-6)


def test_avg_pool2d_divisor_override(backend, rng):
    x = rng.standard_normal((1, 2, 5, 5))
    y = avg_pool2d_forward(x, 3, 2, 1, divisor_override=4)
    np.testing.assert_allclose(y, avg_pool_ref(x, (3, 3), (2, 2), (1, 1), False, True, 4))
    dx = avg_pool2d_backward(np.ones_like(y), x.shape, 3, 2, 1, divisor_override=4)
    expected = numeric_vjp(
        lambda v: avg_pool2d_forward(v, 3, 2, 1, divisor_override=4), x, np.ones_like(y)
    )
    np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out", [1, (3, 2), (5, 7), (4, None)])
def test_adaptive_avg_pool2d_matches_loops(backend, rng, dtype, out):
    x = rng.standard_normal((2, 3, 5, 7)).astype(dtype)
    y = adaptive_avg_pool2d_forward(x, out)
    Ho, Wo = y.shape[2:]
    np.testing.assert_allclose(y, adaptive_avg_ref(x, Ho, Wo), **tolerance(dtype))
    g = rng.standard_normal(y.shape)
    dx = adaptive_avg_pool2d_backward(g.astype(dtype), x.shape)
    expected = numeric_vjp(lambda v: adaptive_avg_ref(v, Ho, Wo), x, g)
    np.testing.assert_allclose(dx, expected, rtol=1e-5, atol=1e-6)


def test_pool1d_is_pool2d_with_height_one(backend, rng):
    x = rng.standard_normal((2, 3, 11))
    y, idx = max_pool1d_forward(x, 3, 2, 1)
    ry, ridx = max_pool_ref(x[:, :, None, :], (1, 3), (1, 2), (0, 1), (1, 1), False)
    np.testing.assert_array_equal(y, ry[:, :, 0])
    np.testing.assert_array_equal(idx, ridx[:, :, 0])
    dx = max_pool1d_backward(np.ones_like(y), idx, x.shape)
    assert dx.shape == x.shape and dx.sum() == y.size
    a = avg_pool1d_forward(x, 4, 3, 2, count_include_pad=False)
    ra = avg_pool_ref(x[:, :, None, :], (1, 4), (1, 3), (0, 2), False, False)
    np.testing.assert_allclose(a, ra[:, :, 0], rtol=1e-12)
    da = avg_pool1d_backward(np.ones_like(a), x.shape, 4, 3, 2, count_include_pad=False)
    assert da.shape == x.shape
    assert adaptive_avg_pool1d_forward(x, 1)[..., 0] == pytest.approx(x.mean(axis=2))
    dg = adaptive_avg_pool1d_backward(np.ones((2, 3, 1)), x.shape)
    np.testing.assert_allclose(dg, np.full(x.shape, 1 / 11))


def _torch_pair(fn_torch, x, g, torch):
    xt = torch.tensor(x, requires_grad=True)
    yt = fn_torch(xt)
    yt.backward(torch.tensor(g))
    return yt.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_match_torch(backend, rng, dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    tol = tolerance(dtype)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    for k, s, p, d, ceil in MAX_CASES:
        y, idx = max_pool2d_forward(x, k, s, p, d, ceil)
        g = rng.standard_normal(y.shape).astype(dtype)
        ty, tdx = _torch_pair(
            lambda t, k=k, s=s, p=p, d=d, c=ceil: F.max_pool2d(t, k, s, p, d, c), x, g, torch
        )
        tidx = F.max_pool2d(torch.tensor(x), k, s, p, d, ceil, return_indices=True)[1].numpy()
        np.testing.assert_array_equal(y, ty)
        np.testing.assert_array_equal(idx, tidx)
        np.testing.assert_allclose(max_pool2d_backward(g, idx, x.shape), tdx, **tol)
    for (k, s, p, ceil), inc in zip(AVG_CASES, [True, False, True, False, True], strict=True):
        y = avg_pool2d_forward(x, k, s, p, ceil, inc)
        g = rng.standard_normal(y.shape).astype(dtype)
        ty, tdx = _torch_pair(
            lambda t, k=k, s=s, p=p, c=ceil, i=inc: F.avg_pool2d(t, k, s, p, c, i), x, g, torch
        )
        np.testing.assert_allclose(y, ty, **tol)
        np.testing.assert_allclose(avg_pool2d_backward(g, x.shape, k, s, p, ceil, inc), tdx, **tol)
    for out in [1, (4, 3), (5, 5)]:
        y = adaptive_avg_pool2d_forward(x, out)
        g = rng.standard_normal(y.shape).astype(dtype)
        ty, tdx = _torch_pair(lambda t, o=out: F.adaptive_avg_pool2d(t, o), x, g, torch)
        np.testing.assert_allclose(y, ty, **tol)
        np.testing.assert_allclose(adaptive_avg_pool2d_backward(g, x.shape), tdx, **tol)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: max_pool2d_forward(np.zeros((1, 1, 4, 4)), 2, 2, 2), "at most half"),
        (lambda: max_pool2d_forward(np.zeros((1, 1, 1, 4)), 2), "smaller than the kernel"),
        (lambda: avg_pool2d_forward(np.zeros((1, 4, 4)), 2), "4-D"),
        (lambda: avg_pool2d_forward(np.zeros((1, 1, 4, 4)), 2, divisor_override=0), "positive"),
        (lambda: adaptive_avg_pool2d_forward(np.zeros((1, 1, 4, 4)), 0), "positive"),
        (lambda: max_pool2d_forward(np.zeros((1, 1, 4, 4), np.int64), 2), None),
    ],
)
def test_pool_bad_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_pools_accept_an_empty_batch(backend):
    x = np.zeros((0, 3, 5, 5))
    y, idx = max_pool2d_forward(x, 2)
    assert max_pool2d_backward(y, idx, x.shape).shape == x.shape
    assert avg_pool2d_backward(avg_pool2d_forward(x, 2), x.shape, 2).shape == x.shape
    assert adaptive_avg_pool2d_backward(adaptive_avg_pool2d_forward(x, 1), x.shape).shape == x.shape
