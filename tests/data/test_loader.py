"""DataLoader: batching, shuffling under manual_seed, collate paths, prefetch thread."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import chainrule
from chainrule.data import DataLoader, Dataset, ImageAugmenter, TensorDataset


class Pairs(Dataset):
    """A dataset without get_batch, so the loader collates sample by sample."""

    def __init__(self, n: int) -> None:
        self.x = np.arange(n * 4, dtype=np.float32).reshape(n, 2, 2)
        self.y = np.arange(n)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i], int(self.y[i])


def labels_of(loader) -> list[list[int]]:
    return [np.asarray(b[1]).tolist() for b in loader]


def test_batches_in_order_and_drop_last():
    ds = TensorDataset(np.zeros((10, 3)), np.arange(10))
    loader = DataLoader(ds, batch_size=4)
    assert len(loader) == 3
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dropped = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and labels_of(dropped) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_deterministic_under_manual_seed():
    ds = TensorDataset(np.arange(100))
    loader = DataLoader(ds, batch_size=10, shuffle=True)
    chainrule.manual_seed(7)
    first = [b[0].tolist() for b in loader]
    second = [b[0].tolist() for b in loader]
    chainrule.manual_seed(7)
    again = [b[0].tolist() for b in loader]
    assert first == again
    assert first != second  # a new epoch, a new order
    assert sorted(sum(first, [])) == list(range(100))


def test_explicit_generator_ignores_the_global_state():
    ds = TensorDataset(np.arange(30))
    a = [b[0].tolist() for b in DataLoader(ds, 5, shuffle=True, generator=np.random.default_rng(1))]
    chainrule.manual_seed(123)
    b = [b[0].tolist() for b in DataLoader(ds, 5, shuffle=True, generator=np.random.default_rng(1))]
    assert a == b


def test_fast_path_matches_sample_by_sample_collate():
    pairs = Pairs(9)
    arrays = TensorDataset(pairs.x, pairs.y)
    for a, b in zip(DataLoader(pairs, 4), DataLoader(arrays, 4), strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_collate_fn_and_batch_transform_without_rng():
    ds = Pairs(5)
    loader = DataLoader(
        ds,
        batch_size=2,
        collate_fn=lambda items: [i[1] for i in items],
        batch_transform=lambda batch: [v * 10 for v in batch],
    )
    assert list(loader) == [[0, 10], [20, 30], [40]]


def test_prefetch_gives_the_same_batches_as_no_prefetch():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    ds = TensorDataset(images, np.arange(40))
    aug = ImageAugmenter(rotation_range=20, width_shift_range=0.2, horizontal_flip=True)

    def epoch(prefetch: int):
        chainrule.manual_seed(5)
        loader = DataLoader(ds, 8, shuffle=True, batch_transform=aug, prefetch=prefetch)
        return list(loader)

    plain, fetched = epoch(0), epoch(3)
    assert len(plain) == len(fetched) == 5
    for (xa, ya), (xb, yb) in zip(plain, fetched, strict=True):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)
    # labels are untouched by the augmentation
    assert sorted(np.concatenate([y for _, y in plain]).tolist()) == list(range(40))


def test_prefetch_reraises_errors_from_the_thread():
    class Broken(Pairs):
        def __getitem__(self, i):
            if i == 5:
                raise KeyError("sample 5 is broken")
            return super().__getitem__(i)

    loader = DataLoader(Broken(8), batch_size=2, prefetch=2)
    with pytest.raises(KeyError, match="sample 5 is broken"):
        list(loader)


def _prefetch_threads() -> int:
    return sum(t.name == "chainrule-prefetch" for t in threading.enumerate())


def test_abandoned_prefetch_iterator_stops_its_thread():
    before = _prefetch_threads()
    loader = DataLoader(TensorDataset(np.arange(1000)), batch_size=1, prefetch=2)
    it = iter(loader)
    next(it)
    it.close()
    deadline = time.monotonic() + 5.0
    while _prefetch_threads() > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _prefetch_threads() == before
    with pytest.raises(StopIteration):
        next(it)


def test_loader_argument_errors():
    ds = TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader(ds, prefetch=-1)
    with pytest.raises(ValueError, match="sampler or shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(object())


def test_custom_sampler_and_batch_sampler():
    ds = TensorDataset(np.arange(6))
    assert labels_of_first(DataLoader(ds, batch_size=2, sampler=[5, 4, 3])) == [[5, 4], [3]]
    assert labels_of_first(DataLoader(ds, batch_sampler=[[0, 5], [1]])) == [[0, 5], [1]]


def labels_of_first(loader) -> list[list[int]]:
    return [b[0].tolist() for b in loader]
