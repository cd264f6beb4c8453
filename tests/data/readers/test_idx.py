"""IDX reader and MNIST / Fashion-MNIST: fixtures, bad input, and the real shared files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from chainrule.data import (
    MNIST,
    DatasetNotFoundError,
    FashionMNIST,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)
from chainrule.data.readers.idx import parse_idx


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_idx_round_trip_all_types(make_idx, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == "uint8":
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = parse_idx(make_idx(array))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def write_mnist(folder, make_idx, n_train=5, n_test=3, compress="gz", parts=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    data = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in data.items():
        raw = make_idx(array)
        if compress == "raw":
            (folder / name).write_bytes(raw)
            continue
        packed = gzip.compress(raw, mtime=0)
        if parts and name.startswith("train-images"):
            cuts = np.linspace(0, len(packed), parts + 1).astype(int)
            for k in range(parts):
                (folder / f"{name}.gz.part{k}").write_bytes(packed[cuts[k] : cuts[k + 1]])
        else:
            (folder / f"{name}.gz").write_bytes(packed)
    return data


@pytest.mark.parametrize("compress, parts", [("raw", 0), ("gz", 0), ("gz", 3)])
def test_load_mnist_layouts(tmp_path, make_idx, compress, parts):
    data = write_mnist(tmp_path / "mnist", make_idx, compress=compress, parts=parts)
    for root in (tmp_path, tmp_path / "mnist"):  # the data root or the folder itself
        x, y = load_mnist(root, train=True)
        np.testing.assert_array_equal(x, data["train-images-idx3-ubyte"])
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, data["train-labels-idx1-ubyte"])
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 3 and ds.data.shape == (3, 28, 28) and ds.classes[3] == "3"


def test_mnist_root_from_environment(tmp_path, make_idx, monkeypatch):
    write_mnist(tmp_path / "mnist", make_idx)
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    assert load_mnist(train=True)[0].shape == (5, 28, 28)


def test_fashion_mnist_folder(tmp_path, make_idx):
    write_mnist(tmp_path / "fashion-mnist", make_idx)
    x, y = load_fashion_mnist(tmp_path)
    assert x.shape == (5, 28, 28)
    assert FashionMNIST(tmp_path).classes[9] == "Ankle boot"


def test_wrong_magic_names_file_and_expectation(tmp_path, make_idx):
    path = tmp_path / "bad-idx3-ubyte"
    raw = bytearray(make_idx(np.zeros((2, 2, 2), np.uint8)))
    raw[0] = 0x12
    path.write_bytes(bytes(raw))
    with pytest.raises(
        ValueError, match=r"bad-idx3-ubyte: bad IDX magic number 0x12000803.*0x00000803"
    ):
        read_idx(path)


def test_wrong_rank_for_images(tmp_path, make_idx):
    path = tmp_path / "labels-as-images"
    path.write_bytes(make_idx(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match=r"declares 1 dimension\(s\); expected 3"):
        read_idx(path, expect_ndim=3)


def test_truncated_idx_data(tmp_path, make_idx):
    path = tmp_path / "short-idx3-ubyte.gz"
    raw = make_idx(np.zeros((10, 28, 28), np.uint8))[:-100]
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(
        ValueError, match=r"short-idx3-ubyte.gz: IDX data is truncated.*\(10, 28, 28\)"
    ):
        read_idx(path)
    tiny = tmp_path / "tiny"
    tiny.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="shorter than the 4-byte magic"):
        read_idx(tiny)


def test_truncated_gzip_stream(tmp_path, make_idx):
    path = tmp_path / "cut.gz"
    packed = gzip.compress(make_idx(np.zeros((50, 28, 28), np.uint8)))
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="cut.gz: broken gzip data"):
        read_idx(path)


def test_label_count_mismatch(tmp_path, make_idx):
    folder = tmp_path / "mnist"
    write_mnist(folder, make_idx)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(make_idx(np.zeros(4, np.uint8)))
    )
    with pytest.raises(ValueError, match=r"holds 4 labels but .*train-images.* holds 5 images"):
        load_mnist(tmp_path, train=True)


def test_missing_folder_names_files_and_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(tmp_path / "nowhere", train=True)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "does not exist" in message and "download=True" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, RuntimeError)


def test_real_mnist_counts(shared_data):
    x, y = load_mnist(shared_data / "mnist", train=True)
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and int(x.max()) == 255
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    xt, yt = load_mnist(shared_data, train=False)
    assert xt.shape == (10000, 28, 28)
    assert np.bincount(yt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
