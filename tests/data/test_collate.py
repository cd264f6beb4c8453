"""default_collate and pad_batch: arrays, numbers, strings, tuples, dicts, sequences."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

from chainrule.data import default_collate, pad_batch


def test_arrays_and_numbers():
    batch = [(np.full((2, 3), i, np.float32), i, float(i) / 2, True) for i in range(4)]
    x, y, z, flag = default_collate(batch)
    assert x.shape == (4, 2, 3) and x.dtype == np.float32
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 3]
    assert z.dtype == np.float32 and z.tolist() == [0.0, 0.5, 1.0, 1.5]
    assert flag.dtype == bool


def test_dicts_namedtuples_and_strings():
    Pair = namedtuple("Pair", "image label")
    batch = [{"p": Pair(np.zeros(2), k), "text": f"s{k}"} for k in range(3)]
    out = default_collate(batch)
    assert isinstance(out["p"], Pair)
    assert out["p"].image.shape == (3, 2) and out["p"].label.tolist() == [0, 1, 2]
    assert out["text"] == ["s0", "s1", "s2"]


def test_variable_length_sequences_are_padded():
    batch = [(np.array([1, 2, 3]), 0), (np.array([4]), 1), (np.array([5, 6]), 1)]
    seqs, labels = default_collate(batch)
    assert seqs.tolist() == [[1, 2, 3], [4, 0, 0], [5, 6, 0]]
    assert labels.tolist() == [0, 1, 1]
    padded = default_collate([np.ones((2, 4)), np.ones((3, 4))], padding_value=-1)
    assert padded.shape == (2, 3, 4) and (padded[0, 2] == -1).all()


def test_lists_of_numbers_are_sequences():
    out = default_collate([[1, 2], [3], []])
    assert out.dtype == np.int64 and out.tolist() == [[1, 2], [3, 0], [0, 0]]


def test_pad_batch_lengths_and_cut():
    padded, lengths = pad_batch([np.arange(5), np.arange(2)], padding_value=9, max_length=3)
    assert padded.tolist() == [[0, 1, 2], [0, 1, 9]] and lengths.tolist() == [3, 2]


def test_collate_errors_are_clear():
    with pytest.raises(ValueError, match="empty batch"):
        default_collate([])
    with pytest.raises(ValueError, match="same number"):
        default_collate([np.zeros(2), np.zeros((2, 2))])
    with pytest.raises(ValueError, match="key 'b' is missing"):
        default_collate([{"a": 1, "b": 2}, {"a": 3}])
    with pytest.raises(ValueError, match="2 fields"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])
