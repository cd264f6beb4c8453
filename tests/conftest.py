"""Test-wide fixtures: every test starts from the same random state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import chainrule

# make ``from helpers import ...`` work under any pytest import mode
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed every random source of the package (and NumPy's, Python's) with 0 before each test."""
    chainrule.manual_seed(0)
