"""conv2d/conv1d forward and backward against a loop reference and against PyTorch."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
from conftest import tolerance
from kernel_reference import conv2d_ref

from chainrule.kernels import conv1d_backward, conv1d_forward, conv2d_backward, conv2d_forward

GRID = list(
    itertools.product(
        [1, 2],  # stride
        [(0, 0, 0, 0), (1, 1, 1, 1), (1, 0, 2, 1)],  # padding (top, bottom, left, right)
        [1, 2],  # dilation
        [1, 2],  # groups
    )
)


def _check(backend_x, w, b, stride, pad, dil, groups, rng, need=(True, True, True)):
    x = backend_x
    y = conv2d_forward(x, w, b, stride, pad, dil, groups)
    g = rng.standard_normal(y.shape).astype(x.dtype)
    dx, dw, db = conv2d_backward(g, x, w, stride, pad, dil, groups, *need)
    st = (stride, stride) if isinstance(stride, int) else stride
    dl = (dil, dil) if isinstance(dil, int) else dil
    ry, rdx, rdw, rdb = conv2d_ref(x, w, b, st, pad, dl, groups, g)
    tol = tolerance(x.dtype)
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y, ry, **tol)
    for got, ref, wanted in ((dx, rdx, need[0]), (dw, rdw, need[1]), (db, rdb, need[2])):
        if wanted:
            assert got.dtype == x.dtype
            np.testing.assert_allclose(got, ref, **tol)
        else:
            assert got is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,pad,dil,groups", GRID)
def test_conv2d_matches_loops(backend, rng, dtype, stride, pad, dil, groups):
    x = rng.standard_normal((2, 4, 7, 6)).astype(dtype)
    w = rng.standard_normal((6, 4 // groups, 3, 2)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    _check(x, w, b, stride, pad, dil, groups, rng)


@pytest.mark.parametrize("path", ["general", "wide"])
@pytest.mark.parametrize("stride,pad,dil,groups", [g for g in GRID if g[0] == 1])
def test_conv2d_stride1_both_paths(backend, rng, monkeypatch, path, stride, pad, dil, groups):
    conv = importlib.import_module("chainrule.kernels.conv")
    monkeypatch.setattr(conv, "WIDE_ROWS", path == "wide")
    monkeypatch.setattr(conv, "WIDE_MAX_WASTE", 100.0)  # wide rows whatever they waste
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    _check(x, w, rng.standard_normal(6), stride, pad, dil, groups, rng)
    _check(x, w, None, stride, pad, dil, groups, rng, (True, False, False))


@pytest.mark.parametrize(
    "xshape,wshape,stride,pad,dil,groups",
    [
        ((1, 3, 5, 5), (2, 3, 3, 3), 1, (1, 1, 1, 1), 1, 1),  # batch 1
        ((3, 2, 9, 4), (4, 1, 1, 1), (2, 1), (0, 0, 0, 0), 1, 2),  # 1x1, non-square
        ((2, 4, 6, 6), (4, 1, 3, 3), 1, (1, 1, 1, 1), 1, 4),  # depthwise
        ((1, 2, 6, 6), (3, 2, 2, 2), 1, (0, 1, 0, 1), 1, 1),  # 'same' with an even kernel
        ((2, 1, 3, 3), (2, 1, 3, 3), 3, (2, 2, 2, 2), 1, 1),  # windows mostly in the padding
        ((2, 3, 4, 5), (2, 3, 1, 1), 1, (1, 1, 1, 1), 1, 1),  # padding beyond a 1x1 kernel
        ((2, 4, 3, 5), (6, 2, 1, 1), 1, (0, 0, 0, 0), 1, 2),  # pointwise, grouped
        ((2, 2, 5, 20), (3, 2, 3, 3), 1, (0, 0, 0, 0), 1, 1),  # wide dw and forward, general dx
        ((1, 2, 5, 4), (2, 2, 3, 3), 1, (3, 0, 2, 1), 1, 1),  # stride 1, padding > reach on top
        ((1, 2, 8, 5), (2, 2, 3, 3), (2, 3), (1, 1, 2, 2), (2, 1), 1),  # mixed pairs
    ],
)
def test_conv2d_shapes(backend, rng, xshape, wshape, stride, pad, dil, groups):
    x = rng.standard_normal(xshape)
    w = rng.standard_normal(wshape)
    _check(x, w, None, stride, pad, dil, groups, rng)


@pytest.mark.parametrize("need", [(False, True, True), (True, False, False), (False, False, True)])
def test_conv2d_backward_skips_unneeded(backend, rng, need):
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    _check(x, w, None, 1, (1, 1, 1, 1), 1, 1, rng, need)


def test_conv2d_many_slabs(backend, rng, monkeypatch):
    # a tiny slab budget forces one image per slab: results must not depend on slabbing
    im2col_module = importlib.import_module("chainrule.kernels.im2col")  # the package re-exports

    x = rng.standard_normal((5, 3, 6, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal((5, 4, 6, 6))
    y0 = conv2d_forward(x, w, None, 1, 1)
    d0 = conv2d_backward(g, x, w, 1, 1)
    monkeypatch.setattr(im2col_module, "SLAB_BYTES", 1)
    y1 = conv2d_forward(x, w, None, 1, 1)
    d1 = conv2d_backward(g, x, w, 1, 1)
    np.testing.assert_allclose(y0, y1, rtol=1e-12)
    for a, b in zip(d0, d1, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv1d_is_conv2d_with_height_one(backend, rng, dtype):
    x = rng.standard_normal((2, 4, 11)).astype(dtype)
    w = rng.standard_normal((6, 2, 3)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    y = conv1d_forward(x, w, b, stride=2, padding=(2, 1), dilation=2, groups=2)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx, dw, db = conv1d_backward(g, x, w, 2, (2, 1), 2, 2)
    ry, rdx, rdw, rdb = conv2d_ref(
        x[:, :, None, :], w[:, :, None, :], b, (1, 2), (0, 0, 2, 1), (1, 2), 2, g[:, :, None, :]
    )
    tol = tolerance(dtype)
    np.testing.assert_allclose(y, ry[:, :, 0], **tol)
    np.testing.assert_allclose(dx, rdx[:, :, 0], **tol)
    np.testing.assert_allclose(dw, rdw[:, :, 0], **tol)
    np.testing.assert_allclose(db, rdb, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,pad,dil,groups", GRID[::2] + [(2, (1, 1, 1, 1), 2, 2)])
def test_conv2d_matches_torch(backend, rng, dtype, stride, pad, dil, groups):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((3, 4, 9, 8)).astype(dtype)
    w = rng.standard_normal((6, 4 // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    # torch pads symmetrically; asymmetric padding goes through F.pad first
    yt = F.conv2d(F.pad(xt, (pad[2], pad[3], pad[0], pad[1])), wt, bt, stride, 0, dil, groups)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    y = conv2d_forward(x, w, b, stride, pad, dil, groups)
    dx, dw, db = conv2d_backward(g, x, w, stride, pad, dil, groups)
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(y, yt.detach().numpy(), **tol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **tol)
    np.testing.assert_allclose(dw, wt.grad.numpy(), **tol)
    np.testing.assert_allclose(db, bt.grad.numpy(), **tol)


def test_conv1d_matches_torch(backend, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 10)).astype(np.float32)
    w = rng.standard_normal((5, 3, 4)).astype(np.float32)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv1d(xt, wt, None, 2, 1, 1)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(g))
    y = conv1d_forward(x, w, None, 2, 1)
    dx, dw, db = conv1d_backward(g, x, w, 2, 1)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(db, g.sum(axis=(0, 2)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "xshape,wshape,groups,message",
    [
        ((2, 3, 5, 5), (4, 2, 3, 3), 1, "expects 2 input channels"),
        ((2, 4, 5, 5), (3, 2, 3, 3), 2, "groups=2 must divide"),
        ((2, 4, 2, 2), (4, 4, 3, 3), 1, "smaller than the kernel"),
        ((2, 4, 5), (4, 4, 3, 3), 1, "4-D"),
    ],
)
def test_conv2d_bad_input(xshape, wshape, groups, message):
    with pytest.raises(ValueError, match=message):
        conv2d_forward(np.zeros(xshape), np.zeros(wshape), None, 1, 0, 1, groups)


def test_conv2d_rejects_mixed_dtypes_and_bad_grad():
    x = np.zeros((1, 2, 5, 5), np.float32)
    with pytest.raises(TypeError, match="dtype"):
        conv2d_forward(x, np.zeros((3, 2, 3, 3), np.float64))
    with pytest.raises(ValueError, match="grad_out"):
        conv2d_backward(np.zeros((1, 3, 2, 2), np.float32), x, np.zeros((3, 2, 3, 3), np.float32))


@pytest.mark.parametrize(
    "xshape,wshape,stride,pad",
    [
        ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),  # wide rows
        ((2, 3, 6, 20), (4, 3, 3, 3), 1, 0),  # general dx at stride 1
        ((2, 3, 7, 6), (4, 3, 3, 3), 2, 1),  # strided
        ((2, 3, 5, 5), (4, 3, 1, 1), 1, 0),  # pointwise
    ],
)
def test_conv2d_backward_input_values_unread_without_dw(backend, rng, xshape, wshape, stride, pad):
    # conv_transpose2d passes an uninitialised x when it needs only dx
    w = rng.standard_normal(wshape)
    x = rng.standard_normal(xshape)
    g = rng.standard_normal(conv2d_forward(x, w, None, stride, pad).shape)
    expected, _, _ = conv2d_backward(g, x, w, stride, pad, need_dw=False, need_db=False)
    dx, dw, db = conv2d_backward(g, np.full(xshape, np.nan), w, stride, pad, 1, 1, True, False)
    np.testing.assert_array_equal(dx, expected)
    assert dw is None and np.all(np.isfinite(db))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "xshape,pad,groups",
    [
        ((2, 4, 7, 6), (0, 0, 0, 0), 1),
        ((1, 4, 6, 9), (1, 1, 1, 1), 2),  # batch 1, odd output width
        ((2, 2, 5, 5), (1, 0, 2, 1), 1),  # asymmetric padding, odd output height
        ((2, 2, 4, 3), (2, 2, 2, 2), 2),  # padding equal to the kernel's reach
        ((3, 2, 3, 3), (0, 0, 0, 0), 1),  # a single output pixel
        ((1, 2, 4, 5), (3, 0, 1, 3), 1),  # padding beyond the reach: dx by the general path
    ],
)
def test_conv2d_winograd_path(backend, rng, monkeypatch, dtype, xshape, pad, groups):
    monkeypatch.setattr(
        importlib.import_module("chainrule.kernels.conv"), "WINOGRAD_MIN_CHANNELS", 1
    )
    x = rng.standard_normal(xshape).astype(dtype)
    w = rng.standard_normal((4, xshape[1] // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    _check(x, w, b, 1, pad, 1, groups, rng)


def test_conv2d_winograd_matches_torch_at_model_size(rng):
    # 32 -> 64 channels takes the Winograd path by default; float32 accuracy as PyTorch's
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 32, 12, 11)).astype(np.float32)
    w = (rng.standard_normal((64, 32, 3, 3)) * 0.1).astype(np.float32)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, None, 1, 1)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(g))
    y = conv2d_forward(x, w, None, 1, 1)
    dx, dw, _ = conv2d_backward(g, x, w, 1, 1)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("stride,pad", [(1, 1), (2, 1), (1, 0)])
def test_conv2d_empty_batch(backend, stride, pad):
    x = np.zeros((0, 3, 5, 5), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    y = conv2d_forward(x, w, None, stride, pad)
    dx, dw, db = conv2d_backward(y, x, w, stride, pad)
    assert y.shape[:2] == (0, 4) and dx.shape == x.shape
    assert not dw.any() and not db.any()


# one shape per path: wide rows, Winograd F(4x4) and F(2x2), strided, 1x1, grouped
RELU_CASES = [
    (2, 1, 10, 6, 3, 1, 0, 1),
    (2, 32, 10, 32, 3, 1, 1, 1),
    (2, 32, 5, 32, 3, 1, 1, 1),
    (2, 4, 9, 6, 3, 2, 1, 1),
    (2, 4, 7, 6, 1, 1, 0, 1),
    (2, 4, 7, 6, 3, 1, 1, 2),
]


@pytest.mark.parametrize("N, C, H, Co, k, stride, pad, groups", RELU_CASES)
def test_conv2d_forward_relu_option_equals_relu_of_the_output(
    backend, N, C, H, Co, k, stride, pad, groups
):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    w = rng.standard_normal((Co, C // groups, k, k)).astype(np.float32)
    b = rng.standard_normal(Co).astype(np.float32)
    y = conv2d_forward(x, w, b, stride, pad, 1, groups)
    fused = conv2d_forward(x, w, b, stride, pad, 1, groups, relu=True)
    assert (y < 0).any()
    np.testing.assert_array_equal(fused, np.maximum(y, 0))
