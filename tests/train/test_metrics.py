"""Metrics: one-shot values against brute force, and streaming sums exact over ragged batches."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import metrics
from chainrule.train.metrics import (
    Accuracy,
    ConfusionMatrix,
    Mean,
    MeanMetricWrapper,
    Perplexity,
    TopKAccuracy,
    accuracy,
    confusion_matrix,
    get_metric,
    perplexity,
    top_k_accuracy,
)


def _scores(n=53, c=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c)), rng.integers(0, c, size=n)


def _ragged(n, seed=1):
    """Cut points of ``range(n)`` into uneven batches."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n), size=5, replace=False))
    return np.split(np.arange(n), cuts)


# ----------------------------------------------------------------------------- accuracy
def test_accuracy_by_argmax():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 2.0], [1.0, 3.0, 2.0], [0.0, 0.0, 5.0]])
    y = np.array([0, 1, 1, 2])
    assert accuracy(logits, y) == 0.75
    assert accuracy(cr.tensor(logits), cr.tensor(y)) == 0.75  # Tensors too
    assert accuracy(logits, np.eye(3)[y]) == 0.75  # one-hot targets


def test_accuracy_ignores_padding_and_reads_classes_last_layouts():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(3, 4, 5))  # (N, T, C)
    y = rng.integers(0, 5, size=(3, 4))
    y[0, 3] = y[2, 0] = -100
    kept = y != -100
    expected = np.mean(scores.argmax(-1)[kept] == y[kept])
    assert accuracy(scores, y) == pytest.approx(expected)
    # the same scores as (N, C, T), the layout of F.cross_entropy
    assert accuracy(scores.transpose(0, 2, 1), y) == pytest.approx(expected)


def test_binary_accuracy_with_a_threshold():
    p = np.array([[0.9], [0.2], [0.6], [0.4]])
    y = np.array([[1], [0], [0], [1]])
    assert accuracy(p, y) == 0.5
    assert accuracy(p - 0.5, y, threshold=0.0) == 0.5
    assert metrics.binary_accuracy(np.array([[0.9, 0.1], [0.7, 0.8]]), np.eye(2)) == 0.75


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"expect class-index targets of shape \(N, d1, ...\)"):
        accuracy(np.zeros((4, 3)), np.zeros(5, dtype=np.int64))
    with pytest.raises(TypeError, match="integer class indices"):
        accuracy(np.zeros((2, 3)), np.array([0.5, 1.0]))


# ----------------------------------------------------------------------------- top-k
def test_top_k_matches_brute_force():
    scores, y = _scores()
    for k in (1, 2, 3, 7):
        ranking = np.argsort(-scores, axis=1)[:, :k]
        expected = np.mean([y[i] in ranking[i] for i in range(len(y))])
        assert top_k_accuracy(scores, y, k=k) == pytest.approx(expected)
    assert top_k_accuracy(scores, y, k=1) == accuracy(scores, y)
    assert top_k_accuracy(scores, y, k=10) == 1.0


def test_top_k_counts_ties_at_the_boundary_as_hits():
    scores = np.array([[0.5, 0.5, 0.5, 0.1]])
    assert top_k_accuracy(scores, np.array([2]), k=1) == 1.0
    assert top_k_accuracy(scores, np.array([3]), k=3) == 0.0
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        top_k_accuracy(scores, np.array([0]), k=0)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 4\)"):
        top_k_accuracy(scores, np.array([4]), k=1)


# ----------------------------------------------------------------------------- perplexity
def test_perplexity_is_exp_of_the_token_cross_entropy():
    scores, y = _scores(seed=3)
    ce = cr.cross_entropy(cr.tensor(scores), cr.tensor(y)).item()
    assert perplexity(scores, y) == pytest.approx(math.exp(ce), rel=1e-9)
    assert perplexity(np.zeros((4, 10)), np.arange(4)) == pytest.approx(10.0)
    padded = np.concatenate([y[:10], [-100, -100]])
    full = np.concatenate([scores[:10], np.zeros((2, 7))])
    assert perplexity(full, padded) == pytest.approx(perplexity(scores[:10], y[:10]))


def test_perplexity_stays_finite_for_huge_logits():
    scores = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    assert perplexity(scores, np.array([0, 1])) == pytest.approx(1.0)


def test_perplexity_matches_torch():
    torch = pytest.importorskip("torch")
    scores, y = _scores(seed=4)
    ce = torch.nn.functional.cross_entropy(torch.tensor(scores), torch.tensor(y)).item()
    assert perplexity(scores, y) == pytest.approx(math.exp(ce), rel=1e-9)


