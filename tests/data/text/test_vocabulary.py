"""Vocabulary and CharVocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data.text import CharVocabulary, Vocabulary

SENTENCES = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat"], ["the"]]


def test_order_specials_and_unknowns():
    v = Vocabulary.build(SENTENCES)
    assert v.itos[:2] == ["<pad>", "<unk>"] and v.pad_index == 0 and v.unk_index == 1
    assert v.itos[2:] == ["the", "cat", "sat", "a", "dog"]  # by count, ties alphabetical
    assert v.encode(["the", "zebra"]).tolist() == [2, 1]
    assert v.decode([2, 3, 0], skip_specials=True) == ["the", "cat"]
    assert "cat" in v and "zebra" not in v and len(v) == 7


def test_min_freq_and_max_size():
    v = Vocabulary.build(SENTENCES, min_freq=2)
    assert v.itos == ["<pad>", "<unk>", "the", "cat", "sat"]
    w = Vocabulary.build(SENTENCES, max_size=4)
    assert w.itos == ["<pad>", "<unk>", "the", "cat"]
    with pytest.raises(ValueError, match="smaller than the 2 special tokens"):
        Vocabulary.build(SENTENCES, max_size=1)
    with pytest.raises(TypeError, match="tokenise it first"):
        Vocabulary.build(["a sentence"])


def test_save_and_load_round_trip(tmp_path):
    v = Vocabulary.build(SENTENCES + [["naïve", "café"]], specials=("<pad>", "<unk>", "<eos>"))
    path = tmp_path / "vocab.json"
    v.save(path)
    w = Vocabulary.load(path)
    assert w == v and w.itos == v.itos and w.freqs["the"] == 3
    assert w.encode(["café", "???"]).tolist() == [v["café"], v.unk_index]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Vocabulary.load(tmp_path / "bad.json")


def test_without_unknown_token_lookups_fail_clearly():
    v = Vocabulary.build(SENTENCES, specials=(), unk_token=None)
    assert v.itos[0] == "the"
    with pytest.raises(KeyError, match="'zebra' is not in the vocabulary"):
        v["zebra"]


def test_char_vocabulary():
    v = CharVocabulary("hello world")
    assert v.itos == [" ", "d", "e", "h", "l", "o", "r", "w"]
    ids = v.encode("hello")
    assert ids.dtype == np.int64 and "".join(v.decode(ids)) == "hello"
    with pytest.raises(KeyError, match="'z'"):
        v["z"]
    padded = CharVocabulary(["ab", "c"], specials=("<pad>",), unk_token="<unk>")
    assert padded.itos == ["<pad>", "<unk>", "a", "b", "c"] and padded["z"] == 1


def test_char_vocabulary_of_tiny_shakespeare(shared_data):
    from chainrule.data import TinyShakespeare

    text = TinyShakespeare(shared_data).text
    v = CharVocabulary(text)
    assert len(v) == 65
    ids = v.encode(text[:1000])
    assert "".join(v.decode(ids)) == text[:1000]
