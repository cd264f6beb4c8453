"""Fixtures for the kernel tests: run each test through the numba kernels and the NumPy fallback."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.backend import config
from chainrule.kernels import HAVE_NUMBA


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Set ``config.use_numba`` for one test (restored afterwards); yields the setting."""
    if request.param and not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(config, "use_numba", request.param)
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator for test data."""
    return np.random.default_rng(0)


def tolerance(dtype: np.dtype) -> dict:
    """``np.testing.assert_allclose`` tolerances for a dtype."""
    if np.dtype(dtype) == np.float32:
        return {"rtol": 2e-4, "atol": 2e-5}
    return {"rtol": 1e-10, "atol": 1e-12}
