"""Floor 4: Adam (Kingma & Ba, 2015), its AMSGrad variant, and AdamW's decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _fused_kernels

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's first and second moments.

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...`` (``gamma`` = lr,
    ``lambda`` = weight_decay; ``m_0 = v_0 = vmax_0 = 0``)::

        g      <- -g                                  if maximize
        p      <- p * (1 - gamma * lambda)            if decoupled_weight_decay (AdamW)
        g      <- g + lambda * p                      otherwise, if lambda != 0 (L2 penalty)
        m_t    = m_{t-1} + (1 - beta1) * (g - m_{t-1})        (= beta1 m + (1 - beta1) g)
        v_t    = beta2 * v_{t-1} + (1 - beta2) * g * g
        vmax_t = max(vmax_{t-1}, v_t)                 if amsgrad; the denominator then uses vmax_t
        p      <- p - gamma / (1 - beta1**t) * m_t / (sqrt(v_t) / sqrt(1 - beta2**t) + eps)

    Args:
        params: tensors to optimize, or dicts of parameter groups.
        lr: learning rate ``gamma``. Default: 1e-3.
        betas: decay rates ``(beta1, beta2)`` of the moment estimates, each in [0, 1). Default:
            (0.9, 0.999).
        eps: added to the denominator for numerical stability. Default: 1e-8.
        weight_decay: ``lambda``. Default: 0.
        amsgrad: normalise by the running maximum of ``v`` (Reddi et al., 2018). Default: False.
        maximize: ascend the objective instead of descending. Default: False.
        decoupled_weight_decay: shrink the weights directly instead of adding an L2 term to the
            gradient (AdamW). Default: False.

    State (per parameter): ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq``
    (if amsgrad).

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()                      # the first Adam step moves each weight by about lr
        >>> w
        tensor([ 0.9, -1.9], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay"):
            self._check_number(group, key)
        betas = group["betas"]
        name = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}.")
        group["betas"] = tuple(betas)
        for i, beta in enumerate(betas):
            self._check_number({f"betas[{i}]": beta}, f"betas[{i}]", 0.0, 1.0, high_open=True)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step; returns the closure's loss when one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                p = param.data
                state = self._param_state(param)
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p)
                    state["exp_avg_sq"] = np.zeros_like(p)
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                m, v = state["exp_avg"], state["exp_avg_sq"]
                step_size = lr / (1 - beta1**t)
                bc2_sqrt = (1 - beta2**t) ** 0.5
                vmax = state.get("max_exp_avg_sq") if amsgrad else None
                arrays = (m, v) if vmax is None else (m, v, vmax)
                fused = _fused_kernels(p, param.grad.data, *arrays)
                if fused is not None:
                    self._fused_step(fused, param, group, step_size, bc2_sqrt, vmax)
                    continue
                if decoupled:
                    if weight_decay != 0:
                        np.multiply(p, 1 - lr * weight_decay, out=p)
                    g = self._grad_with_decay(p, param.grad.data, 0.0, group["maximize"])
                else:
                    g = self._grad_with_decay(p, param.grad.data, weight_decay, group["maximize"])
                tmp = self._scratch(p, 1)
                np.subtract(g, m, out=tmp)
                np.multiply(tmp, 1 - beta1, out=tmp)
                np.add(m, tmp, out=m)
                np.multiply(v, beta2, out=v)
                np.multiply(g, g, out=tmp)
                np.multiply(tmp, 1 - beta2, out=tmp)
                np.add(v, tmp, out=v)
                if vmax is not None:
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                np.sqrt(v, out=tmp)
                np.divide(tmp, bc2_sqrt, out=tmp)
                np.add(tmp, eps, out=tmp)
                np.divide(m, tmp, out=tmp)
                np.multiply(tmp, step_size, out=tmp)
                np.subtract(p, tmp, out=p)
        return loss

    def _fused_step(
        self,
        fused: Any,
        param: Any,
        group: dict[str, Any],
        step_size: float,
        bc2_sqrt: float,
        vmax: Any,
    ) -> None:
        """The same update in one compiled pass over the arrays."""
        p = param.data
        state = self.state[param]
        cast = p.dtype.type
        beta1, beta2 = group["betas"]
        weight_decay = group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        fused.adam_update(
            p.reshape(-1),
            param.grad.data.reshape(-1),
            state["exp_avg"].reshape(-1),
            state["exp_avg_sq"].reshape(-1),
            (state["exp_avg_sq"] if vmax is None else vmax).reshape(-1),
            cast(1 - beta1),
            cast(beta2),
            cast(1 - beta2),
            cast(step_size),
            cast(bc2_sqrt),
            cast(group["eps"]),
            cast(0.0 if decoupled else weight_decay),
            cast(1 - group["lr"] * weight_decay if decoupled else 1.0),
            vmax is not None,
            bool(group["maximize"]),
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    The update rule is ``Adam``'s with ``decoupled_weight_decay=True``: before the Adam step each
    weight is shrunk, ``p <- p * (1 - lr * weight_decay)``, and the gradient carries no L2 term, so
    the decay is not rescaled by the adaptive denominator.

    Args:
        params: tensors to optimize, or dicts of parameter groups.
        lr: learning rate. Default: 1e-3.
        betas: decay rates of the moment estimates. Default: (0.9, 0.999).
        eps: added to the denominator. Default: 1e-8.
        weight_decay: decoupled decay rate. Default: 1e-2.
        amsgrad: use the running maximum of the second moment. Default: False.
        maximize: ascend the objective instead of descending. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = cr.tensor([0.0])
        >>> opt.step()                      # zero gradient: only the decay acts, 1 * (1 - 0.05)
        >>> w
        tensor([0.95], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
