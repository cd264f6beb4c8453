"""Word vectors: word2vec text and binary, GloVe text, gzip or not, and the shared GloVe subset."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from chainrule.data import WordVectors, load_glove, load_glove_6b, load_word2vec, load_word_vectors
from chainrule.data.readers.vectors import save_word2vec


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    words = ["the", "cat", "café", "sat"]
    return WordVectors(words, rng.standard_normal((4, 5)).astype(np.float32))


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("zipped", [False, True])
def test_word2vec_round_trip(tmp_path, table, binary, zipped):
    path = tmp_path / "v.bin"
    save_word2vec(path, table, binary=binary)
    if zipped:
        gz = tmp_path / "v.bin.gz"
        gz.write_bytes(gzip.compress(path.read_bytes()))
        path = gz
    for reader in (lambda p: load_word2vec(p), lambda p: load_word_vectors(p)):
        wv = reader(path)
        assert wv.words == table.words
        np.testing.assert_array_equal(wv.vectors, table.vectors)
    assert load_word2vec(path, binary=binary, limit=2).words == ["the", "cat"]
    assert load_word2vec(path, vocab={"sat", "dog"}).words == ["sat"]


def test_glove_text_files_in_order(tmp_path):
    (tmp_path / "a.txt").write_text("the 0.5 1\ncat -2 3e-1\n")
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(b"sat 1 1\n"))
    wv = load_glove([tmp_path / "a.txt", tmp_path / "b.txt.gz"])
    assert wv.words == ["the", "cat", "sat"] and wv.dim == 2
    np.testing.assert_allclose(wv["cat"], [-2.0, 0.3])
    assert load_word_vectors(tmp_path / "a.txt").words == ["the", "cat"]
    assert len(load_glove([tmp_path / "a.txt", tmp_path / "b.txt.gz"], limit=2)) == 2


def test_vector_errors(tmp_path, table):
    (tmp_path / "bad.txt").write_text("the 1 2\ncat 1\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 2: expected a word and 2 numbers"):
        load_glove(tmp_path / "bad.txt")
    path = tmp_path / "cut.bin"
    save_word2vec(path, table, binary=True)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(ValueError, match="truncated"):
        load_word2vec(path, binary=True)
    (tmp_path / "nohead.txt").write_text("the 1 2\n")
    with pytest.raises(ValueError, match="word2vec header"):
        load_word2vec(tmp_path / "nohead.txt")


def test_nearest_and_embedding_matrix(table):
    assert table.nearest(table["cat"] * 2, k=1)[0][0] == "cat"
    assert "cat" not in [w for w, _ in table.nearest("cat", k=3)]
    matrix, found = table.embedding_matrix(
        ["<pad>", "<unk>", "cat", "dog"], generator=np.random.default_rng(0)
    )
    assert found == 1 and matrix.shape == (4, 5)
    assert (matrix[0] == 0).all() and np.array_equal(matrix[2], table["cat"])
    assert np.abs(matrix[3]).max() <= 0.25
    with pytest.raises(KeyError, match="'dog' is not among the 4 words"):
        table["dog"]


def test_real_glove_subset(shared_data):
    wv = load_glove_6b(shared_data)
    assert len(wv) == 40_000 and wv.dim == 50 and wv.words[0] == "the"
    np.testing.assert_allclose(wv["the"][:3], [0.418, 0.24968, -0.41242], rtol=1e-6)
    assert [w for w, _ in wv.nearest("king", 5)] == ["prince", "queen", "ii", "emperor", "son"]
    analogy = wv["king"] - wv["man"] + wv["woman"]
    assert wv.nearest(analogy, 1, exclude=["king"])[0][0] == "queen"
