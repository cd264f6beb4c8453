"""Input checks shared by the layers: a wrong shape is reported with the layer, shapes and a fix."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["expect_last_dim", "expect_ndim", "expect_dim", "shape_of"]


def shape_of(x: Any, name: Any) -> tuple[int, ...]:
    """The shape of a tensor or array input; a ``TypeError`` naming ``name`` for anything else."""
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"{name} expected a Tensor input, got {type(x).__name__}.")
    return tuple(shape)


def expect_last_dim(module: Any, x: Any, n: int) -> None:
    """Require input of shape ``(N, *, n)``, as a ``Linear(.., n)`` layer reads it.

    Raises:
        ValueError: naming the module, the expected and received shapes, and a hint, e.g.
            ``Linear(784, 10, bias=True) expected input of shape (N, *, 784), got (32, 28, 28).
            Hint: add nn.Flatten() before this layer.``
    """
    shape = shape_of(x, module)
    if len(shape) >= 1 and shape[-1] == n:
        return
    msg = f"{module} expected input of shape (N, *, {n}), got {shape}."
    if len(shape) >= 3 and math.prod(shape[1:]) == n:
        hint = "add nn.Flatten() before this layer."
    elif len(shape) == 0:
        hint = "a 0-d tensor has no feature axis; pass a batch of shape (N, features)."
    else:
        hint = (
            f"the input has {shape[-1]} features in its last axis; make the previous layer output "
            f"{n} features, or build this layer with {shape[-1]} input features."
        )
    raise ValueError(f"{msg} Hint: {hint}")


def expect_ndim(module: Any, x: Any, ndims: tuple[int, ...], layout: str) -> None:
    """Require ``x.ndim`` in ``ndims``; ``layout`` spells the shape, e.g. ``"(N, C, H, W)"``."""
    shape = shape_of(x, module)
    if len(shape) in ndims:
        return
    allowed = " or ".join(str(d) for d in ndims)
    raise ValueError(
        f"{module} expected a {allowed}-d input of shape {layout}, "
        f"got {len(shape)}-d shape {shape}."
    )


def expect_dim(module: Any, x: Any, axis: int, n: int, layout: str) -> None:
    """Require ``x.shape[axis] == n``; ``layout`` spells the shape, e.g. ``"(N, 3, H, W)"``."""
    shape = shape_of(x, module)
    if -len(shape) <= axis < len(shape) and shape[axis] == n:
        return
    raise ValueError(f"{module} expected input of shape {layout} (axis {axis} = {n}), got {shape}.")
