"""Floor 6: the ``max_norm`` option of ``Trainer``, turned into constraints run after each step."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from ..nn import Module
from ..optim import MaxNorm
from ..tensor import Tensor

__all__ = ["build_constraints"]


def _weights(module: Module) -> list[Tensor]:
    """The weight matrices and filters of ``module`` (parameters with 2 or more dimensions)."""
    return [p for p in module.parameters() if p.ndim >= 2]


def _check_value(key: Any, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"Trainer: max_norm for {key!r} must be a number > 0, got {value!r}.")
    return float(value)


def build_constraints(model: Module, max_norm: Any) -> list[Callable[[], Any]]:
    """Callables that apply the max-norm constraint(s) described by ``max_norm``.

    Args:
        model: the trained module.
        max_norm: None (no constraint); a number ``c`` (every parameter with 2 or more
            dimensions, i.e. every weight matrix and filter, is kept within norm ``c`` per output
            unit; biases are left alone); a dict mapping a parameter name (``"fc2.weight"``), a
            submodule name (``"fc2"``: its weights) or a parameter tensor to ``c``; an
            ``optim.MaxNorm``; or any callable taking no arguments, run after each step.

    Raises:
        ValueError: an unknown name (the message lists the parameters) or a bound <= 0.
        TypeError: an unsupported kind of ``max_norm``.
    """
    if max_norm is None:
        return []
    if isinstance(max_norm, numbers.Real) and not isinstance(max_norm, bool):
        weights = _weights(model)
        if not weights:
            raise ValueError(
                "Trainer: max_norm given, but the model has no parameter with 2 or more "
                "dimensions to constrain; name the tensors in a dict instead."
            )
        return [MaxNorm(weights, _check_value("the model", max_norm))]
    if isinstance(max_norm, dict):
        params = dict(model.named_parameters())
        modules = dict(model.named_modules())
        constraints: list[Callable[[], Any]] = []
        for key, value in max_norm.items():
            bound = _check_value(key, value)
            if isinstance(key, Tensor):
                constraints.append(MaxNorm([key], bound))
            elif key in params:
                constraints.append(MaxNorm([params[key]], bound))
            elif isinstance(key, str) and key and key in modules:
                weights = _weights(modules[key])
                if not weights:
                    raise ValueError(f"Trainer: max_norm: module {key!r} has no weights.")
                constraints.append(MaxNorm(weights, bound))
            else:
                names = ", ".join(list(params)[:12]) + (", ..." if len(params) > 12 else "")
                raise ValueError(
                    f"Trainer: max_norm names {key!r}, which is neither a parameter nor a "
                    f"submodule of the model; parameters: {names}."
                )
        return constraints
    if callable(max_norm):
        return [max_norm]
    raise TypeError(
        "Trainer: max_norm must be None, a number, a dict {name: bound}, an optim.MaxNorm or a "
        f"callable, got {type(max_norm).__name__}."
    )
