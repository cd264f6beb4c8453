"""Floor 4: Adadelta (Zeiler, 2012): steps in the parameter's units, with no tuned learning rate."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta: scale each step by the ratio of running RMS of past updates to that of gradients.

    For each parameter ``p`` with gradient ``g`` (``gamma`` = lr, ``lambda`` = weight_decay;
    ``E[g^2]_0 = E[dx^2]_0 = 0``)::

        g         <- -g                                       if maximize
        g         <- g + lambda * p                           if lambda != 0
        E[g^2]_t  = rho * E[g^2]_{t-1} + (1 - rho) * g * g
        dx        = sqrt(E[dx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) * g
        E[dx^2]_t = rho * E[dx^2]_{t-1} + (1 - rho) * dx * dx
        p         <- p - gamma * dx

    Args:
        params: tensors to optimize, or dicts of parameter groups.
        lr: ``gamma``, a factor applied to ``dx`` (Zeiler's method has none: keep 1.0).
            Default: 1.0.
        rho: decay rate of the running averages, in [0, 1]. Default: 0.9.
        eps: added inside both square roots. Default: 1e-6.
        weight_decay: L2 penalty ``lambda``. Default: 0.
        maximize: ascend the objective instead of descending. Default: False.

    State (per parameter): ``step``, ``square_avg`` (E[g^2]), ``acc_delta`` (E[dx^2]).

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = optim.Adadelta([w], rho=0.0, eps=1e-6)
        >>> w.grad = cr.tensor([2.0])
        >>> opt.step()                      # dx = sqrt(eps) / sqrt(4 + eps) * 2, about 1e-3
        >>> w
        tensor([0.999], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay"):
            self._check_number(group, key)
        self._check_number(group, "rho", 0.0, 1.0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step; returns the closure's loss when one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            rho = group["rho"]
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
                    state["square_avg"] = np.zeros_like(p)
                    state["acc_delta"] = np.zeros_like(p)
                state["step"] += 1
                sq, acc = state["square_avg"], state["acc_delta"]
                std = self._scratch(p, 1)
                delta = self._scratch(p, 2)
                np.multiply(sq, rho, out=sq)
                np.multiply(g, g, out=std)
                np.multiply(std, 1 - rho, out=std)
                np.add(sq, std, out=sq)
                np.add(sq, eps, out=std)
                np.sqrt(std, out=std)
                np.add(acc, eps, out=delta)
                np.sqrt(delta, out=delta)
                np.divide(delta, std, out=delta)
                np.multiply(delta, g, out=delta)
                np.multiply(acc, rho, out=acc)
                np.multiply(delta, delta, out=std)
                np.multiply(std, 1 - rho, out=std)
                np.add(acc, std, out=acc)
                np.multiply(delta, lr, out=delta)
                np.subtract(p, delta, out=p)
        return loss
