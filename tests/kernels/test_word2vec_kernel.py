"""word2vec SGD kernel: the step against the closed-form gradient, numba against NumPy, the
noise table, subsampling, the learning-rate floor, reproducibility and errors."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.backend import config
from chainrule.kernels import HAVE_NUMBA
from chainrule.kernels.word2vec import (
    cbow_step,
    keep_probabilities,
    lcg_seed,
    noise_table,
    skipgram_step,
    word2vec_train,
)

V, D = 30, 12


def _tables(rng, dtype=np.float64, scale=0.5):
    syn0 = (rng.standard_normal((V, D)) * scale).astype(dtype)
    syn1 = (rng.standard_normal((V, D)) * scale).astype(dtype)
    return syn0, syn1


def _closed_form(h, syn1, targets, lr):
    """Gradient step of L = -log s(h.u_0) - sum_j log s(-h.u_j) at the old values."""
    u = syn1[targets]
    f = u @ h
    labels = np.zeros(len(targets))
    labels[0] = 1
    sig = 1 / (1 + np.exp(-f))
    g = lr * (labels - sig)
    loss = -np.log(sig[0]) - np.sum(np.log(1 - sig[1:]))
    new1 = syn1.copy()
    np.add.at(new1, targets, np.outer(g, h))
    return g @ u, new1, loss


@pytest.mark.parametrize(
    "negatives", [[3, 7, 9], [3, 3, 5, 0], []], ids=["plain", "repeat", "none"]
)
def test_skipgram_step_is_the_gradient_step(backend, rng, negatives):
    syn0, syn1 = _tables(rng)
    center, context, lr = 4, 11, 0.3
    dh, new1, loss = _closed_form(syn0[center].copy(), syn1, [context, *negatives], lr)
    new0 = syn0.copy()
    new0[center] += dh
    got = skipgram_step(syn0, syn1, center, context, np.array(negatives, dtype=np.int64), lr)
    np.testing.assert_allclose(syn0, new0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(syn1, new1, rtol=1e-12, atol=1e-14)
    assert got == pytest.approx(loss, rel=1e-12)


def test_cbow_step_moves_every_context_by_the_input_step(backend, rng):
    syn0, syn1 = _tables(rng)
    contexts, center, negatives, lr = [2, 5, 5, 8], 1, [6, 9], 0.2
    h = syn0[contexts].mean(axis=0)
    dh, new1, loss = _closed_form(h, syn1, [center, *negatives], lr)
    new0 = syn0.copy()
    for c in contexts:  # a context listed twice moves twice
        new0[c] += dh
    got = cbow_step(syn0, syn1, contexts, center, negatives, lr)
    np.testing.assert_allclose(syn0, new0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(syn1, new1, rtol=1e-12, atol=1e-14)
    assert got == pytest.approx(loss, rel=1e-12)


def test_step_loss_is_stable_for_large_scores(backend):
    syn0 = np.full((3, 4), 10.0)
    syn1 = np.full((3, 4), -10.0)
    loss = skipgram_step(syn0, syn1, 0, 1, [2], 0.1)
    assert np.isfinite(loss) and loss == pytest.approx(400.0, rel=1e-6)
    assert np.all(np.isfinite(syn0)) and np.all(np.isfinite(syn1))


def test_noise_table_follows_counts_to_the_three_quarters():
    counts = np.array([1000, 100, 10, 1])
    table = noise_table(counts, 0.75, size=1_000_000)
    share = np.bincount(table, minlength=4) / table.size
    expected = counts**0.75 / np.sum(counts**0.75)
    np.testing.assert_allclose(share, expected, atol=2e-6)
    assert table.dtype == np.int32
    assert np.bincount(noise_table([5, 5], 1.0, size=10)).tolist() == [5, 5]


def test_noise_table_rejects_bad_counts():
    with pytest.raises(ValueError, match="positive counts"):
        noise_table([3, 0, 2])
    with pytest.raises(ValueError, match="size must be >= 1"):
        noise_table([1, 2], size=0)


def test_keep_probabilities_formula():
    counts = np.array([10_000, 1_000, 10])
    sample = 1e-3
    total = counts.sum()
    f = counts / total
    np.testing.assert_allclose(
        keep_probabilities(counts, sample), (np.sqrt(f / sample) + 1) * sample / f
    )
    assert np.all(keep_probabilities(counts, 0.0) >= 1)
    with pytest.raises(ValueError, match="sample must be >= 0"):
        keep_probabilities(counts, -1.0)


def _corpus(rng, words=2400, vocab=V):
    # Zipf-like counts so that subsampling and the noise table matter
    p = 1.0 / np.arange(1, vocab + 1)
    ids = rng.choice(vocab, size=words, p=p / p.sum()).astype(np.int32)
    lengths = rng.integers(1, 40, size=words)
    cuts = np.cumsum(lengths)
    starts = np.concatenate([[0], cuts[cuts < words], [words]]).astype(np.int64)
    counts = np.bincount(ids, minlength=vocab) + 1
    return ids, starts, counts


def _train(sg, use_numba, seed=3, sample=1e-2, lr=0.05, offset=0, total=None, workers=1):
    rng = np.random.default_rng(0)
    ids, starts, counts = _corpus(rng)
    syn0 = ((rng.random((V, D)) - 0.5) / D).astype(np.float32)
    syn1 = np.zeros_like(syn0)
    states = lcg_seed(seed, workers)
    old = config.use_numba
    config.use_numba = use_numba
    try:
        stats = word2vec_train(
            syn0, syn1, ids, starts, 0, starts.size - 1, keep_probabilities(counts, sample),
            noise_table(counts, size=10_000), states, sg=sg, window=4, negative=3, lr=lr,
            min_lr=1e-4, offset=offset, total=total or ids.size, sample=sample > 0,
        )  # fmt: skip
    finally:
        config.use_numba = old
    return syn0, syn1, stats, states


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
@pytest.mark.parametrize("sg", [True, False], ids=["skipgram", "cbow"])
def test_numpy_fallback_equals_numba(sg):
    a0, a1, astats, astates = _train(sg, True)
    b0, b1, bstats, bstates = _train(sg, False)
    assert np.array_equal(astates, bstates)  # the same random draws
    np.testing.assert_array_equal(astats[1:], bstats[1:])  # the same updates and kept words
    np.testing.assert_allclose(astats[0], bstats[0], rtol=1e-9)
    np.testing.assert_allclose(a0, b0, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a1, b1, rtol=1e-6, atol=1e-8)
    assert np.abs(a1).max() > 1e-3  # training happened


def test_training_is_a_function_of_the_seed(backend):
    a = _train(True, backend, seed=5)
    b = _train(True, backend, seed=5)
    c = _train(True, backend, seed=6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_subsampling_drops_frequent_words(backend):
    kept_all = _train(True, backend, sample=0.0)[2][2]
    kept_some = _train(True, backend, sample=1e-3)[2][2]
    assert kept_all == 2400
    assert kept_some < 0.8 * kept_all


def test_learning_rate_stops_at_the_floor(backend):
    # past the end of the run the rate is min_lr, which equals a run started at lr = min_lr
    late = _train(True, backend, lr=0.05, offset=10**6, total=10**6)
    floor = _train(True, backend, lr=1e-4, offset=0, total=10**12)
    np.testing.assert_array_equal(late[0], floor[0])
    np.testing.assert_array_equal(late[1], floor[1])


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
def test_two_workers_train_every_sentence():
    syn0, syn1, stats, states = _train(True, True, sample=0.0, workers=2)
    assert stats[2] == 2400 and states.size == 2
    assert np.all(np.isfinite(syn0)) and np.abs(syn1).max() > 1e-3


def test_kernel_errors_name_the_problem():
    syn0 = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="word id 9, out of range for a vocabulary of 4"):
        skipgram_step(syn0, syn0.copy(), 0, 9, [1], 0.1)
    with pytest.raises(ValueError, match="one shape and dtype"):
        skipgram_step(syn0, np.zeros((4, 3)), 0, 1, [2], 0.1)
    with pytest.raises(TypeError, match="2-D float NumPy array"):
        cbow_step(np.zeros(4), np.zeros(4), [0], 1, [2], 0.1)
    with pytest.raises(ValueError, match="at least one context"):
        cbow_step(syn0, syn0.copy(), [], 1, [2], 0.1)
    ids, starts = np.zeros(4, np.int32), np.array([0, 4], np.int64)
    table, keep = noise_table([1, 1, 1, 1]), np.ones(4)
    with pytest.raises(ValueError, match="sentence range"):
        word2vec_train(
            syn0,
            syn0.copy(),
            ids,
            starts,
            0,
            2,
            keep,
            table,
            lcg_seed(0),
            sg=True,
            window=2,
            negative=1,
            lr=0.1,
            min_lr=0.0,
            offset=0,
            total=4,
        )
    with pytest.raises(TypeError, match="uint64"):
        word2vec_train(
            syn0,
            syn0.copy(),
            ids,
            starts,
            0,
            1,
            keep,
            table,
            np.zeros(1),
            sg=True,
            window=2,
            negative=1,
            lr=0.1,
            min_lr=0.0,
            offset=0,
            total=4,
        )
