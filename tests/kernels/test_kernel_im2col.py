"""im2col/col2im against a loop reference, the adjoint identity, and the 1-D reuse (H = 1)."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_reference import im2col_ref, pad4

from chainrule.kernels import col2im, im2col

# (N, C, H, W), (kh, kw), stride, padding (top, bottom, left, right), dilation
CASES = [
    ((2, 3, 5, 5), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1)),
    ((1, 2, 7, 6), (3, 2), (2, 1), (1, 1, 1, 1), (1, 1)),
    ((2, 2, 6, 7), (2, 3), (1, 2), (1, 0, 2, 1), (2, 1)),
    ((1, 1, 9, 8), (3, 3), (2, 2), (1, 1, 1, 1), (2, 2)),
    ((3, 2, 4, 5), (2, 2), (1, 1), (0, 1, 0, 1), (1, 1)),  # 'same' for an even kernel
    ((1, 3, 1, 9), (1, 3), (1, 2), (0, 0, 2, 1), (1, 2)),  # 1-D as H = 1
    ((2, 1, 3, 3), (3, 3), (3, 3), (2, 2, 2, 2), (1, 1)),  # windows mostly in the padding
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,stride,pad,dil", CASES)
def test_im2col_matches_loops(backend, rng, dtype, shape, k, stride, pad, dil):
    x = rng.standard_normal(shape).astype(dtype)
    cols = im2col(x, k[0], k[1], stride, pad, dil)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, im2col_ref(x, k[0], k[1], stride, pad, dil))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,k,stride,pad,dil", CASES)
def test_col2im_is_the_adjoint(backend, rng, dtype, shape, k, stride, pad, dil):
    x = rng.standard_normal(shape).astype(dtype)
    cols = im2col(x, k[0], k[1], stride, pad, dil)
    c = rng.standard_normal(cols.shape).astype(dtype)
    back = col2im(c, shape, k[0], k[1], stride, pad, dil)
    assert back.shape == shape and back.dtype == dtype
    lhs = np.sum(cols.astype(np.float64) * c)
    rhs = np.sum(x.astype(np.float64) * back)
    assert lhs == pytest.approx(rhs, rel=1e-5 if dtype == np.float32 else 1e-12)


def test_col2im_accumulates_overlaps(backend):
    # every input pixel of a 3x3 stride-1 unfolding is counted once per window covering it
    x = np.ones((1, 1, 4, 4))
    counts = col2im(im2col(x, 3, 3), x.shape, 3, 3)
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], float)
    np.testing.assert_array_equal(counts[0, 0], expected)


def test_padding_forms_agree(backend, rng):
    x = rng.standard_normal((2, 2, 5, 6))
    a = im2col(x, 3, 3, 1, 1)
    b = im2col(x, 3, 3, (1, 1), (1, 1), (1, 1))
    c = im2col(x, 3, 3, 1, (1, 1, 1, 1))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_numba_and_numpy_agree(monkeypatch, rng):
    from chainrule.backend import config

    x = rng.standard_normal((2, 4, 9, 7)).astype(np.float32)
    monkeypatch.setattr(config, "use_numba", True)
    a = im2col(x, 3, 2, (2, 1), (1, 0, 1, 1), (1, 2))
    da = col2im(a, x.shape, 3, 2, (2, 1), (1, 0, 1, 1), (1, 2))
    monkeypatch.setattr(config, "use_numba", False)
    b = im2col(x, 3, 2, (2, 1), (1, 0, 1, 1), (1, 2))
    db = col2im(a, x.shape, 3, 2, (2, 1), (1, 0, 1, 1), (1, 2))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(da, db, rtol=1e-6)


def test_layout_is_the_gemm_operand(rng):
    # w.reshape(Co, C*kh*kw) @ cols is the cross-correlation of x with w
    x = rng.standard_normal((2, 3, 6, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    cols = im2col(x, 3, 3, 1, 1)
    y = (w.reshape(4, -1) @ cols.reshape(27, -1)).reshape(4, 2, 6, 6).transpose(1, 0, 2, 3)
    xp = pad4(x, (1, 1, 1, 1))
    expected = np.einsum("ncij,ocij->no", xp[:, :, 2:5, 3:6], w)
    np.testing.assert_allclose(y[:, :, 2, 3], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: im2col(np.zeros((2, 3, 4)), 3, 3), "4-D"),
        (lambda: im2col(np.zeros((1, 1, 2, 2)), 3, 3), "smaller than the kernel"),
        (lambda: im2col(np.zeros((1, 1, 5, 5)), 3, 3, stride=0), "stride must be >= 1"),
        (lambda: im2col(np.zeros((1, 1, 5, 5)), 3, 3, padding=(1, 2, 3)), "padding"),
        (lambda: col2im(np.zeros((9, 1, 2, 2)), (1, 1, 5, 5), 3, 3), "expected cols"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
