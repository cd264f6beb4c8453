"""Dropout: zero each unit (or each whole channel) with probability ``p`` during training.

Inverted dropout scales the survivors by ``1 / (1 - p)`` at training time, so the expected value of
every unit is unchanged and evaluation is the identity (no rescaling of the weights afterwards).
The mask comes from the package generator (``cr.manual_seed`` makes it repeatable).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..backend import get_array_module, get_rng
from ..tensor import Tensor

__all__ = ["dropout", "dropout2d"]


class Dropout(Function):
    """``y = x * mask`` with ``mask`` in ``{0, 1/(1-p)}`` (broadcast over a channel's pixels in
    ``dropout2d``); ``dx = g * mask``."""

    @staticmethod
    def forward(ctx: Context, x: Any, mask: Any = None) -> Any:
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        return grad * ctx.mask


def _check_p(p: Any, where: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise TypeError(f"{where}: p must be a number in [0, 1], got {p!r}.")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{where}: p must lie in [0, 1], got {p!r}.")
    return float(p)


def _mask(shape: tuple[int, ...], p: float, like: Any) -> Any:
    """``keep / (1 - p)`` in the dtype and on the device of ``like`` (all zeros when p = 1)."""
    dtype = like.dtype if like.dtype.kind == "f" else np.dtype(np.float32)
    keep = get_rng().random(shape, dtype=np.float32) >= p
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    mask = keep.astype(dtype) * dtype.type(scale)
    return get_array_module(like).asarray(mask)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Args:
        x: any shape.
        p: probability of zeroing an element, in [0, 1].
        training: apply dropout; when False the input is returned unchanged.

    Returns:
        A tensor shaped like ``x`` (``x`` itself when not training or ``p == 0``).

    Example:
        >>> x = cr.ones(1000)
        >>> y = cr.functional.dropout(x, 0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    p = _check_p(p, "dropout")
    if not training or p == 0.0:
        return x
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    return Dropout.apply(x, mask=_mask(tuple(data.shape), p, data))


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels with probability ``p`` (scaling the rest by ``1 / (1 - p)``).

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels barely
    regularises a convolutional layer; dropping a channel's whole map does.

    Args:
        x: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        p: probability of zeroing a channel.
        training: apply dropout; when False the input is returned unchanged.

    Example:
        >>> y = cr.functional.dropout2d(cr.ones(4, 8, 3, 3), 0.5).numpy()
        >>> bool((y == y[:, :, :1, :1]).all())
        True
    """
    p = _check_p(p, "dropout2d")
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected input of shape (N, C, H, W) or (C, H, W), got {data.shape}."
        )
    if not training or p == 0.0:
        return x
    lead = data.shape[: data.ndim - 2]
    return Dropout.apply(x, mask=_mask((*lead, 1, 1), p, data))
