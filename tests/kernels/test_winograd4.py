"""Winograd F(4x4, 3x3) convolution (``_winograd4.py``) against direct correlation in float64."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from chainrule.kernels import conv2d_backward, conv2d_forward
from chainrule.kernels._winograd4 import (
    AT4,
    BT4,
    G4,
    winograd4_conv,
    winograd4_conv_dw,
    winograd4_weights,
)

CASES = [
    # xshape, C_out, pad (top, bottom, left, right), groups
    ((2, 4, 7, 6), 4, (0, 0, 0, 0), 1),  # 5x4 output: one partial tile row
    ((1, 4, 6, 9), 6, (1, 1, 1, 1), 2),  # batch 1, groups, odd width
    ((2, 2, 5, 5), 3, (1, 0, 2, 1), 1),  # asymmetric padding, odd height
    ((3, 2, 3, 3), 2, (0, 0, 0, 0), 1),  # a single output pixel
    ((2, 3, 11, 13), 5, (1, 1, 1, 1), 1),  # several tiles, neither side a multiple of 4
    ((1, 4, 8, 8), 4, (2, 2, 2, 2), 2),  # padding equal to the kernel's reach (10x10 output)
]


def _direct(x: np.ndarray, w: np.ndarray, pad: tuple, groups: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[1]), (pad[2], pad[3])))
    Co, Cg = w.shape[:2]
    Ho, Wo = xp.shape[2] - 2, xp.shape[3] - 2
    y = np.zeros((x.shape[0], Co, Ho, Wo))
    cog = Co // groups
    for g in range(groups):
        xs = xp[:, g * Cg : (g + 1) * Cg]
        for i in range(3):
            for j in range(3):
                wij = w[g * cog : (g + 1) * cog, :, i, j]
                y[:, g * cog : (g + 1) * cog] += np.einsum(
                    "nchw,oc->nohw", xs[:, :, i : i + Ho, j : j + Wo], wij
                )
    return y


def _direct_dw(gy: np.ndarray, x: np.ndarray, pad: tuple, groups: int, Cg: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[1]), (pad[2], pad[3])))
    Co = gy.shape[1]
    Ho, Wo = gy.shape[2:]
    cog = Co // groups
    dw = np.zeros((Co, Cg, 3, 3))
    for g in range(groups):
        xs = xp[:, g * Cg : (g + 1) * Cg]
        gs = gy[:, g * cog : (g + 1) * cog]
        for i in range(3):
            for j in range(3):
                dw[g * cog : (g + 1) * cog, :, i, j] = np.einsum(
                    "nohw,nchw->oc", gs, xs[:, :, i : i + Ho, j : j + Wo]
                )
    return dw


def _direct_dx(gy: np.ndarray, w: np.ndarray, xshape: tuple, pad: tuple, groups: int) -> np.ndarray:
    # adjoint of _direct: every output scatters gy * w back over its 3x3 window
    N, C, H, W = xshape
    Co, Cg = w.shape[:2]
    Ho, Wo = gy.shape[2:]
    cog = Co // groups
    dxp = np.zeros((N, C, H + pad[0] + pad[1], W + pad[2] + pad[3]))
    for g in range(groups):
        gs = gy[:, g * cog : (g + 1) * cog]
        for i in range(3):
            for j in range(3):
                wij = w[g * cog : (g + 1) * cog, :, i, j]
                dxp[:, g * Cg : (g + 1) * Cg, i : i + Ho, j : j + Wo] += np.einsum(
                    "nohw,oc->nchw", gs, wij
                )
    return dxp[:, :, pad[0] : pad[0] + H, pad[2] : pad[2] + W]


def test_transform_matrices_are_minimal_filtering(rng):
    # F(4, 3): y = A^T [(G g) * (B^T d)] is the correlation of 6 inputs with 3 taps; its dual
    # F(3, 4): G^T [(A c) * (B^T d)] correlates the 6 inputs with 4 taps
    d, g, c = rng.standard_normal(6), rng.standard_normal(3), rng.standard_normal(4)
    y = AT4 @ ((G4 @ g) * (BT4 @ d))
    np.testing.assert_allclose(y, [g @ d[i : i + 3] for i in range(4)], rtol=0, atol=1e-14)
    dw = G4.T @ ((AT4.T @ c) * (BT4 @ d))
    np.testing.assert_allclose(dw, [c @ d[j : j + 4] for j in range(3)], rtol=0, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xshape,co,pad,groups", CASES)
def test_winograd4_forward(backend, rng, dtype, xshape, co, pad, groups):
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((co, xshape[1] // groups, 3, 3))
    b = rng.standard_normal(co)
    expected = _direct(x, w, pad, groups) + b[:, None, None]
    out = np.full(expected.shape, np.nan, dtype=dtype)
    u = winograd4_weights(w.astype(dtype), groups)
    winograd4_conv(x.astype(dtype), u, b.astype(dtype), pad, out)
    assert out.dtype == dtype
    # float32: error relative to the largest output (F(4x4)'s coefficients grow it past direct's)
    scale = np.abs(expected).max()
    atol = 1e-5 * scale if dtype == np.float32 else 1e-13 * scale
    np.testing.assert_allclose(out, expected, rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xshape,co,pad,groups", CASES)
def test_winograd4_weight_gradient(backend, rng, dtype, xshape, co, pad, groups):
    x = rng.standard_normal(xshape)
    Cg = xshape[1] // groups
    Ho = xshape[2] + pad[0] + pad[1] - 2
    Wo = xshape[3] + pad[2] + pad[3] - 2
    gy = rng.standard_normal((xshape[0], co, Ho, Wo))
    expected = _direct_dw(gy, x, pad, groups, Cg)
    dw = np.full((co, Cg, 3, 3), np.nan, dtype=dtype)
    db = np.ones(co)  # incremented, not overwritten
    winograd4_conv_dw(gy.astype(dtype), x.astype(dtype), dw, db, pad)
    scale = np.abs(expected).max()
    atol = 1e-5 * scale if dtype == np.float32 else 1e-13 * scale
    np.testing.assert_allclose(dw, expected, rtol=0, atol=atol)
    np.testing.assert_allclose(
        db, 1 + gy.sum(axis=(0, 2, 3)), rtol=1e-6 if dtype == np.float32 else 1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "xshape,co,pad,groups", [CASES[i] for i in (1, 2, 4, 5)]
)  # same-like padding
def test_conv2d_takes_winograd4_for_all_passes(
    backend, rng, monkeypatch, dtype, xshape, co, pad, groups
):
    conv = importlib.import_module("chainrule.kernels.conv")
    monkeypatch.setattr(conv, "WINOGRAD_MIN_CHANNELS", 1)
    monkeypatch.setattr(conv, "WINOGRAD4_MAX_WORK", np.inf)
    calls = []
    for name in ("winograd4_conv", "winograd4_conv_dw"):
        original = getattr(conv, name)
        monkeypatch.setattr(
            conv, name, lambda *a, _f=original, _n=name, **k: (calls.append(_n), _f(*a, **k))[1]
        )
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((co, xshape[1] // groups, 3, 3))
    y = conv2d_forward(x.astype(dtype), w.astype(dtype), None, 1, pad, 1, groups)
    gy = rng.standard_normal(y.shape)
    dx, dw, db = conv2d_backward(
        gy.astype(dtype), x.astype(dtype), w.astype(dtype), 1, pad, 1, groups
    )
    assert calls.count("winograd4_conv") == 2 and calls.count("winograd4_conv_dw") == 1
    expected_y = _direct(x, w, pad, groups)
    expected_dx = _direct_dx(gy, w, x.shape, pad, groups)
    tol = {"rtol": 0, "atol": 1e-5} if dtype == np.float32 else {"rtol": 0, "atol": 1e-12}
    scale = lambda a: {**tol, "atol": tol["atol"] * np.abs(a).max()}  # noqa: E731
    np.testing.assert_allclose(y, expected_y, **scale(expected_y))
    np.testing.assert_allclose(dx, expected_dx, **scale(expected_dx))
    expected_dw = _direct_dw(gy, x, pad, groups, xshape[1] // groups)
    np.testing.assert_allclose(dw, expected_dw, **scale(expected_dw))
    np.testing.assert_allclose(db, gy.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-5)


def test_small_outputs_keep_two_by_two_tiles(monkeypatch, rng):
    # a 2x2 output fills a quarter of a 4x4 tile: F(2x2) multiplies less and is chosen
    conv = importlib.import_module("chainrule.kernels.conv")
    monkeypatch.setattr(conv, "WINOGRAD_MIN_CHANNELS", 1)
    assert not conv._four_by_four(2, 2) and conv._four_by_four(8, 8)
    assert conv._four_by_four(24, 24) and conv._four_by_four(16, 16)
    x = rng.standard_normal((2, 3, 4, 4))
    w = rng.standard_normal((2, 3, 3, 3))
    np.testing.assert_allclose(
        conv2d_forward(x, w, None, 1, 0), _direct(x, w, (0, 0, 0, 0), 1), rtol=1e-12, atol=1e-12
    )


def test_sixteen_channels_take_winograd4_for_the_weight_gradient_only(monkeypatch, rng):
    conv = importlib.import_module("chainrule.kernels.conv")
    calls = []
    for name in ("winograd4_conv", "winograd4_conv_dw", "wide_conv", "wide_conv_dw"):
        original = getattr(conv, name)
        monkeypatch.setattr(
            conv, name, lambda *a, _f=original, _n=name, **k: (calls.append(_n), _f(*a, **k))[1]
        )
    x = rng.standard_normal((2, 16, 7, 30)).astype(np.float32)  # wide enough for wide rows
    w = (rng.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)
    y = conv2d_forward(x, w, None, 1, 1)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, _ = conv2d_backward(gy, x, w, 1, 1)
    assert calls == ["wide_conv", "winograd4_conv_dw", "wide_conv"]
    expected = _direct_dw(gy.astype(np.float64), x.astype(np.float64), (1, 1, 1, 1), 1, 16)
    np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("C,H", [(32, 16), (64, 8)])
def test_float32_error_at_resnet_sizes(rng, C, H):
    # the ResNet-20 stages in float32, against float64 direct correlation of the same (rounded)
    # values: measured 3.5e-6 and 5.2e-6 of the largest output (F(2x2) 2.4e-7 and 3.0e-7)
    x = rng.standard_normal((2, C, H, H)).astype(np.float32)
    w = (rng.standard_normal((C, C, 3, 3)) * (2.0 / (9 * C)) ** 0.5).astype(np.float32)
    out = np.empty((2, C, H, H), np.float32)
    winograd4_conv(x, winograd4_weights(w, 1), np.zeros(C, np.float32), (1, 1, 1, 1), out)
    expected = _direct(x.astype(np.float64), w.astype(np.float64), (1, 1, 1, 1), 1)
    assert np.abs(out - expected).max() / np.abs(expected).max() < 1.5e-5


@pytest.mark.parametrize("size, winograd", [(26, True), (16, True), (10, False)])
def test_valid_convolutions_take_winograd_for_the_input_gradient_up_to_the_growth_limit(
    monkeypatch, rng, size, winograd
):
    # dx of a 'valid' 3x3 convolution is a 'full' one: (size-2)^2 outputs grow to size^2
    conv = importlib.import_module("chainrule.kernels.conv")
    calls = []
    original = conv._winograd
    spy = lambda *a, **k: (calls.append(a[3]), original(*a, **k))[1]  # noqa: E731
    monkeypatch.setattr(conv, "_winograd", spy)
    x = rng.standard_normal((2, 32, size, size)).astype(np.float32)
    w = (rng.standard_normal((32, 32, 3, 3)) * 0.1).astype(np.float32)
    gy = rng.standard_normal((2, 32, size - 2, size - 2)).astype(np.float32)
    dx, _, _ = conv2d_backward(gy, x, w, 1, 0, need_dw=False)
    assert ((2, 2, 2, 2) in calls) == winograd  # the padded gradient's pad marks the dx call
    gy64, w64 = gy.astype(np.float64), w.astype(np.float64)
    expected = _direct(gy64, np.flip(w64, (2, 3)).transpose(1, 0, 2, 3), (2, 2, 2, 2), 1)
    np.testing.assert_allclose(dx, expected, rtol=0, atol=2e-5 * np.abs(expected).max())
