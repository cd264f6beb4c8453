"""Elementwise arithmetic, math functions and comparisons, each with its gradient.

Binary ops broadcast; the engine sums each gradient back to its input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Context, Function, add_arrays
from ..backend import default_dtype
from ..tensor import Tensor, as_array

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sign", "clip", "clamp",
    "maximum", "minimum", "where", "cast", "clone", "to_device",
    "lt", "le", "gt", "ge", "eq", "ne", "logical_not", "logical_and", "logical_or",
    "isnan", "isfinite",
]  # fmt: skip


def _is_weak(value: Any) -> bool:
    """Python numbers adapt to the tensor's dtype (NumPy scalars and arrays do not)."""
    return isinstance(value, (int, float, bool)) and not isinstance(value, np.generic)


def _operand(value: Any, like: Any) -> Any:
    """A non-Tensor operand: Python numbers stay weak; arrays take ``like``'s floating dtype."""
    if isinstance(value, Tensor) or _is_weak(value):
        return value
    arr = np.asarray(value) if isinstance(value, (list, tuple, np.generic)) else value
    ref = like.data if isinstance(like, Tensor) else None
    if ref is not None and ref.dtype.kind == "f" and arr.dtype.kind in "fiub":
        arr = arr.astype(ref.dtype, copy=False)
    return arr


def _as_float(t: Tensor, dtype: Any) -> Tensor:
    """An integer or bool tensor converted to a floating dtype (it needs no gradient)."""
    return Tensor._make(t.data.astype(dtype))


def _pair(x: Any, y: Any) -> tuple[Any, Any]:
    """Prepare two operands of a binary op with PyTorch's promotion rules.

    An integer or bool tensor meeting a floating tensor (or a Python float) is converted to that
    floating dtype (the default dtype for a Python float), where NumPy would give float64.
    """
    x_is_t = isinstance(x, Tensor)
    y_is_t = isinstance(y, Tensor)
    if x_is_t and y_is_t:
        dx, dy = x.data.dtype, y.data.dtype
        if dx is not dy and dx != dy:
            if dx.kind == "f" and dy.kind in "iub":
                y = _as_float(y, dx)
            elif dy.kind == "f" and dx.kind in "iub":
                x = _as_float(x, dy)
        return x, y
    if x_is_t:
        return _with_constant(x, y)
    if y_is_t:
        y, x = _with_constant(y, x)
        return x, y
    return _operand(x, y), _operand(y, x)


def _with_constant(t: Tensor, c: Any) -> tuple[Any, Any]:
    """A tensor and a non-tensor operand, the tensor first."""
    kind = type(c)
    if kind is float:
        if t.data.dtype.kind in "iub":
            t = _as_float(t, default_dtype())
        return t, c
    if kind is int or kind is bool:
        return t, c
    return t, _operand(c, t)


def _wrap(arr: Any) -> Tensor:
    """A Tensor around a non-differentiable result (NumPy returns 0-d results as scalars)."""
    return Tensor._make(np.asarray(arr) if isinstance(arr, np.generic) else arr)


class Add(Function):
    """z = x + y; dz/dx = dz/dy = 1. Large same-shape NumPy arrays add on every kernel thread."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        return add_arrays(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        return grad, grad


class Sub(Function):
    """z = x - y."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        return x - y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y; dz/dx = y, dz/dy = x."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        x, y = ctx.saved
        gx = grad * y if ctx.needs_input_grad[0] else None
        gy = grad * x if ctx.needs_input_grad[1] else None
        return gx, gy


class Div(Function):
    """z = x / y; dz/dx = 1/y, dz/dy = -z/y."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        z = x / y
        ctx.save_for_backward(y, z)
        return z

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        y, z = ctx.saved
        gx = grad / y if ctx.needs_input_grad[0] else None
        gy = -grad * z / y if ctx.needs_input_grad[1] else None
        return gx, gy


class Neg(Function):
    """z = -x."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return -grad


