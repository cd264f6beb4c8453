"""Floor 4: Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate steps that shrink over time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: divide each coordinate's step by the root of its summed squared gradients.

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...`` (``gamma`` = lr, ``eta``
    = lr_decay, ``lambda`` = weight_decay; ``S_0`` = initial_accumulator_value everywhere)::

        g    <- -g                              if maximize
        g    <- g + lambda * p                  if lambda != 0
        c_t  = gamma / (1 + (t - 1) * eta)
        S_t  = S_{t-1} + g * g
        p    <- p - c_t * g / (sqrt(S_t) + eps)

    Args:
        params: tensors to optimize, or dicts of parameter groups.
        lr: learning rate ``gamma``. Default: 1e-2.
        lr_decay: ``eta``, the learning rate's decay per step. Default: 0.
        weight_decay: L2 penalty ``lambda``. Default: 0.
        initial_accumulator_value: starting value of the sum of squares ``S``. Default: 0.
        eps: added to the denominator. Default: 1e-10.
        maximize: ascend the objective instead of descending. Default: False.

    State (per parameter): ``step``, ``sum`` (S).

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = optim.Adagrad([w], lr=0.5, initial_accumulator_value=7.0)
        >>> w.grad = cr.tensor([3.0])
        >>> opt.step()                      # S = 7 + 9 = 16, step = 0.5 * 3 / 4
        >>> w
        tensor([0.625], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._check_number(group, key)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step; returns the closure's loss when one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            lr_decay = group["lr_decay"]
            eps = group["eps"]
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
                    state["sum"] = np.full_like(p, group["initial_accumulator_value"])
                state["step"] += 1
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                total = state["sum"]
                tmp = self._scratch(p, 1)
                np.multiply(g, g, out=tmp)
                np.add(total, tmp, out=total)
                np.sqrt(total, out=tmp)
                np.add(tmp, eps, out=tmp)
                np.divide(g, tmp, out=tmp)
                np.multiply(tmp, clr, out=tmp)
                np.subtract(p, tmp, out=p)
        return loss
