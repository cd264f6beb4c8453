"""Pooling ops: gradcheck over a grid through both kernel paths, PyTorch twins, indices, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.backend import config
from chainrule.kernels import HAVE_NUMBA


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def backend(request: pytest.FixtureRequest):
    """Run the test with ``config.use_numba`` set to the parameter, restoring it afterwards."""
    if request.param and not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    saved = config.use_numba
    config.use_numba = request.param
    yield request.param
    config.use_numba = saved


def _distinct(shape, seed=0):
    """float64 leaf with well-separated values (no near-ties to upset finite differences)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    values = rng.permutation(n).reshape(shape) * 0.1 + rng.uniform(-0.01, 0.01, shape)
    return cr.tensor(values, dtype="float64", requires_grad=True)


MAX_GRID = [
    (k, s, p, d, c)
    for k, s, p, d, c in itertools.product([2, 3], [1, 2], [0, 1], [1, 2], [False, True])
    if 2 * p <= d * (k - 1) + 1
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX_GRID)
def test_max_pool2d_gradcheck_grid(backend, kernel, stride, padding, dilation, ceil_mode):
    x = _distinct((1, 2, 7, 6))

    def fn(x):
        return F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)

    assert cr.gradcheck(fn, [x])


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX_GRID)
def test_max_pool1d_gradcheck_grid(backend, kernel, stride, padding, dilation, ceil_mode):
    x = _distinct((2, 2, 9))
    assert cr.gradcheck(
        lambda x: F.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode), [x]
    )


AVG_GRID = list(itertools.product([2, 3], [1, 2], [0, 1], [False, True], [True, False]))


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, include_pad", AVG_GRID)
def test_avg_pool_gradcheck_grid(backend, kernel, stride, padding, ceil_mode, include_pad):
    x = _distinct((1, 2, 7, 6))
    assert cr.gradcheck(
        lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, include_pad), [x]
    )
    x1 = _distinct((1, 2, 9))
    assert cr.gradcheck(
        lambda x: F.avg_pool1d(x, kernel, stride, padding, ceil_mode, include_pad), [x1]
    )


def test_avg_pool_divisor_override_gradcheck(backend):
    x = _distinct((2, 2, 5, 5))
    assert cr.gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=4), [x])


@pytest.mark.parametrize("out", [(1, 1), (3, 2), (7, 5), (4, 9), (None, 3)])
def test_adaptive_avg_pool2d_gradcheck(backend, out):
    x = _distinct((1, 2, 7, 5))
    assert cr.gradcheck(lambda x: F.adaptive_avg_pool2d(x, out), [x])


@pytest.mark.parametrize("out", [1, 3, 8])
def test_adaptive_avg_pool1d_and_global_gradcheck(backend, out):
    x = _distinct((2, 3, 7))
    assert cr.gradcheck(lambda x: F.adaptive_avg_pool1d(x, out), [x])
    x2 = _distinct((2, 3, 5, 3))
    assert cr.gradcheck(F.global_avg_pool2d, [x2])


TORCH_POOLS = [
    ("max_pool2d", (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, dilation=1)),
    ("max_pool2d", (2, 3, 9, 8), dict(kernel_size=(2, 3), stride=(1, 2), dilation=2,
                                      ceil_mode=True)),
    ("max_pool2d", (1, 2, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 9, 8), dict(kernel_size=2, divisor_override=3)),
    ("avg_pool1d", (2, 3, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ("adaptive_avg_pool2d", (2, 3, 9, 7), dict(output_size=(4, 3))),
    ("adaptive_avg_pool1d", (2, 3, 10), dict(output_size=4)),
]  # fmt: skip


@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("name, shape, kw", TORCH_POOLS)
def test_pool_matches_torch(backend, name, shape, kw, dtype, rtol):
    torch = pytest.importorskip("torch")
    from helpers import assert_matches_torch

    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    assert_matches_torch(
        lambda x: getattr(F, name)(x, **kw),
        lambda x: getattr(torch.nn.functional, name)(x, **kw),
        [x],
        rtol=rtol,
        atol=1e-6 if dtype == "float32" else 1e-12,
    )


def test_max_pool_indices_match_torch(backend):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 8)).astype(np.float32)
    y, idx = F.max_pool2d(cr.tensor(x), 3, 2, 1, dilation=2, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(
        torch.from_numpy(x), 3, 2, 1, dilation=2, return_indices=True
    )
    np.testing.assert_array_equal(y.data, ty.numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert idx.dtype == np.int64 and not idx.requires_grad
    x1 = x[:, :, 0, :]
    y1, idx1 = F.max_pool1d(cr.tensor(x1), 3, 2, 1, return_indices=True)
    _, tidx1 = torch.nn.functional.max_pool1d(torch.from_numpy(x1), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx1.data, tidx1.numpy())


def test_max_pool_overlapping_windows_accumulate_gradient(backend):
    x = cr.tensor([[[[0.0, 1.0, 0.0, 0.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, (1, 3), stride=1, return_indices=False).sum().backward()
    # the 1.0 wins the first two windows; the third window's max is its first cell
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 2.0, 1.0, 0.0, 0.0]]]])


def test_unbatched_and_global(backend):
    x = cr.randn(3, 8, 6)
    assert F.max_pool2d(x, 2).shape == (3, 4, 3)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.shape == (3, 4, 3)
    assert F.avg_pool1d(cr.randn(3, 8), 2).shape == (3, 4)
    assert F.adaptive_avg_pool2d(x, 1).shape == (3, 1, 1)
    z = cr.randn(2, 4, 5, 3)
    g = F.global_avg_pool2d(z)
    assert g.shape == (2, 4)
    np.testing.assert_allclose(g.data, z.data.mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    assert F.global_avg_pool2d(z, keepdim=True).shape == (2, 4, 1, 1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.max_pool2d(cr.randn(1, 1, 2, 2), 3), r"smaller than the kernel's reach 3"),
        (lambda: F.max_pool2d(cr.randn(1, 1, 5, 5), 2, padding=2), r"at most half"),
        (lambda: F.max_pool2d(cr.randn(5, 5), 2), r"expected input of shape \(N, C, H, W\)"),
        (lambda: F.max_pool1d(cr.randn(1, 1, 5), 0), r"kernel_size must be an int >= 1"),
        (lambda: F.avg_pool2d(cr.randn(1, 1, 5, 5), (2, 2, 2)), r"kernel_size must be an int or"),
        (lambda: F.adaptive_avg_pool2d(cr.randn(1, 1, 5, 5), 0), r"output_size must be >= 1"),
        (lambda: F.global_avg_pool2d(cr.randn(1, 5, 5)), r"expected input of shape"),
    ],
)
def test_pool_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
