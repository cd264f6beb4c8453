"""Weight initialisation in place, drawn from the package generator (``cr.manual_seed`` repeats it).

Each function fills ``tensor.data`` under ``no_grad`` and returns the tensor. The
variance-preserving schemes follow the papers and PyTorch's conventions:

- Glorot & Bengio (2010): ``Var(w) = gain^2 * 2 / (fan_in + fan_out)``.
- He et al. (2015): ``Var(w) = gain^2 / fan`` with ``gain = sqrt(2 / (1 + a^2))`` for (leaky) ReLU.
- Saxe et al. (2014): orthogonal matrices, from the QR decomposition of a Gaussian matrix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..backend import get_array_module, get_rng
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_",
    "xavier_uniform_", "xavier_normal_", "glorot_uniform_", "glorot_normal_",
    "kaiming_uniform_", "kaiming_normal_", "he_uniform_", "he_normal_", "orthogonal_",
]  # fmt: skip

_LINEAR_LIKE = (
    "linear", "identity", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)  # fmt: skip
_GAINS = (*_LINEAR_LIKE, "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale the weight standard deviation for a nonlinearity.

    Args:
        nonlinearity: one of linear, identity, conv*/conv_transpose*, sigmoid (1), tanh (5/3),
            relu (sqrt 2), leaky_relu (sqrt(2 / (1 + slope^2))), selu (3/4).
        param: the negative slope for ``leaky_relu`` (default 0.01).

    Example:
        >>> round(cr.nn.init.calculate_gain("relu"), 4)
        1.4142
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number.")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; available: {', '.join(_GAINS)}"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)``: ``in * k``, ``out * k``."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            f"init: fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}."
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}.")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor: Any, name: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"init.{name}: expected a Tensor or Parameter, got {type(tensor).__name__}."
        )


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write ``values`` into ``tensor.data`` keeping its dtype and device."""
    xp = get_array_module(tensor.data)
    with no_grad():
        tensor.data[...] = values if xp is np else xp.asarray(values)
    return tensor


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return get_rng() if generator is None else generator


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with samples from U(a, b)."""
    _check(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"init.uniform_: need a <= b, got a={a}, b={b}.")
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    _check(tensor, "normal_")
    if std < 0:
        raise ValueError(f"init.normal_: std must be non-negative, got {std}.")
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    _check(tensor, "constant_")
    with no_grad():
        tensor.data[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"init.eye_: expected a 2-D tensor, got shape {tuple(tensor.shape)}.")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot uniform: U(-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    _check(tensor, "xavier_uniform_")
    if tensor.numel() == 0:
        return tensor  # nothing to fill; fans may be zero
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(generator).uniform(-bound, bound, size=tensor.shape))


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    _check(tensor, "xavier_normal_")
    if tensor.numel() == 0:
        return tensor  # nothing to fill; fans may be zero
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(generator).normal(0.0, std, size=tensor.shape))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan = _fan(tensor, mode)
    if fan == 0:
        raise ValueError(
            f"init: cannot initialise a tensor with zero {mode}, shape {tuple(tensor.shape)}."
        )
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He uniform: U(-b, b) with ``b = sqrt(3) * gain / sqrt(fan)``.

    Args:
        tensor: weight of shape ``(out, in, *kernel)``.
        a: negative slope of the leaky ReLU that follows (0 for ReLU); used when
            ``nonlinearity='leaky_relu'``.
        mode: ``'fan_in'`` keeps the forward variance, ``'fan_out'`` the backward variance.
        nonlinearity: name passed to ``calculate_gain`` (``'relu'`` or ``'leaky_relu'`` usually).
        generator: a NumPy generator to use instead of the package one.
    """
    _check(tensor, "kaiming_uniform_")
    if tensor.numel() == 0:
        return tensor  # nothing to fill; fans may be zero
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _fill(tensor, _rng(generator).uniform(-bound, bound, size=tensor.shape))


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He normal: N(0, std^2) with ``std = gain / sqrt(fan)`` (arguments as kaiming_uniform_)."""
    _check(tensor, "kaiming_normal_")
    if tensor.numel() == 0:
        return tensor  # nothing to fill; fans may be zero
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return _fill(tensor, _rng(generator).normal(0.0, std, size=tensor.shape))


def orthogonal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``; dimensions past the first are flattened.

    For ``rows <= cols`` the rows are orthonormal (``W W^T = I``), else the columns (``W^T W = I``).
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            f"init.orthogonal_: expected at least 2 dimensions, got shape {tuple(tensor.shape)}."
        )
    rows = tensor.shape[0]
    cols = tensor.numel() // rows if rows else 0
    if rows == 0 or cols == 0:
        return tensor
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    # QR is unique only up to column signs; fixing sign(diag(r)) makes q uniform (Haar) over O(n)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
