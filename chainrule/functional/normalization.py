"""Batch normalisation as one fused ``Function`` over ``chainrule.kernels.batch_norm``.

In training, each channel is normalised by the mean and biased variance of the batch (over every
axis but 1) and the running estimates move towards them:
``running = (1 - momentum) * running + momentum * batch`` with the *unbiased* batch variance
``var * m / (m - 1)`` (``m`` values per channel), as PyTorch does. In evaluation the running
estimates are constants, so the op is an affine map per channel.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..tensor import Tensor
from .conv import _kernels

__all__ = ["batch_norm"]


class BatchNorm(Function):
    """``y = (x - mean) * invstd * weight + bias``; backward recomputes ``xhat`` from ``x``.

    ``dx = weight * invstd / m * (m*g - sum(g) - xhat * sum(g * xhat))`` in training (the batch
    statistics depend on ``x``) and ``dx = weight * invstd * g`` in evaluation.
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        weight: Any = None,
        bias: Any = None,
        residual: Any = None,
        running_mean: Any = None,
        running_var: Any = None,
        training: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
        relu: bool = False,
    ) -> Any:
        K = _kernels()
        if training:
            y, mean, var, invstd = K.batch_norm_forward_train(x, weight, bias, eps, relu, residual)
            if running_mean is not None:
                m = x.size // x.shape[1]
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += (momentum * m / (m - 1)) * var
        else:
            y, invstd = K.batch_norm_forward_eval(
                x, running_mean, running_var, weight, bias, eps, relu, residual
            )
            mean = running_mean.astype(x.dtype, copy=False)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, weight, mean, invstd, y if relu else None)
        ctx.training = training
        ctx.residual = residual is not None
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any, Any, Any]:
        x, weight, mean, invstd, relu_output = ctx.saved
        need = ctx.needs_input_grad
        K = _kernels()
        if ctx.residual and relu_output is not None:
            # through the ReLU once; that gradient is also the residual's
            from ..kernels.pointwise import relu_backward

            grad = relu_backward(grad, relu_output)
            relu_output = None
        dx, dweight, dbias = K.batch_norm_backward(
            grad, x, weight, mean, invstd, ctx.training, need[0], relu_output
        )
        dres = grad if ctx.residual and need[3] else None
        return dx, (dweight if need[1] else None), (dbias if need[2] else None), dres


def _stat(value: Any, C: int, name: str, shape: tuple[int, ...]) -> Any:
    if value is None:
        return None
    arr = value.data if isinstance(value, Tensor) else value
    if tuple(getattr(arr, "shape", ())) != (C,):
        raise ValueError(
            f"batch_norm: {name} must have shape ({C},) for input of shape {shape}, "
            f"got {tuple(getattr(arr, 'shape', ()))}."
        )
    return arr


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    relu: bool = False,
    residual: Tensor | None = None,
) -> Tensor:
    """Normalise each channel (axis 1), then scale by ``weight`` and shift by ``bias``.

    Args:
        x: ``(N, C)`` or ``(N, C, *spatial)``.
        running_mean: ``(C,)`` running mean, updated in place when ``training``; or None.
        running_var: ``(C,)`` running (unbiased) variance, updated in place when ``training``.
        weight: ``(C,)`` scale (gamma), or None for 1.
        bias: ``(C,)`` shift (beta), or None for 0.
        training: use the batch statistics (and update the running ones); otherwise use the
            running statistics.
        momentum: weight of the new batch in the running estimates.
        eps: added to the variance before the square root.
        relu: follow with ``relu`` in the same pass, both ways (what a conv net's
            ``relu(batch_norm(x))`` computes, with one pass over the activations fewer each way).
        residual: a tensor shaped like ``x`` added before the ReLU, in the same pass: the end
            of a residual block, ``relu(batch_norm(x) + shortcut)``.

    Returns:
        A tensor shaped like ``x``.

    Example:
        >>> x = cr.randn(8, 3)
        >>> y = cr.functional.batch_norm(x, None, None, training=True)
        >>> bool(abs(y.mean(axis=0)).max() < 1e-5)
        True
    """
    where = "batch_norm"
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) < 2:
        raise ValueError(
            f"{where}: expected input of shape (N, C) or (N, C, *spatial), got {shape}."
        )
    C = shape[1]
    rm = _stat(running_mean, C, "running_mean", shape)
    rv = _stat(running_var, C, "running_var", shape)
    if (rm is None) != (rv is None):
        raise ValueError(f"{where}: give both running_mean and running_var, or neither.")
    if not training and rm is None:
        raise ValueError(
            f"{where}: evaluation mode (training=False) needs running_mean and running_var; "
            "pass training=True to normalise by the batch statistics."
        )
    if training and (x.data.size if isinstance(x, Tensor) else x.size) == C:
        raise ValueError(
            f"{where}: expected more than 1 value per channel when training, got input of "
            f"shape {shape}. Use a batch of at least 2, or eval mode."
        )
    if not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(f"{where}: momentum must lie in [0, 1], got {momentum!r}.")
    if residual is not None and tuple(getattr(residual, "shape", ())) != shape:
        raise ValueError(
            f"{where}: residual must have the input's shape {shape}, "
            f"got {tuple(getattr(residual, 'shape', ()))}."
        )
    return BatchNorm.apply(
        x,
        weight,
        bias,
        residual,
        running_mean=rm,
        running_var=rv,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
        relu=bool(relu),
    )
