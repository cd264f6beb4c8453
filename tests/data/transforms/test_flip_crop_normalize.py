"""Flips, pad-and-random-crop, normalisation, Compose."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data.transforms import (
    Compose,
    ImageAugmenter,
    Normalize,
    RandomCrop,
    RandomFlip,
    ToFloat,
    channel_stats,
    hflip,
    normalize,
    pad,
    random_crop,
    random_flip,
    to_float,
    vflip,
)


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (6, 3, 8, 8), dtype=np.uint8)


def test_flips_are_involutions(images):
    np.testing.assert_array_equal(hflip(hflip(images)), images)
    np.testing.assert_array_equal(vflip(vflip(images)), images)
    np.testing.assert_array_equal(hflip(images), images[..., ::-1])
    nhwc = images.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(hflip(nhwc, "NHWC"), nhwc[:, :, ::-1])


def test_random_flip_probabilities(images):
    np.testing.assert_array_equal(random_flip(images, p=1.0), hflip(images))
    np.testing.assert_array_equal(random_flip(images, p=0.0), images)
    both = random_flip(images, horizontal=True, vertical=True, p=1.0)
    np.testing.assert_array_equal(both, images[..., ::-1, ::-1])
    x, y = RandomFlip(p=1.0)((images, np.arange(6)))
    np.testing.assert_array_equal(x, hflip(images))
    assert y.tolist() == list(range(6))


def test_random_crop_windows_of_the_padded_image(images):
    out = random_crop(images, padding=2, rng=np.random.default_rng(0))
    padded = pad(images, 2)
    assert out.shape == images.shape
    for k in range(6):
        found = any(
            np.array_equal(out[k], padded[k, :, oy : oy + 8, ox : ox + 8])
            for oy in range(5)
            for ox in range(5)
        )
        assert found
    np.testing.assert_array_equal(random_crop(images, padding=0), images)
    small = random_crop(images, padding=0, size=(5, 4), rng=np.random.default_rng(0))
    assert small.shape == (6, 3, 5, 4)


def test_pad_fill_modes(images):
    assert (pad(images, 1, cval=9)[..., 0, :] == 9).all()
    np.testing.assert_array_equal(pad(images, 1, "nearest")[..., 1:-1, 0], images[..., 0])
    np.testing.assert_array_equal(pad(images, 1, "reflect")[..., 1:-1, 0], images[..., 0])
    np.testing.assert_array_equal(pad(images, 1, "wrap")[..., 1:-1, 0], images[..., -1])
    with pytest.raises(ValueError, match="crop size"):
        random_crop(images, padding=0, size=(9, 9))


def test_normalize_and_to_float(images):
    f = to_float(images)
    assert f.dtype == np.float32 and f.max() <= 1.0
    mean, std = channel_stats(f)
    out = normalize(f, mean, std)
    m2, s2 = channel_stats(out)
    np.testing.assert_allclose(m2, 0.0, atol=1e-5)
    np.testing.assert_allclose(s2, 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="1 or 3 values"):
        normalize(f, [0.1, 0.2], 1.0)
    with pytest.raises(ValueError, match="non-zero"):
        normalize(f, 0.0, 0.0)


def test_compose_in_a_pipeline(images):
    labels = np.arange(6)
    pipeline = Compose(
        [
            ImageAugmenter(rotation_range=10, horizontal_flip=True),
            RandomCrop(padding=2),
            ToFloat(),
            Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
        ]
    )
    x, y = pipeline((images, labels), rng=np.random.default_rng(0))
    x2, _ = pipeline((images, labels), rng=np.random.default_rng(0))
    assert x.dtype == np.float32 and x.shape == images.shape and y is labels
    np.testing.assert_array_equal(x, x2)
    with pytest.raises(TypeError, match="callable"):
        Compose([3])
