"""Dataset, TensorDataset, Subset, ConcatDataset, random_split."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_items_and_batches():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.tolist() == [6, 7] and int(yi) == 30
    assert int(ds[-1][1]) == 90
    bx, by = ds.get_batch([4, 0, 9])
    assert bx.tolist() == [[8, 9], [0, 1], [18, 19]] and by.tolist() == [40, 0, 90]


def test_tensor_dataset_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"same first dimension.*\(3, 2\).*\(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    ds = TensorDataset(np.zeros(3))
    with pytest.raises(IndexError, match="index 3 is out of range for length 3"):
        ds[3]
    with pytest.raises(TypeError, match="integer"):
        ds[1.5]


def test_subset_and_its_batch_path():
    ds = TensorDataset(np.arange(10))
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3
    assert [int(sub[i][0]) for i in range(3)] == [7, 2, 5]
    assert sub.get_batch([2, 0])[0].tolist() == [5, 7]
    with pytest.raises(IndexError, match="indices must lie"):
        Subset(ds, [10])


def test_subset_of_plain_dataset_has_no_get_batch():
    class Plain(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i

    sub = Subset(Plain(), [2, 1])
    assert not hasattr(sub, "get_batch")
    assert sub[0] == 2


def test_concat_dataset_crosses_boundaries():
    a = TensorDataset(np.arange(3))
    b = TensorDataset(np.arange(100, 102))
    c = TensorDataset(np.arange(200, 204))
    ds = ConcatDataset([a, b, c])
    assert len(ds) == 9
    got = [int(ds[i][0]) for i in range(9)]
    assert got == [0, 1, 2, 100, 101, 200, 201, 202, 203]
    assert int(ds[-1][0]) == 203
    assert len(a + b) == 5
    with pytest.raises(ValueError, match="at least one dataset"):
        ConcatDataset([])


def test_random_split_is_a_seeded_partition():
    ds = TensorDataset(np.arange(100))
    chainrule.manual_seed(3)
    parts = random_split(ds, [70, 20, 10])
    assert [len(p) for p in parts] == [70, 20, 10]
    everything = np.concatenate([p.indices for p in parts])
    assert sorted(everything.tolist()) == list(range(100))
    chainrule.manual_seed(3)
    again = random_split(ds, [70, 20, 10])
    assert all(np.array_equal(p.indices, q.indices) for p, q in zip(parts, again, strict=True))
    other = random_split(ds, [70, 20, 10], generator=np.random.default_rng(99))
    assert not np.array_equal(parts[0].indices, other[0].indices)


def test_random_split_fractions_and_errors():
    ds = TensorDataset(np.arange(11))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert sum(len(p) for p in parts) == 11
    assert [len(p) for p in parts] == [6, 3, 2]
    with pytest.raises(ValueError, match="sum to the dataset length 11"):
        random_split(ds, [5, 5])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.6])
