"""ImageAugmenter: labels untouched, determinism, dtype/range, flips-only and shift-only cases."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.transforms import ImageAugmenter, hflip, shift


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (16, 3, 12, 12), dtype=np.uint8)


FULL = {
    "rotation_range": 20,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 15,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "vertical_flip": True,
}


def test_labels_are_never_changed(images):
    labels = np.arange(16)
    aug = ImageAugmenter(**FULL)
    x, y = aug((images, labels))
    assert y is labels and x.shape == images.shape
    out = aug({"image": images, "label": labels, "id": "batch-1"})
    assert out["label"] is labels and out["id"] == "batch-1"
    assert not np.array_equal(out["image"], images)
    custom = ImageAugmenter(rotation_range=10, image_key="pixels")({"pixels": images, "y": labels})
    assert custom["y"] is labels


def test_dtype_and_range_are_kept(images):
    aug = ImageAugmenter(**FULL, fill_mode="constant", cval=0)
    out = aug(images, rng=np.random.default_rng(1))
    assert out.dtype == np.uint8
    floats = images.astype(np.float32) / 255
    outf = aug(floats, rng=np.random.default_rng(1))
    assert outf.dtype == np.float32 and outf.min() >= 0.0 and outf.max() <= 1.0
    # the same draws on uint8 and on [0, 1] floats agree up to rounding
    np.testing.assert_allclose(outf * 255, out, atol=0.51)


def test_seeded_and_manual_seed_determinism(images):
    aug = ImageAugmenter(**FULL)
    a = aug(images, rng=np.random.default_rng(3))
    b = aug(images, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    chainrule.manual_seed(11)
    c = aug(images)
    chainrule.manual_seed(11)
    np.testing.assert_array_equal(c, aug(images))


def test_identity_augmenter_returns_the_input(images):
    out = ImageAugmenter()(images)
    np.testing.assert_array_equal(out, images)
    assert out is not images


def test_flip_only_gives_original_or_mirror(images):
    out = ImageAugmenter(horizontal_flip=True)(images, rng=np.random.default_rng(0))
    mirrored = hflip(images)
    flags = []
    for k in range(16):
        same, flipped = np.array_equal(out[k], images[k]), np.array_equal(out[k], mirrored[k])
        assert same or flipped
        flags.append(flipped)
    assert 0 < sum(flags) < 16


def test_integer_pixel_shifts(images):
    aug = ImageAugmenter(width_shift_range=2, height_shift_range=2, fill_mode="constant")
    params = aug.sample(16, 12, 12, np.random.default_rng(5))
    assert set(params.shift_x.tolist()) <= {-2.0, -1.0, 0.0, 1.0, 2.0}
    out = aug.apply(images, params)
    for k in range(16):
        want = shift(images[k : k + 1], params.shift_y[k], params.shift_x[k], fill_mode="constant")
        np.testing.assert_array_equal(out[k : k + 1], want)


def test_nhwc_and_gray_batches(images):
    aug = ImageAugmenter(rotation_range=30, data_format="NHWC")
    nhwc = images.transpose(0, 2, 3, 1)
    assert aug(nhwc).shape == nhwc.shape
    gray = images[:, 0]
    assert ImageAugmenter(rotation_range=30)(gray).shape == gray.shape


def test_plugs_into_the_loader(images):
    ds = TensorDataset(images, np.arange(16))
    loader = DataLoader(ds, batch_size=4, shuffle=True, batch_transform=ImageAugmenter(**FULL))
    seen = []
    for x, y in loader:
        assert x.shape == (4, 3, 12, 12) and x.dtype == np.uint8
        seen.extend(y.tolist())
    assert sorted(seen) == list(range(16))


def test_argument_errors():
    with pytest.raises(ValueError, match="fill_mode"):
        ImageAugmenter(fill_mode="mirror")
    with pytest.raises(ValueError, match="rotation_range must be >= 0"):
        ImageAugmenter(rotation_range=-1)
    with pytest.raises(ValueError, match="zoom_range"):
        ImageAugmenter(zoom_range=(1.2, 0.8))
    with pytest.raises(ValueError, match="shear_range must be below 90"):
        ImageAugmenter(shear_range=90)
    with pytest.raises(ValueError, match="cannot find the images"):
        ImageAugmenter(rotation_range=5)({"pixels": np.zeros((1, 4, 4))})
