"""Matrix products: ``matmul`` (batched, broadcasting) and the fused affine map ``linear``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor
from .elementwise import _pair

__all__ = ["matmul", "linear", "dot"]

# outputs from this many elements add their bias on every kernel thread (kernels/pointwise.py)
_THREADED_BIAS_FROM = 1 << 20


def _swap(a: Any) -> Any:
    return a.swapaxes(-1, -2)


class MatMul(Function):
    """z = x @ y; dz/dx = g @ y^T, dz/dy = x^T @ g (1-D operands are promoted as in NumPy)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        x, y = ctx.saved
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g = grad
        if y.ndim == 1:
            g = g[..., None]  # restore the column axis that the 1-D right operand removed
        if x.ndim == 1:
            g = g[..., None, :]  # and the row axis of a 1-D left operand
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g @ _swap(
                y2
            )  # (..., 1 or n, k); summed over batch axes to x's shape by the engine
            if x.ndim == 1:
                gx = gx.reshape(-1, x.shape[0]).sum(axis=0)
        if ctx.needs_input_grad[1]:
            if y2.ndim == 2 and x2.ndim > 2:
                # a batch times one matrix: fold the batch into one GEMM instead of summing many
                k = x2.shape[-1]
                gy = x2.reshape(-1, k).T @ g.reshape(-1, g.shape[-1])
            else:
                gy = _swap(x2) @ g
            if y.ndim == 1:
                gy = gy.reshape(-1, y.shape[0]).sum(axis=0)
        return gx, gy


def _check_matmul(x: Any, y: Any) -> None:
    xs, ys = x.shape, y.shape
    if len(xs) == 0 or len(ys) == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {xs} and {ys}."
        )
    kx = xs[-1]
    ky = ys[0] if len(ys) == 1 else ys[-2]
    if kx != ky:
        raise ValueError(
            f"matmul: shapes {tuple(xs)} and {tuple(ys)} are not aligned: the last dimension of "
            f"the first ({kx}) must equal the {'only' if len(ys) == 1 else 'second-to-last'} "
            f"dimension of the second ({ky})."
        )
    batch_x = xs[:-2] if len(xs) > 2 else ()
    batch_y = ys[:-2] if len(ys) > 2 else ()
    try:
        np.broadcast_shapes(batch_x, batch_y)
    except ValueError:
        raise ValueError(
            f"matmul: the batch dimensions of shapes {tuple(xs)} and {tuple(ys)} do not broadcast: "
            f"{tuple(batch_x)} vs {tuple(batch_y)}."
        ) from None


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with NumPy's rules: batched over leading dimensions, which broadcast.

    Example:
        >>> cr.matmul(cr.ones(5, 2, 3), cr.ones(3, 4)).shape
        (5, 2, 4)
    """
    x, y = _pair(x, y)
    xa = x.data if isinstance(x, Tensor) else x
    ya = y.data if isinstance(y, Tensor) else y
    _check_matmul(xa, ya)
    return MatMul.apply(x, y)


def dot(x: Tensor, y: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"dot: expects two 1-D tensors, got shapes {x.shape} and {y.shape}.")
    return matmul(x, y)


class Linear(Function):
    """y = x W^T + b; dx = g W, dW = g^T x, db = sum of g over all but the last axis.

    Leading dimensions of x are flattened so both weight gradients are single GEMMs.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any = None) -> Any:
        ctx.save_for_backward(x, w)
        # BLAS sees one (rows, in) x (in, out) product: a batched 3-D matmul is several times slower
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = x2 @ w.T
        if b is not None:
            if type(y) is np.ndarray and y.size >= _THREADED_BIAS_FROM:
                from ..kernels.pointwise import add_row_bias_  # loads numba on first use

                add_row_bias_(y, b)
            else:
                y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any, Any]:
        x, w = ctx.saved
        need_x, need_w, *need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        gx = (g2 @ w).reshape(x.shape) if need_x else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        gb = g2.sum(axis=0) if need_b and need_b[0] else None
        return gx, gw, gb


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Affine map ``x @ weight.T + bias`` over the last axis of ``x``.

    Args:
        x: input of shape ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.
    """
    xs = x.shape if hasattr(x, "shape") else ()
    ws = weight.shape
    if len(ws) != 2 or len(xs) == 0 or xs[-1] != ws[1]:
        raise ValueError(
            f"linear: input of shape {tuple(xs)} does not match weight of shape {tuple(ws)}: "
            "expected "
            f"input (*, {ws[1] if len(ws) == 2 else '?'})."
        )
    if bias is not None and tuple(bias.shape) != (ws[0],):
        raise ValueError(f"linear: bias must have shape ({ws[0]},), got {tuple(bias.shape)}.")
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
