"""Strided convolution over phase planes (kernels/_phased.py) against loop references, and the
dispatch that sends undilated strided convolutions there."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tolerance
from kernel_reference import conv2d_ref

from chainrule.kernels import _phased, conv2d_backward, conv2d_forward
from chainrule.kernels import conv as conv_module

# N, C, H, W, C_out, kh, kw, stride, padding (top, bottom, left, right), groups
CASES = [
    (2, 3, 9, 9, 4, 3, 3, (2, 2), (1, 1, 1, 1), 1),
    (2, 4, 8, 7, 6, 3, 3, (2, 2), (0, 0, 0, 0), 2),
    (1, 2, 10, 11, 3, 3, 2, (3, 2), (1, 0, 2, 1), 1),
    (2, 4, 12, 12, 4, 5, 5, (2, 2), (2, 2, 2, 2), 1),
    (2, 4, 8, 8, 4, 3, 3, (1, 2), (1, 1, 1, 1), 1),
    (1, 3, 5, 6, 2, 2, 2, (2, 2), (0, 1, 0, 1), 1),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_phased_conv_matches_reference(backend, case, dtype):
    N, C, H, W, Co, kh, kw, st, pd, groups = case
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((Co, C // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(Co).astype(dtype)
    Ho = (H + pd[0] + pd[1] - kh) // st[0] + 1
    Wo = (W + pd[2] + pd[3] - kw) // st[1] + 1
    g = rng.standard_normal((N, Co, Ho, Wo)).astype(dtype)
    y_ref, dx_ref, dw_ref, db_ref = conv2d_ref(x, w, b, st, pd, (1, 1), groups, g)
    wg = w.reshape(groups, Co // groups, -1)
    y = np.empty((N, Co, Ho, Wo), dtype)
    _phased.phased_conv(x, wg, b, st, pd, kh, kw, y)
    dx, dw, db = np.empty_like(x), np.empty_like(wg), np.zeros(Co)
    _phased.phased_conv_backward(g, x, wg, st, pd, kh, kw, dx, dw, db)
    tol = tolerance(dtype)
    np.testing.assert_allclose(y, y_ref, **tol)
    np.testing.assert_allclose(dx, dx_ref, **tol)
    np.testing.assert_allclose(dw.reshape(w.shape), dw_ref, **tol)
    np.testing.assert_allclose(db, db_ref, **tol)


def test_strided_undilated_convolutions_take_the_phase_planes(monkeypatch):
    calls = []
    monkeypatch.setattr(conv_module, "phased_conv", lambda *a: calls.append("fwd"))
    monkeypatch.setattr(conv_module, "phased_conv_backward", lambda *a: calls.append("bwd"))
    x = np.zeros((2, 16, 32, 32), np.float32)
    w = np.zeros((32, 16, 3, 3), np.float32)
    conv2d_forward(x, w, None, 2, 1)
    conv2d_backward(np.zeros((2, 32, 16, 16), np.float32), x, w, 2, 1)
    assert calls == ["fwd", "bwd"]
    calls.clear()
    conv2d_forward(x, w[:, :, :1, :1], None, 2, 0)  # a 1x1 kernel reads one phase: im2col
    conv2d_forward(x, w, None, 2, 2, 2)  # dilated: im2col
    assert calls == []
