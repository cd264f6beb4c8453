"""Floor 4: stochastic gradient descent with (Nesterov) momentum, dampening and weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _fused_kernels

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    For each parameter ``p`` with gradient ``g``, at step ``t`` (``mu`` = momentum, ``tau`` =
    dampening, ``lambda`` = weight_decay, ``gamma`` = lr)::

        g    <- -g                            if maximize
        g    <- g + lambda * p                if lambda != 0
        if mu != 0:
            b_t = g                           at the first step
            b_t = mu * b_{t-1} + (1 - tau) * g  afterwards
            g   <- g + mu * b_t               if nesterov
            g   <- b_t                        otherwise
        p    <- p - gamma * g

    This is PyTorch's formulation (the learning rate multiplies the velocity, not the gradient
    inside it), so trajectories agree with ``torch.optim.SGD`` step for step.

    Args:
        params: tensors to optimize, or dicts of parameter groups.
        lr: learning rate ``gamma``. Default: 1e-3.
        momentum: momentum factor ``mu``. Default: 0.
        dampening: dampening ``tau`` of the momentum. Default: 0.
        weight_decay: L2 penalty ``lambda`` added to the gradient. Default: 0.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0). Default: False.
        maximize: ascend the objective instead of descending. Default: False.

    State (per parameter): ``momentum_buffer`` (when momentum != 0).

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.8, -1.6], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "momentum", "weight_decay"):
            self._check_number(group, key)
        self._check_number(group, "dampening", low=float("-inf"))
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum="
                f"{group['momentum']} and dampening={group['dampening']}."
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step; returns the closure's loss when one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                p = param.data
                buf = None
                if momentum != 0:
                    buf = self._param_state(param).get("momentum_buffer")
                g = param.grad.data
                fused = _fused_kernels(p, g) if buf is None else _fused_kernels(p, g, buf)
                if fused is not None:
                    self._fused_step(fused, param, group, buf)
                    continue
                d = self._grad_with_decay(p, g, group["weight_decay"], group["maximize"])
                if momentum != 0:
                    if buf is None:
                        buf = self.state[param]["momentum_buffer"] = d.copy()
                    else:
                        np.multiply(buf, momentum, out=buf)
                        if dampening == 0:
                            np.add(buf, d, out=buf)
                        else:
                            tmp = self._scratch(p, 1)
                            np.multiply(d, 1 - dampening, out=tmp)
                            np.add(buf, tmp, out=buf)
                    if nesterov:
                        tmp = self._scratch(p, 1)
                        np.multiply(buf, momentum, out=tmp)
                        np.add(tmp, d, out=tmp)
                        d = tmp
                    else:
                        d = buf
                tmp = self._scratch(p, 1)
                np.multiply(d, lr, out=tmp)
                np.subtract(p, tmp, out=p)
        return loss

    def _fused_step(self, fused: Any, param: Any, group: dict[str, Any], buf: Any) -> None:
        """The same update in one compiled pass over the arrays."""
        p = param.data
        cast = p.dtype.type
        momentum = group["momentum"]
        first = momentum != 0 and buf is None
        if first:
            buf = self.state[param]["momentum_buffer"] = np.empty_like(p)
        fused.sgd_update(
            p.reshape(-1),
            param.grad.data.reshape(-1),
            (p if buf is None else buf).reshape(-1),
            cast(group["lr"]),
            cast(momentum),
            cast(1 - group["dampening"]),
            cast(group["weight_decay"]),
            bool(group["nesterov"]),
            bool(group["maximize"]),
            first,
        )
