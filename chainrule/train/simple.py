"""A small hand-written training loop for classifiers (the main job uses it until ``Trainer`` lands)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend, functional as F
from ..autograd import no_grad
from ..nn import Module

__all__ = ["fit_classifier", "evaluate_accuracy"]


def evaluate_accuracy(model: Module, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    """Fraction of examples whose arg-max logit equals the label (eval mode, no graph)."""
    model.eval()
    correct = 0
    with no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(x[i : i + batch_size])
            correct += int((logits.data.argmax(axis=1) == y[i : i + batch_size]).sum())
    return correct / max(len(x), 1)


def fit_classifier(
    model: Module,
    optimizer: Any,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int,
    progress: bool = True,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    scheduler: Any = None,
) -> float:
    """Train with cross-entropy, printing loss and accuracy per epoch; return the final test accuracy.

    Each epoch visits the training set in a fresh order drawn from the package generator.

    Args:
        transform: applied to each training batch of inputs (e.g. an ``ImageAugmenter``).
        scheduler: learning-rate scheduler stepped once per epoch.
    """
    from tqdm.auto import tqdm

    x, y = train
    n = len(x)
    steps = -(-n // batch_size)
    test_acc = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        order = backend.get_rng().permutation(n)
        total_loss, correct = 0.0, 0
        bar = tqdm(
            range(steps),
            desc=f"epoch {epoch}/{epochs}",
            disable=not progress or not sys.stderr.isatty(),
            leave=False,
            unit="step",
        )
        for s in bar:
            idx = order[s * batch_size : (s + 1) * batch_size]
            xb, yb = x[idx], y[idx]
            if transform is not None:
                xb = transform(xb)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += int((logits.data.argmax(axis=1) == yb).sum())
            if s % 20 == 0:
                bar.set_postfix(loss=f"{total_loss / ((s + 1) * batch_size):.4f}")
        if scheduler is not None:
            scheduler.step()
        test_acc = evaluate_accuracy(model, *test)
        print(
            f"epoch {epoch}/{epochs}  loss {total_loss / n:.4f}  train acc {100 * correct / n:.2f}%  "
            f"test acc {100 * test_acc:.2f}%",
            flush=True,
        )
    return test_acc
