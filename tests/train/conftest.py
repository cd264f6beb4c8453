"""Fixtures for the training-loop tests: a tiny separable problem and a small MLP."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

# make ``from train_helpers import ...`` work under any pytest import mode
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """120 points in 4-D with a linear two-class label (120 = 3 full batches of 32 + 24)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


@pytest.fixture
def make_model() -> Callable[..., cr.nn.Module]:
    """A factory of small seeded MLPs ``4 -> hidden -> out``."""

    def make(hidden: int = 8, out: int = 2, seed: int = 0) -> cr.nn.Module:
        cr.manual_seed(seed)
        return cr.nn.Sequential(cr.nn.Linear(4, hidden), cr.nn.ReLU(), cr.nn.Linear(hidden, out))

    return make
