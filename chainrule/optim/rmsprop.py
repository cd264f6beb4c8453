"""Floor 4: RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    For each parameter ``p`` with gradient ``g`` (``gamma`` = lr, ``lambda`` = weight_decay, ``mu``
    = momentum; ``s_0 = a_0 = b_0 = 0``)::

        g    <- -g                                  if maximize
        g    <- g + lambda * p                      if lambda != 0
        s_t  = alpha * s_{t-1} + (1 - alpha) * g * g
        a_t  = a_{t-1} + (1 - alpha) * (g - a_{t-1})  if centered (running mean of g)
        d    = sqrt(s_t - a_t * a_t) + eps          if centered
        d    = sqrt(s_t) + eps                      otherwise
        b_t  = mu * b_{t-1} + g / d                 if mu > 0;  then p <- p - gamma * b_t
        p    <- p - gamma * g / d                   if mu = 0

    Args:
        params: tensors to optimize, or dicts of parameter groups.
        lr: learning rate ``gamma``. Default: 1e-2.
        alpha: smoothing constant of the squared-gradient average. Default: 0.99.
        eps: added to the denominator. Default: 1e-8.
        weight_decay: L2 penalty ``lambda``. Default: 0.
        momentum: momentum factor ``mu``. Default: 0.
        centered: normalise by an estimate of the gradient's variance instead of its raw second
            moment. Default: False.
        maximize: ascend the objective instead of descending. Default: False.

    State (per parameter): ``step``, ``square_avg`` (s), ``momentum_buffer`` (b, if momentum > 0),
    ``grad_avg`` (a, if centered).

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = optim.RMSprop([w], lr=0.01, alpha=0.75)
        >>> w.grad = cr.tensor([3.0])
        >>> opt.step()                      # s = 0.25 * 9, step = 0.01 * 3 / 1.5
        >>> w
        tensor([0.98], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay", "momentum"):
            self._check_number(group, key)
        self._check_number(group, "alpha", 0.0, 1.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step; returns the closure's loss when one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            momentum = group["momentum"]
            centered = group["centered"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                p = param.data
                g = self._grad_with_decay(
                    p, param.grad.data, group["weight_decay"], group["maximize"]
                )
                state = self._param_state(param)
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p)
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = np.zeros_like(p)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = np.zeros_like(p)
                state["step"] += 1
                s = state["square_avg"]
                tmp = self._scratch(p, 1)
                np.multiply(s, alpha, out=s)
                np.multiply(g, g, out=tmp)
                np.multiply(tmp, 1 - alpha, out=tmp)
                np.add(s, tmp, out=s)
                if centered:
                    a = state["grad_avg"]
                    np.subtract(g, a, out=tmp)
                    np.multiply(tmp, 1 - alpha, out=tmp)
                    np.add(a, tmp, out=a)
                    np.multiply(a, a, out=tmp)
                    np.subtract(s, tmp, out=tmp)
                    np.sqrt(tmp, out=tmp)
                else:
                    np.sqrt(s, out=tmp)
                np.add(tmp, eps, out=tmp)
                np.divide(g, tmp, out=tmp)
                if momentum > 0:
                    b = state["momentum_buffer"]
                    np.multiply(b, momentum, out=b)
                    np.add(b, tmp, out=b)
                    np.multiply(b, lr, out=tmp)
                else:
                    np.multiply(tmp, lr, out=tmp)
                np.subtract(p, tmp, out=p)
        return loss
