"""word2vec: the kernel's step against autograd, reproducibility, planted structure, queries,
file formats, the CLI, and sensible neighbours on the Penn Treebank."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.backend import config
from chainrule.cli import main
from chainrule.data.readers import WordVectors
from chainrule.kernels import use_numba
from chainrule.kernels.word2vec import cbow_step, skipgram_step
from chainrule.models.word2vec import (
    Word2Vec,
    cbow_loss,
    encode_corpus,
    iter_sentences,
    skipgram_loss,
)

# training on more than a few thousand words needs the numba kernel: the NumPy twin, one update
# at a time, is about 50 times slower (its equality with numba is tested on small corpora)
needs_numba = pytest.mark.skipif(
    not use_numba(np.zeros(1, np.float32)), reason="numba kernels off or not installed"
)

TOY = [s.split() for s in ["the cat sat on the mat", "the dog sat on the log", "a cat saw a dog"]]


def _shared_data() -> Path:
    env = os.environ.get("CHAINRULE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _toy_triples(rng, vocab_size, ids, starts, count=12, negatives=3):
    """(center, context, negatives) triples from the windows of the toy corpus."""
    triples = []
    while len(triples) < count:
        s = rng.integers(starts.size - 1)
        sentence = ids[starts[s] : starts[s + 1]]
        p, q = rng.choice(sentence.size, size=2, replace=False)
        noise = rng.integers(0, vocab_size, size=negatives)
        triples.append((int(sentence[p]), int(sentence[q]), noise))
    return triples


def test_skipgram_kernel_step_is_one_sgd_step_of_the_autograd_loss():
    model = Word2Vec(dim=6, min_count=1, seed=0, progress=False).build_vocab(TOY)
    ids, starts = encode_corpus(TOY, model.vocab.stoi)
    rng = np.random.default_rng(0)
    syn0 = rng.standard_normal((len(model), 6)) * 0.4
    syn1 = rng.standard_normal((len(model), 6)) * 0.4
    w_in = cr.tensor(syn0.copy(), requires_grad=True)
    w_out = cr.tensor(syn1.copy(), requires_grad=True)
    sgd = optim.SGD([w_in, w_out], lr=0.2)
    triples = _toy_triples(rng, len(model), ids, starts)
    triples.append((1, 2, np.array([3, 3, 2])))  # a repeated negative and one equal to the context
    for center, context, negatives in triples:
        sgd.zero_grad()
        loss = skipgram_loss(w_in, w_out, [center], [context], negatives[None, :])
        loss.backward()
        sgd.step()
        kernel_loss = skipgram_step(syn0, syn1, center, context, negatives, 0.2)
        assert kernel_loss == pytest.approx(loss.item(), rel=1e-12)
        np.testing.assert_allclose(syn0, w_in.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(syn1, w_out.numpy(), rtol=1e-12, atol=1e-14)


def test_cbow_kernel_step_matches_autograd_with_mikolovs_context_rule():
    rng = np.random.default_rng(1)
    syn0 = rng.standard_normal((9, 5)) * 0.4
    syn1 = rng.standard_normal((9, 5)) * 0.4
    contexts, center, negatives = np.array([1, 4, 6]), 2, np.array([0, 7])
    w_in = cr.tensor(syn0.copy(), requires_grad=True)
    w_out = cr.tensor(syn1.copy(), requires_grad=True)
    loss = cbow_loss(w_in, w_out, contexts[None, :], [center], negatives[None, :])
    loss.backward()
    before = syn0.copy()
    kernel_loss = cbow_step(syn0, syn1, contexts, center, negatives, 0.1)
    assert kernel_loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(syn1, w_out.numpy() - 0.1 * w_out.grad.numpy(), rtol=1e-12)
    # each context row moves by the whole input step: len(contexts) times the gradient of the mean
    step = -0.1 * len(contexts) * w_in.grad.numpy()
    np.testing.assert_allclose(syn0 - before, step, rtol=1e-10, atol=1e-14)


def _topics(rng, sentences=1500):
    topics = [[f"t{t}w{i}" for i in range(6)] for t in range(4)]
    corpus = [list(rng.choice(topics[rng.integers(4)], size=8)) for _ in range(sentences)]
    return topics, corpus


@needs_numba
def test_planted_topics_are_nearest_neighbours():
    topics, corpus = _topics(np.random.default_rng(0))
    model = Word2Vec(corpus, dim=16, window=3, min_count=1, sample=0, epochs=3, seed=0,
                     progress=False)  # fmt: skip
    for topic in topics:
        for word in topic:
            near = {w for w, _ in model.most_similar(word, topn=5)}
            assert near == set(topic) - {word}


@needs_numba
def test_planted_analogies_are_solved_by_3cosadd():
    # word w{g}{r} appears with context words of its group g and of its role r
    rng = np.random.default_rng(0)
    corpus = []
    for _ in range(4000):
        g, r = rng.integers(2), rng.integers(6)
        sentence = [f"g{g}c{i}" for i in rng.integers(0, 3, 2)]
        sentence += [f"r{r}c{i}" for i in rng.integers(0, 3, 2)] + [f"w{g}{r}"]
        rng.shuffle(sentence)
        corpus.append(sentence)
    model = Word2Vec(corpus, dim=20, window=4, min_count=1, sample=0, epochs=5, seed=0,
                     progress=False)  # fmt: skip
    for r1, r2 in [(0, 1), (2, 5), (4, 3)]:
        assert model.analogy(f"w0{r1}", f"w1{r1}", f"w0{r2}")[0][0] == f"w1{r2}"
        assert model.analogy(f"w1{r1}", f"w0{r1}", f"w1{r2}")[0][0] == f"w0{r2}"


@pytest.mark.parametrize("sg", [True, False], ids=["skipgram", "cbow"])
def test_training_is_reproducible_under_a_seed(sg):
    _, corpus = _topics(np.random.default_rng(1), 100)
    kwargs = dict(dim=8, min_count=1, epochs=2, sg=sg, sample=1e-2, progress=False)
    a = Word2Vec(corpus, seed=7, **kwargs)
    b = Word2Vec(corpus, seed=7, **kwargs)
    c = Word2Vec(corpus, seed=8, **kwargs)
    assert np.array_equal(a.vectors, b.vectors) and np.array_equal(a.syn1neg, b.syn1neg)
    assert not np.array_equal(a.vectors, c.vectors)
    cr.manual_seed(3)
    d = Word2Vec(corpus, **kwargs)
    cr.manual_seed(3)
    e = Word2Vec(corpus, **kwargs)
    assert np.array_equal(d.vectors, e.vectors)


def test_numpy_fallback_trains_the_same_model(monkeypatch):
    _, corpus = _topics(np.random.default_rng(2), 120)
    kwargs = dict(dim=8, min_count=1, epochs=1, window=3, sample=1e-2, seed=0, progress=False)
    fast = Word2Vec(corpus, **kwargs)
    monkeypatch.setattr(config, "use_numba", False)
    slow = Word2Vec(corpus, **kwargs)
    np.testing.assert_allclose(fast.vectors, slow.vectors, rtol=1e-6, atol=1e-8)
    assert fast.history[0]["updates"] == slow.history[0]["updates"]


def test_loss_falls_and_history_records_speed():
    _, corpus = _topics(np.random.default_rng(3), 300)
    model = Word2Vec(corpus, dim=12, min_count=1, epochs=3, sample=0, seed=0, progress=False)
    losses = [h["loss"] for h in model.history]
    assert losses[0] > losses[-1]
    assert losses[0] < 4.2  # about (negative + 1) log 2 at the start
    assert all(h["words"] == 2400 and h["words_per_sec"] > 0 for h in model.history)
    assert model.words_per_sec > 0


def test_progress_bar_reports_words_per_second(capsys):
    Word2Vec(TOY * 20, dim=4, min_count=1, epochs=1, seed=0, progress=True)
    assert "word/s" in capsys.readouterr().err


def test_vocabulary_keeps_frequent_words_most_frequent_first():
    corpus = [["a", "b", "a", "c"], ["a", "b", "d"]]
    model = Word2Vec(dim=4, min_count=2, seed=0, progress=False).build_vocab(corpus)
    assert model.words == ["a", "b"] and model.counts.tolist() == [3, 2]
    assert "c" not in model and len(model) == 2


def test_flat_token_stream_is_cut_into_sentences():
    pieces = [list(p) for p in iter_sentences(["x"] * 5, max_sentence_length=2)]
    assert pieces == [["x", "x"], ["x", "x"], ["x"]]
    ids, starts = encode_corpus(["a", "b", "zz", "a"], {"a": 0, "b": 1}, max_sentence_length=2)
    assert ids.tolist() == [0, 1, 0] and starts.tolist() == [0, 2, 3]


def test_bad_input_is_explained():
    with pytest.raises(TypeError, match="one string"):
        Word2Vec("the cat sat", progress=False)
    with pytest.raises(TypeError, match="sentence 1 is a string"):
        Word2Vec([["a"], "b c"], progress=False)
    with pytest.raises(ValueError, match="min_count=5 times"):
        Word2Vec([["a", "b"]], progress=False)
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        Word2Vec(window=0)
    with pytest.raises(ValueError, match="lr > 0"):
        Word2Vec(lr=-1.0)


def test_queries(tmp_path):
    words = ["king", "queen", "man", "woman", "apple"]
    vectors = np.array(
        [[1, 1, 0], [1, -1, 0], [0, 1, 0.1], [0, -1, 0.1], [0, 0, 1]], dtype=np.float32
    )
    path = tmp_path / "toy.txt"
    path.write_text(
        "".join(f"{w} {' '.join(map(str, v))}\n" for w, v in zip(words, vectors, strict=True))
    )
    model = Word2Vec.load_glove(path)
    assert model.analogy("man", "king", "woman")[0][0] == "queen"
    assert model.most_similar("king", topn=1)[0][0] == "man"
    assert [w for w, _ in model.most_similar(np.array([0, 0, 2.0]), topn=2)][0] == "apple"
    assert "king" not in {w for w, _ in model.most_similar("king", topn=4)}
    assert "man" not in {w for w, _ in model.most_similar("king", topn=3, exclude=["man"])}
    assert model.similarity("king", "queen") == pytest.approx(0.0, abs=1e-7)
    assert model.similarity("man", "woman") == pytest.approx(model.similarity("woman", "man"))
    np.testing.assert_array_equal(model["apple"], [0, 0, 1])
    with pytest.raises(KeyError, match="'prince' is not in the vocabulary of 5 words"):
        model.most_similar("prince")
    with pytest.raises(ValueError, match="3 values"):
        model.most_similar(np.ones(4))
    with pytest.raises(ValueError, match="topn must be >= 1"):
        model.most_similar("king", topn=0)
    with pytest.raises(RuntimeError, match="loaded without the output table"):
        model.train([words])


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_save_and_load_round_trip_exactly(tmp_path, binary):
    corpus = [["naïve", "café", "x"], ["x", "café", "y"]] * 20
    model = Word2Vec(corpus, dim=7, min_count=1, epochs=1, seed=0, progress=False)
    model.vectors[0, 0] = np.float32(1 / 3)  # a value with no short decimal
    path = tmp_path / ("v.bin" if binary else "v.txt")
    model.save(path, binary=binary)
    for loaded in (Word2Vec.load(path), Word2Vec.load(path, format="word2vec", binary=binary)):
        assert loaded.words == model.words
        assert loaded.vectors.dtype == np.float32
        np.testing.assert_array_equal(loaded.vectors, model.vectors)
    zipped = tmp_path / "v.gz"
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    np.testing.assert_array_equal(Word2Vec.load(zipped).vectors, model.vectors)


def test_saving_a_word_with_a_space_is_refused(tmp_path):
    model = Word2Vec.from_word_vectors(WordVectors(["new york"], np.ones((1, 2))))
    with pytest.raises(ValueError, match="cannot be empty or hold spaces"):
        model.save(tmp_path / "v.txt")


def test_to_embedding_copies_the_vectors():
    model = Word2Vec(TOY * 10, dim=5, min_count=1, epochs=1, seed=0, progress=False)
    emb = model.to_embedding()
    assert isinstance(emb, nn.Embedding) and emb.weight.requires_grad is False
    row = model.vocab["cat"]
    np.testing.assert_array_equal(emb(cr.tensor(np.array([row]))).numpy()[0], model["cat"])
    emb.weight.data[row] = 0
    assert np.any(model["cat"] != 0)
    assert model.to_embedding(freeze=False).weight.requires_grad is True
    table = model.to_word_vectors()
    assert table.words == model.words and np.array_equal(table.vectors, model.vectors)


def test_cli_trains_and_writes_vectors(tmp_path, capsys):
    _, corpus = _topics(np.random.default_rng(4), 400)
    data = tmp_path / "corpus.txt"
    data.write_text("\n".join(" ".join(s) for s in corpus) + "\n")
    out = tmp_path / "vectors.bin"
    args = [
        "word2vec",
        "--data",
        str(data),
        "--out",
        str(out),
        "--binary",
        "--dim",
        "8",
        "--epochs",
        "1",
        "--min-count",
        "1",
        "--cbow",
        "--no-progress",
        "--show",
        "t0w0",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "words/s" in text and "t0w0:" in text
    loaded = Word2Vec.load(out)
    assert len(loaded) == 24 and loaded.dim == 8


def test_cli_help_shows_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["word2vec", "--help"])
    text = capsys.readouterr().out
    for option in [
        "--data",
        "--out",
        "--binary",
        "--dim",
        "--window",
        "--negative",
        "--min-count",
        "--epochs",
        "--sg",
        "--cbow",
        "--sample",
        "--lr",
        "--seed",
    ]:
        assert option in text
    assert "default 100" in text and "default 0.001" in text


@needs_numba
def test_ptb_neighbours_are_sensible():
    root = _shared_data()
    if not (root / "ptb").is_dir():
        pytest.skip(f"Penn Treebank not found under {root}")
    from chainrule.cli.word2vec import load_sentences

    sentences = load_sentences("ptb", str(root))
    model = Word2Vec(sentences, dim=50, epochs=1, seed=0, progress=False)

    def near(word):
        return {w for w, _ in model.most_similar(word, topn=6)}

    assert len(near("monday") & {"tuesday", "wednesday", "thursday", "friday"}) >= 2
    assert len(near("three") & {"two", "four", "five", "six", "seven", "eight"}) >= 2
    assert len(near("president") & {"chairman", "executive", "chief", "vice"}) >= 2
    assert "billion" in near("million")
