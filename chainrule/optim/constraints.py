"""Floor 4: the max-norm constraint on weight vectors (Srivastava et al., 2014; Kim, 2014).

After each update, every weight vector whose L2 norm exceeds ``c`` is rescaled back onto the sphere
of radius ``c``; vectors inside the ball are left alone. The dropout paper bounds the incoming
weight vector of each hidden unit (a row of a ``Linear`` weight, a filter of a convolution); Kim's
sentence CNN bounds the output layer's weight vectors by ``s = 3``.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .optimizer import Optimizer, RemovableHandle

__all__ = ["max_norm_", "MaxNorm"]

Axis = int | tuple[int, ...] | None


def _check_max_value(caller: str, max_value: Any) -> float:
    if isinstance(max_value, bool) or not isinstance(max_value, numbers.Real) or not max_value > 0:
        raise ValueError(f"{caller}: max_value must be a number > 0, got {max_value!r}.")
    return float(max_value)


def _norm_axes(caller: str, ndim: int, axis: Axis) -> tuple[int, ...]:
    if ndim == 0:
        raise ValueError(
            f"{caller}: a 0-d tensor has no weight vectors; constrain a vector or matrix."
        )
    if axis is None:
        return tuple(range(1, ndim)) if ndim > 1 else (0,)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{caller}: axis {a} is out of range for a tensor with {ndim} dimensions."
            )
    return tuple(sorted({a % ndim for a in axes}))


def max_norm_(tensor: Tensor, max_value: float = 3.0, axis: Axis = None) -> Tensor:
    """Rescale, in place, each weight vector of ``tensor`` whose L2 norm exceeds ``max_value``.

    ``w <- w * min(1, c / ||w||_2)`` for every vector ``w``: vectors longer than ``c`` land exactly
    on norm ``c`` with their direction kept; the others are unchanged.

    Args:
        tensor: the weights (a leaf tensor; its data is changed in place, outside the graph).
        max_value: the bound ``c`` (> 0). Default: 3.0 (Kim 2014's ``s``).
        axis: the axis or axes each norm is taken over. ``None`` (default) takes all axes but the
            first, so each vector is one output unit's incoming weights: a row of a ``Linear``
            weight ``(out, in)``, a filter of a ``Conv2d`` weight ``(out, in, kh, kw)``; a 1-D
            tensor is one vector.

    Returns:
        ``tensor`` itself.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([[3.0, 4.0], [0.3, 0.4]])
        >>> optim.max_norm_(w, max_value=1.0)          # row 0 has norm 5, row 1 norm 0.5
        tensor([[0.6, 0.8],
                [0.3, 0.4]])
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"max_norm_: expected a Tensor, got {type(tensor).__name__}.")
    c = _check_max_value("max_norm_", max_value)
    w = tensor.data
    axes = _norm_axes("max_norm_", w.ndim, axis)
    norms = np.sqrt(np.sum(np.square(w), axis=axes, keepdims=True))
    # scale = c / ||w|| where the norm exceeds c, else 1; zero-norm vectors never exceed c > 0
    scale = np.divide(c, norms, out=np.ones_like(norms), where=norms > c)
    np.multiply(w, scale, out=w)
    return tensor


class MaxNorm:
    """A max-norm constraint on a set of weight tensors, applied after every optimizer step.

    Use it as a function (``constraint()``) or attach it to an optimizer so that it runs after each
    ``step()``. Constrain weights, not biases: the constraint bounds each unit's incoming
    weight vector.

    Args:
        params: a tensor or an iterable of tensors to constrain.
        max_value: the bound ``c`` on each vector's L2 norm. Default: 3.0.
        axis: axes each norm is taken over; see ``max_norm_``. Default: all but the first.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([[3.0, 4.0]], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> handle = optim.MaxNorm([w], max_value=1.0).attach(opt)
        >>> w.grad = cr.zeros(1, 2)
        >>> opt.step()
        >>> w
        tensor([[0.6, 0.8]], requires_grad=True)
    """

    def __init__(
        self, params: Tensor | Iterable[Tensor], max_value: float = 3.0, axis: Axis = None
    ) -> None:
        if isinstance(params, Tensor):
            params = [params]
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"MaxNorm: parameter {i} must be a Tensor, got {type(p).__name__}.")
            _norm_axes("MaxNorm", p.ndim, axis)
        self.max_value = _check_max_value("MaxNorm", max_value)
        self.axis = axis

    def __call__(self, *hook_args: Any) -> None:
        """Apply the constraint now (also the signature of an optimizer post-step hook)."""
        with no_grad():
            for p in self.params:
                max_norm_(p, self.max_value, self.axis)

    def attach(self, optimizer: Optimizer) -> RemovableHandle:
        """Apply the constraint after every ``optimizer.step()``; remove the handle to stop."""
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"MaxNorm.attach: expected an Optimizer, got {type(optimizer).__name__}."
            )
        return optimizer.register_step_post_hook(self)

    def __repr__(self) -> str:
        return f"MaxNorm({len(self.params)} tensors, max_value={self.max_value}, axis={self.axis})"
