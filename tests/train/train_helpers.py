"""Helpers shared by the training-loop tests: frozen weight snapshots and their comparison."""

from __future__ import annotations

import numpy as np

import chainrule as cr


def weights(model: cr.nn.Module) -> dict[str, np.ndarray]:
    """A frozen copy of the model's state dict."""
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def assert_same_weights(model: cr.nn.Module, expected: dict[str, np.ndarray]) -> None:
    current = weights(model)
    assert current.keys() == expected.keys()
    for key in current:
        np.testing.assert_array_equal(current[key], expected[key], err_msg=key)


def differ(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return any(not np.array_equal(a[k], b[k]) for k in a)