# ----------------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_against_loops():
    scores, y = _scores(n=40, c=4, seed=5)
    pred = scores.argmax(1)
    expected = np.zeros((4, 4), dtype=np.int64)
    for t, p in zip(y, pred, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(confusion_matrix(scores, y), expected)
    np.testing.assert_array_equal(confusion_matrix(pred, y, num_classes=4), expected)
    assert confusion_matrix(scores, y).sum() == 40


def test_confusion_matrix_binary_and_errors():
    m = confusion_matrix(np.array([[0.9], [0.1], [0.7]]), np.array([0, 0, 1]))
    np.testing.assert_array_equal(m, [[1, 1], [0, 1]])
    assert confusion_matrix(np.array([0, 1]), np.array([0, 1]), num_classes=5).shape == (5, 5)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\)"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), num_classes=2)


def test_streaming_confusion_matrix_grows_with_new_classes():
    m = ConfusionMatrix()
    m.update(np.array([0, 1]), np.array([0, 1]))
    m.update(np.array([3]), np.array([2]))
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 0] = expected[1, 1] = expected[2, 3] = 1
    np.testing.assert_array_equal(m.result(), expected)
    m.reset()
    assert m.result().sum() == 0


# ----------------------------------------------------------------------------- streaming
@pytest.mark.parametrize(
    "metric, fn",
    [
        (Accuracy(), accuracy),
        (TopKAccuracy(3), lambda p, t: top_k_accuracy(p, t, k=3)),
        (Perplexity(), perplexity),
    ],
)
def test_streaming_over_ragged_batches_equals_the_whole(metric, fn):
    scores, y = _scores(n=61, c=6, seed=2)
    y[[3, 17, 40]] = -100
    batches = _ragged(61)
    assert len({len(b) for b in batches}) > 1
    metric.reset()
    for idx in batches:
        metric.update(scores[idx], y[idx])
    assert metric.result() == pytest.approx(fn(scores, y), rel=1e-12)
    mean_of_means = np.mean([fn(scores[idx], y[idx]) for idx in batches])
    assert metric.result() != pytest.approx(mean_of_means, rel=1e-9)  # the pitfall avoided


def test_mean_and_wrapper_weigh_by_batch_size():
    m = Mean("loss")
    m.update(1.0, 3)
    m.update(3.0, 1)
    assert m.result() == 1.5
    assert math.isnan(Mean().result())
    w = MeanMetricWrapper(lambda p, t: float(np.mean(np.abs(p - t))), name="mae")
    p, t = np.arange(5.0), np.zeros(5)
    w.update(p[:4], t[:4])
    w.update(p[4:], t[4:])
    assert w.result() == pytest.approx(2.0) and w.name == "mae"


# ----------------------------------------------------------------------------- lookup
def test_get_metric_by_name():
    assert isinstance(get_metric("acc"), Accuracy) and get_metric("accuracy").name == "accuracy"
    for name in ("top5", "top_5", "top5_accuracy", "TOP5"):
        metric = get_metric(name)
        assert isinstance(metric, TopKAccuracy) and metric.k == 5 and metric.name == "top5"
    assert get_metric("top_k_accuracy", k=3).name == "top3"
    assert isinstance(get_metric("ppl"), Perplexity)
    assert get_metric("loss").name == "loss"
    custom = Accuracy(ignore_index=None)
    assert get_metric(custom) is custom
    assert isinstance(get_metric(np.mean), MeanMetricWrapper)
    with pytest.raises(
        ValueError, match=r"unknown metric 'f1'; available: acc, accuracy, .*top<k>"
    ):
        get_metric("f1")
    with pytest.raises(TypeError, match="expected a metric name"):
        get_metric(3)
    assert "confusion_matrix" in metrics.available_metrics()


def test_trainer_epoch_metrics_are_exact_over_a_ragged_last_batch(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = cr.train.Trainer(
        model, cr.optim.SGD(model.parameters(), lr=0.1), "cross_entropy",
        metrics=["accuracy", "top1", "confusion_matrix"],
    )  # fmt: skip
    logs = trainer.evaluate((x, y), batch_size=50, verbose=0)  # 50, 50, 20
    pred = trainer.predict(x)
    assert logs["accuracy"] == pytest.approx(np.mean(pred.argmax(1) == y))
    assert logs["top1"] == logs["accuracy"]
    np.testing.assert_array_equal(logs["confusion_matrix"], confusion_matrix(pred, y))
