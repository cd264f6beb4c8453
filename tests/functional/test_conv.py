"""conv1d, conv2d, convolve2d, conv_transpose2d: gradcheck over a grid of options through both the
numba kernels and the NumPy fallback, PyTorch twins, cross-correlation vs convolution, errors."""

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


def _t(shape, seed=0, requires_grad=True):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.standard_normal(shape), dtype="float64", requires_grad=requires_grad)


# stride x padding x dilation x groups; 'same' exists only at stride 1
GRID_2D = [
    (s, p, d, g)
    for s, p, d, g in itertools.product([1, 2], [0, 1, "same"], [1, 2], [1, 2])
    if not (p == "same" and s == 2)
]


@pytest.mark.parametrize("stride, padding, dilation, groups", GRID_2D)
def test_conv2d_gradcheck_grid(backend, stride, padding, dilation, groups):
    x = _t((1, 4, 6, 5), 1)  # batch 1, odd width
    w = _t((4, 4 // groups, 3, 2), 2)  # non-square kernel: 'same' pads unevenly in width
    b = _t((4,), 3)

    def fn(x, w, b):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    assert cr.gradcheck(fn, [x, w, b])


@pytest.mark.parametrize("stride, padding, dilation, groups", GRID_2D)
def test_conv1d_gradcheck_grid(backend, stride, padding, dilation, groups):
    x = _t((1, 4, 9), 1)
    w = _t((2, 4 // groups, 3), 2)
    b = _t((2,), 3)

    def fn(x, w, b):
        return F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    assert cr.gradcheck(fn, [x, w, b])


GRID_T = [
    (s, p, op, d, g)
    for s, p, op, d, g in itertools.product([1, 2], [0, 1], [0, 1], [1, 2], [1, 2])
    if op < max(s, d)
]


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups", GRID_T)
def test_conv_transpose2d_gradcheck_grid(
    backend, stride, padding, output_padding, dilation, groups
):
    x = _t((1, 4, 3, 4), 1)
    w = _t((4, 4 // groups, 3, 2), 2)
    b = _t((4,), 3)

    def fn(x, w, b):
        return F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)

    assert cr.gradcheck(fn, [x, w, b])


def test_conv_gradcheck_batch_and_partial_grads(backend):
    x = _t((2, 3, 7, 5), 4)
    w = _t((2, 3, 3, 3), 5)
    assert cr.gradcheck(lambda x, w: F.conv2d(x, w, None, 2, 1), [x, w])
    w_fixed = _t((2, 3, 3, 3), 5, requires_grad=False)
    assert cr.gradcheck(lambda x: F.conv2d(x, w_fixed, padding="same"), [x])
    x_fixed = _t((2, 3, 7, 5), 4, requires_grad=False)
    assert cr.gradcheck(lambda w: F.conv2d(x_fixed, w, dilation=2), [w])
    assert cr.gradcheck(lambda x, w: F.convolve2d(x, w, padding=(2, 1)), [x, w])


def _torch_conv(torch, kind, x, w, b, kw):
    fn = {
        "conv1d": torch.nn.functional.conv1d,
        "conv2d": torch.nn.functional.conv2d,
        "conv_transpose2d": torch.nn.functional.conv_transpose2d,
    }[kind]
    return fn(x, w, b, **kw)


TORCH_CASES = [
    ("conv2d", (2, 4, 9, 8), (6, 2, 3, 3), dict(stride=2, padding=1, dilation=1, groups=2)),
    ("conv2d", (2, 3, 8, 8), (4, 3, 4, 2), dict(stride=1, padding="same", dilation=2, groups=1)),
    ("conv2d", (1, 3, 10, 7), (5, 3, 3, 3), dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2))),
    ("conv1d", (3, 4, 11), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ("conv1d", (2, 3, 10), (4, 3, 4), dict(padding="same")),
    ("conv_transpose2d", (2, 4, 5, 4), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (2, 4, 5, 4), (4, 1, 2, 3), dict(stride=(1, 2), groups=2, dilation=2)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-4), ("float64", 1e-10)])
@pytest.mark.parametrize("kind, x_shape, w_shape, kw", TORCH_CASES)
def test_conv_matches_torch(backend, kind, x_shape, w_shape, kw, dtype, rtol):
    pytest.importorskip("torch")
    import torch
    from helpers import assert_matches_torch

    rng = np.random.default_rng(0)
    co = w_shape[1] * kw.get("groups", 1) if kind == "conv_transpose2d" else w_shape[0]
    inputs = [rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, (co,))]
    atol = 1e-5 if dtype == "float32" else 1e-12
    assert_matches_torch(
        lambda x, w, b: getattr(F, kind)(x, w, b, **kw),
        lambda x, w, b: _torch_conv(torch, kind, x, w, b, kw),
        inputs,
        rtol=rtol,
        atol=atol,
    )


def _rot180(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(w[..., ::-1, ::-1])


def test_cross_correlation_and_convolution_differ_by_kernel_rotation(backend):
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((2, 3, 7, 6)).astype(np.float32))
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    conv = F.convolve2d(x, cr.tensor(w), padding=1)
    corr_rotated = F.conv2d(x, cr.tensor(_rot180(w)), padding=1)
    np.testing.assert_allclose(conv.data, corr_rotated.data, rtol=1e-5, atol=1e-6)
    corr = F.conv2d(x, cr.tensor(w), padding=1)
    assert np.abs(conv.data - corr.data).max() > 0.1  # a non-symmetric kernel tells them apart
    # flip_kernel=True is the same operation
    np.testing.assert_array_equal(F.conv2d(x, cr.tensor(w), padding=1, flip_kernel=True).data,
                                  conv.data)  # fmt: skip


def test_convolve2d_is_the_mathematical_convolution(backend):
    rng = np.random.default_rng(1)
    img = rng.standard_normal((6, 5))
    ker = rng.standard_normal((3, 2))
    x = cr.tensor(img[None, None])
    w = cr.tensor(ker[None, None])
    full = F.convolve2d(x, w, padding=(2, 2, 1, 1)).data[0, 0]
    valid = F.convolve2d(x, w).data[0, 0]
    # direct sum: (x * k)[m, n] = sum_{i,j} x[m - i, n - j] k[i, j]
    direct = np.zeros((6 + 3 - 1, 5 + 2 - 1))
    for m, n, i, j in itertools.product(range(8), range(6), range(3), range(2)):
        if 0 <= m - i < 6 and 0 <= n - j < 5:
            direct[m, n] += img[m - i, n - j] * ker[i, j]
    np.testing.assert_allclose(full, direct, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(valid, direct[2:-2, 1:-1], rtol=1e-12, atol=1e-12)
    signal = pytest.importorskip("scipy.signal")
    np.testing.assert_allclose(full, signal.convolve2d(img, ker, mode="full"), rtol=1e-12)
    np.testing.assert_allclose(valid, signal.convolve2d(img, ker, mode="valid"), rtol=1e-12)
    # several input channels: the sum of the per-channel convolutions
    imgs = rng.standard_normal((3, 6, 5))
    kers = rng.standard_normal((1, 3, 3, 2))
    got = F.convolve2d(cr.tensor(imgs[None]), cr.tensor(kers)).data[0, 0]
    want = sum(signal.convolve2d(imgs[c], kers[0, c], mode="valid") for c in range(3))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_is_the_adjoint_of_conv2d(backend):
    rng = np.random.default_rng(2)
    w = cr.tensor(rng.standard_normal((6, 2, 3, 3)))  # conv2d 4 -> 6 channels, groups 2
    x = cr.tensor(rng.standard_normal((2, 4, 9, 8)))
    y = F.conv2d(x, w, stride=2, padding=1, dilation=1, groups=2)
    g = cr.tensor(rng.standard_normal(y.shape))
    back = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(0, 1), groups=2)
    assert back.shape == x.shape
    # <conv(x), g> == <x, conv^T(g)>
    np.testing.assert_allclose(np.sum(y.data * g.data), np.sum(x.data * back.data), rtol=1e-12)


def test_same_padding_keeps_size_and_unbatched_inputs(backend):
    x = cr.randn(2, 3, 9, 8)
    for k, d in [(3, 1), (4, 1), (3, 2), (2, 3)]:
        assert F.conv2d(x, cr.randn(5, 3, k, k), padding="same", dilation=d).shape == (2, 5, 9, 8)
    assert F.conv2d(x, cr.randn(5, 3, 3, 3), padding="valid").shape == (2, 5, 7, 6)
    single = F.conv2d(x[0], cr.randn(5, 3, 3, 3))
    assert single.shape == (5, 7, 6)
    assert F.conv1d(cr.randn(3, 10), cr.randn(4, 3, 3), padding="same").shape == (4, 10)
    up = F.conv_transpose2d(cr.randn(4, 5, 5), cr.randn(4, 2, 3, 3), stride=2)
    assert up.shape == (2, 11, 11)


def test_float32_stays_float32(backend):
    x = cr.randn(2, 3, 6, 6, requires_grad=True)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    b = cr.randn(4, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    y.sum().backward()
    assert y.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.conv2d(cr.randn(2, 16, 5, 5), cr.randn(6, 5, 3, 3), groups=3),
         r"groups=3 must divide in_channels=16"),
        (lambda: F.conv2d(cr.randn(2, 4, 5, 5), cr.randn(6, 3, 3, 3)),
         r"expects 3 input channels .* got input of shape \(2, 4, 5, 5\)"),
        (lambda: F.conv2d(cr.randn(2, 3, 2, 5), cr.randn(6, 3, 3, 3)),
         r"input of size 2 \(padded to 2\) is smaller than the kernel's reach 3"),
        (lambda: F.conv2d(cr.randn(2, 3, 5, 5), cr.randn(6, 3, 3, 3), dilation=3),
         r"smaller than the kernel's reach 7 \(kernel 3, dilation 3\)"),
        (lambda: F.conv2d(cr.randn(2, 3, 5, 5), cr.randn(6, 3, 3, 3), stride=2, padding="same"),
         r"padding='same' needs stride 1"),
        (lambda: F.conv2d(cr.randn(5, 5), cr.randn(6, 3, 3, 3)),
         r"expected input of shape \(N, C, H, W\)"),
        (lambda: F.conv2d(cr.randn(2, 3, 5, 5), cr.randn(6, 3, 3)), r"weight must have shape"),
        (lambda: F.conv2d(cr.randn(2, 3, 5, 5), cr.randn(6, 3, 3, 3), padding="full"),
         r"padding must be 'same', 'valid'"),
        (lambda: F.conv2d(cr.randn(2, 3, 5, 5), cr.randn(6, 3, 3, 3), stride=0),
         r"stride must be >= 1"),
        (lambda: F.conv1d(cr.randn(2, 3, 2), cr.randn(6, 3, 3)), r"smaller than the kernel"),
        (lambda: F.conv_transpose2d(cr.randn(1, 4, 3, 3), cr.randn(4, 2, 3, 3), output_padding=1),
         r"output_padding .* must be smaller than the stride"),
        (lambda: F.conv_transpose2d(cr.randn(1, 3, 3, 3), cr.randn(4, 2, 3, 3)),
         r"expects 4 input channels"),
    ],
)  # fmt: skip
def test_conv_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_conv_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match="dtype"):
        F.conv2d(cr.randn(1, 3, 5, 5, dtype="float64"), cr.randn(2, 3, 3, 3))


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 0)])
def test_conv2d_relu_option_gradcheck_and_equality(backend, stride, padding):
    x, w, b = _t((2, 3, 6, 6), 0), _t((4, 3, 3, 3), 1), _t((4,), 2)
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, relu=True)  # noqa: E731
    assert cr.gradcheck(fn, [x, w, b])
    fused = fn(x, w, b)
    plain = F.relu(F.conv2d(x, w, b, stride=stride, padding=padding))
    np.testing.assert_array_equal(fused.numpy(), plain.numpy())
    fused.sum().backward()
    grads = [t.grad.numpy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    plain.sum().backward()
    for got, t in zip(grads, (x, w, b), strict=True):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-12)
