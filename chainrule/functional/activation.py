"""Activation functions, each numerically stable for inputs of magnitude 1e4."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..tensor import Tensor

__all__ = [
    "sigmoid", "tanh", "relu", "add_relu", "leaky_relu", "softplus", "elu", "gelu", "softmax",
    "log_softmax", "heaviside",
]  # fmt: skip


def _sigmoid(xp: Any, x: Any) -> Any:
    # exp(-|x|) never overflows: for x >= 0 use 1/(1+e^-x), for x < 0 use e^x/(1+e^x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """y = 1 / (1 + e^-x); dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = _sigmoid(ctx.xp, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh(x); dy/dx = 1 - y**2."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)  # keep the output, not the input: backward needs only y
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved
        return grad * (1 - y * y)


def _pointwise() -> Any:
    # imported on first use: importing the kernels loads numba
    from ..kernels import pointwise

    return pointwise


class ReLU(Function):
    """y = max(x, 0); dy/dx = 1 where x > 0 (0 at the kink, as in PyTorch).

    NumPy arrays go through ``kernels.pointwise`` (threaded on large arrays).
    """

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = _pointwise().relu_forward(x) if ctx.xp is np else ctx.xp.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved
        if ctx.xp is np:
            return _pointwise().relu_backward(grad, y)
        return ctx.xp.where(y > 0, grad, 0).astype(grad.dtype, copy=False)


class AddReLU(Function):
    """z = max(x + y, 0) in one pass; dz/dx = dz/dy = 1 where z > 0."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        if type(x) is np.ndarray and type(y) is np.ndarray:
            z = _pointwise().add_relu(x, y)
        else:  # Python numbers keep NumPy's weak-scalar dtype rules
            z = ctx.xp.maximum(x + y, 0)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        (z,) = ctx.saved
        if ctx.xp is np:
            g = _pointwise().relu_backward(grad, z)
        else:
            g = ctx.xp.where(z > 0, grad, 0).astype(grad.dtype, copy=False)
        return g, g


class LeakyReLU(Function):
    """y = x for x > 0 else slope * x."""

    @staticmethod
    def forward(ctx: Context, x: Any, slope: float = 0.01) -> Any:
        ctx.save_for_backward(x)
        ctx.slope = slope
        return ctx.xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved
        return ctx.xp.where(x > 0, grad, grad * ctx.slope)


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, as max(z, 0) + log1p(e^-|z|); dy/dx = sigmoid(beta x).

    Above ``threshold`` (in units of beta x) it returns x, as PyTorch does.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        xp = ctx.xp
        z = x * beta
        ctx.save_for_backward(z)
        ctx.beta, ctx.threshold = beta, threshold
        y = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        return xp.where(z > threshold, x, y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (z,) = ctx.saved
        return grad * ctx.xp.where(z > ctx.threshold, 1, _sigmoid(ctx.xp, z))


class ELU(Function):
    """y = x for x > 0 else alpha (e^x - 1); dy/dx = 1 or y + alpha."""

    @staticmethod
    def forward(ctx: Context, x: Any, alpha: float = 1.0) -> Any:
        xp = ctx.xp
        y = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        x, y = ctx.saved
        return ctx.xp.where(x > 0, grad, grad * (y + ctx.alpha))


class GELU(Function):
    """y = x Phi(x) with Phi the normal CDF (exact erf form, or the tanh approximation)."""

    @staticmethod
    def forward(ctx: Context, x: Any, approximate: str = "none") -> Any:
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + xp.tanh(inner))
        return 0.5 * x * (1 + _erf(xp, x / math.sqrt(2)))

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = ctx.xp
        (x,) = ctx.saved
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (x + 0.044715 * x**3))
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
        cdf = 0.5 * (1 + _erf(xp, x / math.sqrt(2)))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad * (cdf + x * pdf)


def _erf(xp: Any, x: Any) -> Any:
    if xp is not np:  # CuPy arrays refuse implicit conversion to NumPy, so use CuPy's own erf
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    try:
        from scipy.special import erf

        return xp.asarray(erf(x)).astype(x.dtype, copy=False)
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x)


class Softmax(Function):
    """y = e^(x - max) / sum e^(x - max); dx = y (g - sum(g y))."""

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int = -1) -> Any:
        ctx.axis = axis
        if x.size == 0:  # nothing to normalise (and max over an empty axis is undefined)
            ctx.save_for_backward(x)
            return x.copy()
        e = ctx.xp.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x); dx = g - softmax(x) sum(g)."""

    @staticmethod
    def forward(ctx: Context, x: Any, axis: int = -1) -> Any:
        xp = ctx.xp
        ctx.axis = axis
        if x.size == 0:  # nothing to normalise (and max over an empty axis is undefined)
            ctx.save_for_backward(x)
            return x.copy()
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved
        return grad - ctx.xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid ``1 / (1 + e^-x)``. Example: `cr.sigmoid(cr.zeros(1))` is `[0.5]`."""
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise. Example: `cr.tanh(cr.zeros(3))` is all zeros."""
    return Tanh.apply(x)


def relu(x: Tensor) -> Tensor:
    """Rectified linear unit ``max(x, 0)``."""
    return ReLU.apply(x)


def add_relu(x: Tensor, y: Tensor) -> Tensor:
    """``relu(x + y)`` in one pass over the arrays (how a residual block ends); broadcasts."""
    return AddReLU.apply(x, y)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return LeakyReLU.apply(x, slope=negative_slope)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Smooth ReLU ``log(1 + e^(beta x)) / beta``; linear above ``threshold``."""
    return Softplus.apply(x, beta=beta, threshold=threshold)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit."""
    return ELU.apply(x, alpha=alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate='tanh'`` gives the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}.")
    return GELU.apply(x, approximate=approximate)


def _axis(x: Tensor, axis: int, name: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{name}: expects at least one dimension, got a 0-d tensor.")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for shape {x.shape}.")
    return axis % x.ndim


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Normalised exponentials along ``axis`` (sums to 1)."""
    return Softmax.apply(x, axis=_axis(x, axis, "softmax"))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``log(softmax(x))`` computed stably as ``x - logsumexp(x)``."""
    return LogSoftmax.apply(x, axis=_axis(x, axis, "log_softmax"))


def heaviside(x: Tensor, threshold: float = 0.0) -> Tensor:
    """Step function ``1 if x >= threshold else 0`` (the McCulloch–Pitts unit); no gradient."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Tensor._make(
        (data >= threshold).astype(data.dtype if data.dtype.kind == "f" else np.float32)
    )
