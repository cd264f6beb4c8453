"""Floor 4: gradient clipping by total norm and by value, in place on ``.grad`` as in PyTorch."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor], caller: str) -> list[Any]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{caller}: parameter {i} must be a Tensor, got {type(p).__name__}.")
        if p.grad is not None:
            grads.append(p.grad.data)
    return grads


def _vector_norm(x: Any, norm_type: float) -> Any:
    """The ``norm_type``-norm of all elements of ``x`` (a 0-d array of ``x``'s dtype)."""
    if x.size == 0:
        return np.zeros((), dtype=x.dtype)
    if norm_type == 2:
        flat = x.reshape(-1)
        return np.sqrt(np.dot(flat, flat))  # one BLAS dot, no squared temporary
    if math.isinf(norm_type):
        return np.max(np.abs(x))
    if norm_type == 1:
        return np.sum(np.abs(x))
    return np.sum(np.abs(x) ** norm_type) ** (1.0 / norm_type)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescale the gradients so that their joint norm is at most ``max_norm``; return the old norm.

    The total norm is the ``norm_type``-norm of all gradients taken together (equivalently, the norm
    of the vector of per-parameter norms). When it exceeds ``max_norm`` every gradient is
    multiplied, in place, by ``max_norm / (total_norm + 1e-6)``; otherwise the gradients are left
    untouched. Parameters without a gradient are skipped.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed total norm (>= 0).
        norm_type: the order of the norm: any p > 0, or ``float('inf')`` for the largest absolute
            value. Default: 2.
        error_if_nonfinite: raise when the total norm is NaN or infinite (with ``False`` the
            gradients are then scaled by a NaN factor, as in PyTorch). Default: False.

    Returns:
        The total norm of the gradients before clipping, as a 0-d tensor.

    Raises:
        ValueError: ``max_norm`` < 0 or ``norm_type`` <= 0.
        RuntimeError: the total norm is not finite and ``error_if_nonfinite`` is set.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.zeros(2, requires_grad=True)
        >>> w.grad = cr.tensor([3.0, 4.0])
        >>> optim.clip_grad_norm_([w], max_norm=1.0)
        tensor(5.)
        >>> w.grad
        tensor([0.6, 0.8])
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a number >= 0, got {max_norm!r}.")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(
            f"clip_grad_norm_: norm_type must be > 0 (or float('inf')), got {norm_type!r}."
        )
    grads = _grads(parameters, "clip_grad_norm_")
    if not grads:
        return Tensor._make(np.zeros((), dtype=np.float32))
    norms = np.stack([_vector_norm(g, norm_type) for g in grads])
    total = _vector_norm(norms, norm_type)
    value = float(total)
    if error_if_nonfinite and not math.isfinite(value):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {value}, so "
            "it cannot be clipped. Find the op that produced it with cr.detect_anomaly(), or pass "
            "error_if_nonfinite=False to scale by it anyway."
        )
    coef = max_norm / (value + 1e-6)
    if not coef >= 1.0:  # NaN also scales, as in PyTorch
        with np.errstate(invalid="ignore"):  # inf * 0: a non-finite norm gives NaN
            for g in grads:
                np.multiply(g, coef, out=g)
    return Tensor._make(np.asarray(total))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        clip_value: the largest allowed absolute value (>= 0).

    Raises:
        ValueError: ``clip_value`` < 0.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.zeros(3, requires_grad=True)
        >>> w.grad = cr.tensor([-2.0, 0.5, 3.0])
        >>> optim.clip_grad_value_(w, 1.0)
        >>> w.grad
        tensor([-1.0,  0.5,  1.0])
    """
    if isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real) or clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a number >= 0, got {clip_value!r}.")
    for g in _grads(parameters, "clip_grad_value_"):
        np.clip(g, -clip_value, clip_value, out=g)
