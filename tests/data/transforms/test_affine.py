"""Affine warps checked numerically: rot90, shifts with fill, identity, flips, fill modes."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data.transforms import (
    affine_matrices,
    apply_affine,
    flip_matrices,
    rotate,
    shear,
    shift,
    zoom,
)

INTERP = ["nearest", "bilinear"]


@pytest.fixture
def batch():
    return np.random.default_rng(0).integers(0, 256, (4, 3, 9, 9), dtype=np.uint8)


@pytest.mark.parametrize("interpolation", INTERP)
@pytest.mark.parametrize("k", [1, 2, 3, -1])
def test_rotation_by_multiples_of_90_is_rot90(batch, interpolation, k):
    out = rotate(batch, 90 * k, interpolation=interpolation)
    np.testing.assert_array_equal(out, np.rot90(batch, k, axes=(2, 3)))


@pytest.mark.parametrize("interpolation", INTERP)
def test_rotation_layouts(batch, interpolation):
    nhwc = batch.transpose(0, 2, 3, 1)
    out = rotate(nhwc, 90, interpolation=interpolation, data_format="NHWC")
    np.testing.assert_array_equal(out, np.rot90(nhwc, 1, axes=(1, 2)))
    gray = batch[:, 0]
    np.testing.assert_array_equal(rotate(gray, 90, interpolation), np.rot90(gray, 1, axes=(1, 2)))


def shifted_copy(x, dy, dx, fill):
    out = np.full_like(x, fill)
    h, w = x.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = x[..., ys, xs]
    return out


@pytest.mark.parametrize("interpolation", INTERP)
@pytest.mark.parametrize("dy, dx", [(0, 2), (3, 0), (-2, 1), (1, -4)])
def test_shift_by_k_pixels_equals_shifted_copy_with_fill(batch, interpolation, dy, dx):
    out = shift(batch, dy, dx, interpolation, fill_mode="constant", cval=17)
    np.testing.assert_array_equal(out, shifted_copy(batch, dy, dx, 17))


@pytest.mark.parametrize("interpolation", INTERP)
def test_shift_fill_modes(batch, interpolation):
    np.testing.assert_array_equal(
        shift(batch, 0, 3, interpolation, fill_mode="wrap"), np.roll(batch, 3, axis=3)
    )
    near = shift(batch, 0, 2, interpolation, fill_mode="nearest")
    np.testing.assert_array_equal(near[..., :2], np.repeat(batch[..., :1], 2, axis=3))
    np.testing.assert_array_equal(near[..., 2:], batch[..., :-2])
    refl = shift(batch, 0, 2, interpolation, fill_mode="reflect")
    np.testing.assert_array_equal(refl[..., :2], batch[..., 1::-1])  # b a | a b c ...


@pytest.mark.parametrize("interpolation", INTERP)
@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
def test_identity_returns_the_input(batch, interpolation, dtype):
    x = batch.astype(dtype) / (255 if dtype != "uint8" else 1)
    x = x.astype(dtype)
    for fill in ("constant", "nearest", "reflect", "wrap"):
        out = apply_affine(x, affine_matrices(4, 9, 9), interpolation, fill)
        assert out.dtype == x.dtype
        np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(zoom(x, 1.0, interpolation=interpolation), x)
    np.testing.assert_array_equal(shear(x, 0.0, interpolation=interpolation), x)


def test_flip_matrices_are_exact_mirrors_and_involutions(batch):
    h = flip_matrices(4, 9, 9, horizontal=True)
    v = flip_matrices(4, 9, 9, vertical=True)
    np.testing.assert_array_equal(apply_affine(batch, h, "nearest"), batch[..., ::-1])
    np.testing.assert_array_equal(apply_affine(batch, v, "bilinear"), batch[..., ::-1, :])
    np.testing.assert_array_equal(h @ h, np.broadcast_to(np.eye(3), (4, 3, 3)))
    np.testing.assert_array_equal(v @ v, np.broadcast_to(np.eye(3), (4, 3, 3)))


def test_per_image_parameters(batch):
    out = rotate(batch, np.array([0, 90, 180, 270]), interpolation="nearest")
    for k in range(4):
        np.testing.assert_array_equal(out[k], np.rot90(batch[k], k, axes=(1, 2)))


def test_dtype_and_range_are_kept():
    rng = np.random.default_rng(1)
    x8 = rng.integers(0, 256, (8, 3, 16, 16), dtype=np.uint8)
    xf = rng.random((8, 3, 16, 16)).astype(np.float32)
    params = {"rotation": 33.0, "shear": 12.0, "zoom_y": 1.3, "zoom_x": 0.8, "shift_x": 1.5}
    m = affine_matrices(8, 16, 16, **params)
    out8 = apply_affine(x8, m, "bilinear", "reflect")
    assert out8.dtype == np.uint8
    outf = apply_affine(xf, m, "bilinear", "nearest")
    assert (
        outf.dtype == np.float32 and outf.min() >= xf.min() - 1e-6 and outf.max() <= xf.max() + 1e-6
    )


def test_zoom_and_shear_geometry():
    x = np.zeros((1, 1, 9, 9), np.float32)
    x[0, 0, 4, 4] = 1.0  # the centre stays put under zoom, shear and rotation
    for out in (zoom(x, 2.0, interpolation="nearest"), shear(x, 30.0), rotate(x, 37.0)):
        assert out[0, 0, 4, 4] == pytest.approx(1.0)
    dot = np.zeros((1, 1, 9, 9), np.float32)
    dot[0, 0, 4, 6] = 1.0  # two pixels right of the centre
    assert zoom(dot, 2.0, interpolation="nearest")[0, 0, 4, 8] == 1.0  # zoom in doubles the offset
    bar = np.zeros((1, 1, 9, 9), np.float32)
    bar[0, 0, 6, 4] = 1.0  # two rows below the centre
    assert shear(bar, 45.0, interpolation="nearest")[0, 0, 6, 6] == 1.0  # moves tan(45) per row


def test_errors_name_the_problem(batch):
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        shift(batch, 1, 1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        shift(batch, 1, 1, interpolation="cubic")
    with pytest.raises(ValueError, match=r"got shape \(9, 9\)"):
        rotate(batch[0, 0], 10)
    with pytest.raises(ValueError, match=r"matrices of shape \(4, 3, 3\)"):
        apply_affine(batch, np.zeros((2, 3, 3)))
