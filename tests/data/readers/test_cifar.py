"""CIFAR readers: pickle batches (fixtures, a malicious pickle) and the PNG-strip subset."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from chainrule.data import CIFAR10, CIFAR100, CIFAR10Subset, load_cifar10_subset
from chainrule.data.readers.cifar import read_cifar_batch, read_png_strip


def write_batch(path, n, rng, labels_key=b"labels", extra=None):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    batch = {b"data": data, labels_key: list(rng.integers(0, 10, n).tolist())}
    batch.update(extra or {})
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return data, np.asarray(batch[labels_key])


def test_cifar10_pickle_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    parts = [write_batch(folder / f"data_batch_{i}", 4, rng) for i in range(1, 6)]
    test_data, test_labels = write_batch(folder / "test_batch", 3, rng)
    names = [f"c{i}".encode() for i in range(10)]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}))
    train = CIFAR10(tmp_path, train=True)
    assert train.data.shape == (20, 3, 32, 32) and train.data.dtype == np.uint8
    assert train.classes[0] == "c0"
    expected = np.concatenate([p[0] for p in parts]).reshape(20, 3, 32, 32)
    np.testing.assert_array_equal(train.data, expected)
    test = CIFAR10(folder, train=False, channels_last=True)
    assert test.data.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(test.data, test_data.reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(test.targets, test_labels)


def test_cifar100_fine_and_coarse(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(1)
    coarse = rng.integers(0, 20, 6).tolist()
    data, fine = write_batch(folder / "train", 6, rng, b"fine_labels", {b"coarse_labels": coarse})
    ds = CIFAR100(tmp_path, train=True)
    np.testing.assert_array_equal(ds.targets, fine)
    assert CIFAR100(tmp_path, label_mode="coarse").targets.tolist() == coarse
    with pytest.raises(ValueError, match="label_mode"):
        CIFAR100(tmp_path, label_mode="medium")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_malicious_pickle_is_refused(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": _Evil(), b"labels": [0]}))
    with pytest.raises(ValueError, match="only NumPy arrays are allowed"):
        read_cifar_batch(path)


def test_batch_shape_errors(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"shape \(N, 3072\), got \(2, 100\)"):
        read_cifar_batch(path)
    path.write_bytes(pickle.dumps({b"pixels": np.zeros((2, 3072), np.uint8)}))
    with pytest.raises(ValueError, match="expected keys 'data' and 'labels'"):
        read_cifar_batch(path)


def test_png_strip_fixture(tmp_path, make_png):
    folder = tmp_path / "cifar10_subset"
    folder.mkdir()
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    (folder / "cifar10_batch_0.png").write_bytes(make_png(images.reshape(5, 1024, 3), filters=1))
    (folder / "cifar10_batch_1.png").write_bytes(
        make_png(images[:2].reshape(2, 1024, 3), filters=4)
    )
    (folder / "train_labels.txt").write_text("\n".join(str(i % 10) for i in range(7)) + "\n")
    x, y = load_cifar10_subset(tmp_path, train=True, channels_last=True)
    assert x.shape == (7, 32, 32, 3) and y.tolist() == list(range(7))
    np.testing.assert_array_equal(x[:5], images)
    np.testing.assert_array_equal(x[5:], images[:2])
    ds = CIFAR10Subset(folder)
    np.testing.assert_array_equal(ds.data[0], images[0].transpose(2, 0, 1))
    assert ds.classes[9] == "truck"


def test_png_strip_wrong_width(tmp_path, make_png):
    path = tmp_path / "narrow.png"
    path.write_bytes(make_png(np.zeros((2, 100, 3), np.uint8)))
    with pytest.raises(ValueError, match="rows of 1024 pixels"):
        read_png_strip(path)


def test_too_few_labels(tmp_path, make_png):
    folder = tmp_path / "cifar10_subset"
    folder.mkdir()
    (folder / "cifar10_batch_50.png").write_bytes(make_png(np.zeros((3, 1024, 3), np.uint8)))
    (folder / "test_labels.txt").write_text("1\n2\n")
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        load_cifar10_subset(tmp_path, train=False)


def test_real_cifar10_subset(shared_data):
    train = CIFAR10Subset(shared_data, train=True)
    assert train.data.shape == (4000, 3, 32, 32)
    assert np.bincount(train.targets).tolist() == [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]
    test = CIFAR10Subset(shared_data / "cifar10_subset", train=False)
    assert test.data.shape == (1000, 3, 32, 32)
    assert np.bincount(test.targets).tolist() == [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]
    assert test.targets[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert train.classes == (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    )
