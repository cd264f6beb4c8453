"""Samplers: order, replacement, weights, batching, determinism under manual_seed."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule.data import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    WeightedRandomSampler,
)


def test_sequential():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(7)) == 7


def test_random_sampler_is_a_permutation_fixed_by_manual_seed():
    chainrule.manual_seed(1)
    a = list(RandomSampler(50))
    chainrule.manual_seed(1)
    b = list(RandomSampler(50))
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    c = list(RandomSampler(50))
    assert c != b  # the next epoch draws a new order


def test_random_sampler_variants():
    rng = np.random.default_rng(0)
    with_repl = list(RandomSampler(5, replacement=True, num_samples=200, generator=rng))
    assert len(with_repl) == 200 and set(with_repl) <= set(range(5))
    chained = list(RandomSampler(4, num_samples=10, generator=rng))
    assert len(chained) == 10
    assert sorted(chained[:4]) == [0, 1, 2, 3] and sorted(chained[4:8]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="empty data source"):
        RandomSampler(0, num_samples=3)


def test_weighted_sampler_follows_the_weights():
    weights = [0.0, 1.0, 3.0, 0.0]
    s = WeightedRandomSampler(weights, num_samples=20000, generator=np.random.default_rng(0))
    counts = np.bincount(list(s), minlength=4)
    assert counts[0] == 0 and counts[3] == 0
    assert abs(counts[2] / counts[1] - 3.0) < 0.2
    no_repl = list(WeightedRandomSampler([1, 1, 1, 0], 3, replacement=False))
    assert sorted(no_repl) == [0, 1, 2]


def test_weighted_sampler_errors():
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 3)
    with pytest.raises(ValueError, match="without replacement from 2 positions"):
        WeightedRandomSampler([1.0, 1.0, 0.0], 3, replacement=False)


def test_batch_sampler_lengths():
    assert list(BatchSampler(SequentialSampler(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(SequentialSampler(5), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(SequentialSampler(5), 2, False)) == 3
    assert len(BatchSampler(SequentialSampler(5), 2, True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(SequentialSampler(5), 0, False)
