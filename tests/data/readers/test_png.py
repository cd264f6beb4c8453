"""The PNG decoder: every filter type and colour type, errors, and Pillow as an oracle."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from chainrule.data.readers.png import decode_png, read_png


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_each_filter_and_colour_type(make_png, channels, kind):
    rng = np.random.default_rng(kind * 10 + channels)
    shape = (7, 9) if channels == 1 else (7, 9, channels)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_array_equal(decode_png(make_png(pixels, filters=kind)), pixels)


def test_mixed_filters_per_row(make_png):
    pixels = np.random.default_rng(0).integers(0, 256, (25, 13, 3), dtype=np.uint8)
    data = make_png(pixels, filters=lambda r: r % 5)
    np.testing.assert_array_equal(decode_png(data), pixels)


def test_palette_image(make_png):
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    index = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    out = decode_png(make_png(index, filters=1, color_type=3, palette=palette))
    np.testing.assert_array_equal(out, palette[index])


def test_errors(make_png, tmp_path):
    good = make_png(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a" + good[6:], "x.gif")
    broken = bytearray(good)
    broken[20] ^= 0xFF  # inside IHDR
    with pytest.raises(ValueError, match="CRC mismatch in PNG chunk b'IHDR'"):
        decode_png(bytes(broken), "broken.png")
    with pytest.raises(ValueError, match="interlace 1"):
        decode_png(make_png(np.zeros((2, 2, 3), np.uint8), interlace=1))
    with pytest.raises(ValueError, match="truncated"):
        decode_png(good[:40], "cut.png")
    path = tmp_path / "ok.png"
    path.write_bytes(good)
    assert read_png(path).shape == (2, 2, 3)


def test_paeth_strip_decodes(make_png):
    # 200 rows of the CIFAR strip width, all Paeth: the slow path of the decoder
    pixels = np.random.default_rng(1).integers(0, 256, (200, 1024, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decode_png(make_png(pixels, filters=4)), pixels)


def test_matches_pillow_on_the_real_strip(shared_data):
    image_module = pytest.importorskip("PIL.Image")
    path = shared_data / "cifar10_subset" / "cifar10_batch_0.png"
    ours = read_png(path)
    theirs = np.asarray(image_module.open(path).convert("RGB"))
    assert ours.shape == (1000, 1024, 3)
    np.testing.assert_array_equal(ours, theirs)


def test_header_struct_is_big_endian(make_png):
    data = make_png(np.zeros((3, 5), np.uint8))
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (5, 3) and decode_png(data).shape == (3, 5)
