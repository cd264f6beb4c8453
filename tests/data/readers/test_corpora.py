"""Plain-text corpora: tiny-shakespeare and the Penn Treebank."""

from __future__ import annotations

import gzip

import pytest

from chainrule.data import PennTreebank, TinyShakespeare, load_ptb
from chainrule.data.readers.corpora import read_corpus


def test_read_corpus_adds_eos_per_line(tmp_path):
    path = tmp_path / "c.txt.gz"
    path.write_bytes(gzip.compress(b" the cat sat \n\n a <unk> dog \n"))
    assert read_corpus(path) == ["the", "cat", "sat", "<eos>", "a", "<unk>", "dog", "<eos>"]
    assert read_corpus(path, eos=None) == ["the", "cat", "sat", "a", "<unk>", "dog"]


def test_ptb_fixture_plain_or_gz(tmp_path):
    folder = tmp_path / "ptb"
    folder.mkdir()
    (folder / "ptb.train.txt").write_text(" a b \n c \n")
    (folder / "ptb.valid.txt.gz").write_bytes(gzip.compress(b" d \n"))
    assert load_ptb(tmp_path, "train") == ["a", "b", "<eos>", "c", "<eos>"]
    assert PennTreebank(folder, "valid").tokens == ["d", "<eos>"]
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        load_ptb(tmp_path, "dev")


def test_tiny_shakespeare_fixture(tmp_path):
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare" / "input.txt").write_text("First Citizen:\nSpeak.\n")
    ts = TinyShakespeare(tmp_path)
    assert ts.text.startswith("First Citizen:") and len(ts) == 22


def test_real_tiny_shakespeare(shared_data):
    ts = TinyShakespeare(shared_data)
    assert len(ts.text) == 1_115_394 and len(set(ts.text)) == 65
    assert len(ts.text.split()) == 202_651


@pytest.mark.parametrize("split, n", [("train", 929_589), ("valid", 73_760), ("test", 82_430)])
def test_real_ptb_token_counts(shared_data, split, n):
    tokens = PennTreebank(shared_data, split).tokens
    assert len(tokens) == n
    if split == "train":
        assert len(set(tokens)) == 10_000
