"""Fixed-length padding and language-model batching (batchify + BPTT windows)."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data.text import BPTTIterator, batchify, bptt_batches, pad_sequences


def test_pad_sequences_variants():
    seqs = [[1, 2, 3, 4], [5], []]
    assert pad_sequences(seqs).tolist() == [[1, 2, 3, 4], [5, 0, 0, 0], [0, 0, 0, 0]]
    assert pad_sequences(seqs, maxlen=2).tolist() == [[1, 2], [5, 0], [0, 0]]
    out = pad_sequences(seqs, maxlen=3, padding="pre", truncating="pre", value=-1)
    assert out.tolist() == [[2, 3, 4], [-1, -1, 5], [-1, -1, -1]]
    assert pad_sequences(seqs, maxlen=3, padding="post", truncating="pre").tolist()[0] == [2, 3, 4]
    assert pad_sequences([np.array([1, 2])], maxlen=0).shape == (1, 0)
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad_sequences(seqs, padding="middle")


def test_batchify_rows_are_contiguous():
    data = batchify(np.arange(23), 4)
    assert data.shape == (4, 5)
    assert data[1].tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="fewer than 2 steps"):
        batchify(np.arange(5), 4)


def test_bptt_windows_cover_the_stream_with_targets_shifted_by_one():
    data = batchify(np.arange(40), 2)  # rows 0..19 and 20..39
    windows = list(BPTTIterator(data, bptt=6))
    assert len(windows) == len(BPTTIterator(data, 6)) == 4  # 19 predictions: 6 + 6 + 6 + 1
    xs = np.concatenate([x for x, _ in windows], axis=1)
    ys = np.concatenate([y for _, y in windows], axis=1)
    np.testing.assert_array_equal(xs, data[:, :-1])
    np.testing.assert_array_equal(ys, data[:, 1:])
    assert windows[-1][0].shape == (2, 1)
    x, y = next(bptt_batches(data, 6, time_major=True))
    assert x.shape == (6, 2) and x[:, 1].tolist() == list(range(20, 26))
    assert y[:, 0].tolist() == list(range(1, 7))


def test_bptt_errors():
    with pytest.raises(ValueError, match="expected data of shape"):
        BPTTIterator(np.arange(5), 2)
    with pytest.raises(ValueError, match="bptt must be >= 1"):
        BPTTIterator(np.zeros((2, 5)), 0)


def test_ptb_pipeline(shared_data):
    from chainrule.data import PennTreebank
    from chainrule.data.text import Vocabulary

    train = PennTreebank(shared_data, "valid").tokens
    vocab = Vocabulary.build([train], specials=(), unk_token="<unk>")
    ids = vocab.encode(train)
    data = batchify(ids, 20)
    x, y = next(iter(BPTTIterator(data, 35)))
    assert x.shape == (20, 35) and vocab.decode(x[0, :3]) == train[:3]