class Pow(Function):
    """z = x ** y; dz/dx = y x^(y-1), dz/dy = z log x (defined where x > 0)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        z = ctx.xp.power(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        x, y, z = ctx.saved
        xp = ctx.xp
        gx = gy = None
        if ctx.needs_input_grad[0]:
            if _is_weak(y) and y == 2:
                gx = grad * (2 * x)
            elif _is_weak(y) and y == 0:
                gx = xp.zeros_like(grad)  # d/dx x^0 = 0, also at x = 0
            else:
                gx = grad * y * xp.power(x, y - 1)
        if ctx.needs_input_grad[1]:
            safe = xp.where(x > 0, x, 1)
            gy = grad * z * xp.log(safe) * (x > 0)
        return gx, gy


class Exp(Function):
    """y = e^x; dy/dx = y."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved
        return grad * y


class Log(Function):
    """y = ln x; dy/dx = 1/x."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ctx.xp.log(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved
        return grad / x


class Sqrt(Function):
    """y = sqrt(x); dy/dx = 1 / (2 y)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        with np.errstate(invalid="ignore"):
            y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (y,) = ctx.saved
        with np.errstate(divide="ignore"):
            return grad / (2 * y)


class Abs(Function):
    """y = |x|; dy/dx = sign(x) (0 at the kink, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved
        return grad * ctx.xp.sign(x)


class Clip(Function):
    """y = min(max(x, lo), hi); the gradient passes where lo <= x <= hi."""

    @staticmethod
    def forward(ctx: Context, x: Any, lo: Any = None, hi: Any = None) -> Any:
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return ctx.xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        (x,) = ctx.saved
        mask = ctx.xp.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            mask &= x >= ctx.lo
        if ctx.hi is not None:
            mask &= x <= ctx.hi
        return grad * mask


class Maximum(Function):
    """z = max(x, y); the gradient goes to the larger input (split evenly on ties, like PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return ctx.xp.maximum(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        x, y = ctx.saved
        share = (x > y) + (x == y) * grad.dtype.type(0.5)
        return grad * share, grad * (1 - share)


class Minimum(Function):
    """z = min(x, y); the gradient goes to the smaller input (split evenly on ties)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return ctx.xp.minimum(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any]:
        x, y = ctx.saved
        share = (x < y) + (x == y) * grad.dtype.type(0.5)
        return grad * share, grad * (1 - share)


class Where(Function):
    """z = cond ? x : y; the gradient is routed by the same condition."""

    @staticmethod
    def forward(ctx: Context, cond: Any, x: Any, y: Any) -> Any:
        cond = cond.astype(bool, copy=False)
        ctx.save_for_backward(cond)
        return ctx.xp.where(cond, x, y)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, Any, Any]:
        (cond,) = ctx.saved
        zero = grad.dtype.type(0)
        return None, ctx.xp.where(cond, grad, zero), ctx.xp.where(cond, zero, grad)


class Cast(Function):
    """y = x converted to another dtype; the gradient is converted back."""

    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any = None) -> Any:
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad  # the engine casts to the input's dtype


class Clone(Function):
    """y = a copy of x."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x.copy()

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad


def add(x: Any, y: Any) -> Tensor:
    """Elementwise sum with broadcasting. Example: `cr.add(cr.ones(2), 1)` is `[2., 2.]`."""
    return Add.apply(*_pair(x, y))


def sub(x: Any, y: Any) -> Tensor:
    """Elementwise difference ``x - y`` with broadcasting."""
    return Sub.apply(*_pair(x, y))


def mul(x: Any, y: Any) -> Tensor:
    """Elementwise product with broadcasting."""
    return Mul.apply(*_pair(x, y))


def div(x: Any, y: Any) -> Tensor:
    """Elementwise quotient ``x / y`` with broadcasting."""
    return Div.apply(*_pair(x, y))


def neg(x: Tensor) -> Tensor:
    """Elementwise negation."""
    return Neg.apply(x)


def pow(x: Any, y: Any) -> Tensor:
    """Elementwise power ``x ** y`` (either may be a tensor)."""
    return Pow.apply(*_pair(x, y))


def exp(x: Tensor) -> Tensor:
    """Elementwise e^x."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root."""
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    """Elementwise absolute value."""
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """Elementwise sign (-1, 0, 1); no gradient."""
    return _wrap(np.sign(as_array(x)))


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to ``[min, max]`` (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given.")
    return Clip.apply(x, lo=_bound(min, x), hi=_bound(max, x))


def _bound(value: Any, x: Tensor) -> Any:
    """A clip bound as a Python number or an array of ``x``'s dtype."""
    if value is None or _is_weak(value):
        return value
    arr = as_array(value)
    return arr.astype(x.data.dtype, copy=False) if x.data.dtype.kind == "f" else arr


clamp = clip


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum of two tensors with broadcasting."""
    return Maximum.apply(*_pair(x, y))


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum of two tensors with broadcasting."""
    return Minimum.apply(*_pair(x, y))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (broadcast together)."""
    if not isinstance(x, Tensor) and not isinstance(y, Tensor) and _is_weak(x) and _is_weak(y):
        x = np.asarray(x, dtype=default_dtype() if isinstance(x, float) else None)
    x, y = _pair(x, y)
    return Where.apply(as_array(condition), x, y)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """Convert to ``dtype``; gradients flow between floating dtypes."""
    from ..backend import to_dtype

    dt = to_dtype(dtype)
    if x.data.dtype == dt:
        return x
    if dt.kind not in "fc":
        return Tensor._make(x.data.astype(dt))
    return Cast.apply(x, dtype=dt)


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` that stays in the graph."""
    return Clone.apply(x)


class ToDevice(Function):
    """Move data between NumPy and CuPy; the gradient moves back."""

    @staticmethod
    def forward(ctx: Context, x: Any, device: str = "cpu") -> Any:
        ctx.source = "cuda" if type(x).__module__.startswith("cupy") else "cpu"
        return _move(x, device)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return _move(grad, ctx.source)


def _move(arr: Any, device: str) -> Any:
    on_gpu = type(arr).__module__.startswith("cupy")
    if device.startswith("cpu"):
        return arr.get() if on_gpu else arr
    if device.startswith("cuda"):
        try:
            import cupy
        except ImportError as err:
            raise RuntimeError(
                "to('cuda'): CuPy is not installed; install chainrule with a cupy-cudaXX package."
            ) from err
        return arr if on_gpu else cupy.asarray(arr)
    raise ValueError(f"unknown device {device!r}; use 'cpu' or 'cuda'.")


def to_device(x: Tensor, device: str) -> Tensor:
    """Move ``x`` to ``'cpu'`` or ``'cuda'`` (recorded, so gradients move back)."""
    if x.device.split(":")[0] == device.split(":")[0]:
        return x
    return ToDevice.apply(x, device=device)


def _compare(op: Any, x: Any, y: Any) -> Tensor:
    return _wrap(op(as_array(x), as_array(y)))


def lt(x: Any, y: Any) -> Tensor:
    """Elementwise ``x < y`` as a bool tensor (no gradient)."""
    return _compare(np.less, x, y)


def le(x: Any, y: Any) -> Tensor:
    """Elementwise ``x <= y`` (no gradient)."""
    return _compare(np.less_equal, x, y)


def gt(x: Any, y: Any) -> Tensor:
    """Elementwise ``x > y`` (no gradient)."""
    return _compare(np.greater, x, y)


def ge(x: Any, y: Any) -> Tensor:
    """Elementwise ``x >= y`` (no gradient)."""
    return _compare(np.greater_equal, x, y)


def eq(x: Any, y: Any) -> Tensor:
    """Elementwise ``x == y`` (no gradient)."""
    return _compare(np.equal, x, y)


def ne(x: Any, y: Any) -> Tensor:
    """Elementwise ``x != y`` (no gradient)."""
    return _compare(np.not_equal, x, y)


def logical_not(x: Any) -> Tensor:
    """Elementwise NOT of a bool tensor."""
    return _wrap(np.logical_not(as_array(x)))


def logical_and(x: Any, y: Any) -> Tensor:
    """Elementwise AND."""
    return _compare(np.logical_and, x, y)


def logical_or(x: Any, y: Any) -> Tensor:
    """Elementwise OR."""
    return _compare(np.logical_or, x, y)


def isnan(x: Any) -> Tensor:
    """Elementwise test for NaN."""
    return _wrap(np.isnan(as_array(x)))


def isfinite(x: Any) -> Tensor:
    """Elementwise test for finite values."""
    return _wrap(np.isfinite(as_array(x)))
