"""Adaptive average pooling: average over windows chosen so that the output has a given size.

Output cell ``o`` of an axis of input length ``L`` and output length ``Lo`` averages the input cells
``floor(o*L/Lo) .. ceil((o+1)*L/Lo) - 1`` (PyTorch's rule; windows may overlap by one cell).
Global average pooling is ``output_size = 1``. The rule is separable, so the NumPy path writes the
pooling as two small matrix products, ``y = A_h @ x @ A_w.T``, and the gradient as their transpose.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels._args import check_float, check_ndim
from chainrule.kernels._dispatch import jit, prange, use_numba

__all__ = [
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool1d_forward",
    "adaptive_avg_pool1d_backward",
]


def _fwd_loops(x, y):  # pragma: no cover - numba
    N, C, H, W = x.shape
    Ho, Wo = y.shape[2], y.shape[3]
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        for oh in range(Ho):
            h0 = (oh * H) // Ho
            h1 = ((oh + 1) * H + Ho - 1) // Ho
            for ow in range(Wo):
                w0 = (ow * W) // Wo
                w1 = ((ow + 1) * W + Wo - 1) // Wo
                s = 0.0
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        s += x[n, c, h, w]
                y[n, c, oh, ow] = s / ((h1 - h0) * (w1 - w0))


def _bwd_loops(g, dx):  # pragma: no cover - numba
    N, C, H, W = dx.shape
    Ho, Wo = g.shape[2], g.shape[3]
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        for h in range(H):
            for w in range(W):
                dx[n, c, h, w] = 0.0
        for oh in range(Ho):
            h0 = (oh * H) // Ho
            h1 = ((oh + 1) * H + Ho - 1) // Ho
            for ow in range(Wo):
                w0 = (ow * W) // Wo
                w1 = ((ow + 1) * W + Wo - 1) // Wo
                v = g[n, c, oh, ow] / ((h1 - h0) * (w1 - w0))
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        dx[n, c, h, w] += v


_fwd_numba = jit(_fwd_loops)
_bwd_numba = jit(_bwd_loops)


def _averaging_matrix(size: int, n_out: int, dtype: np.dtype) -> np.ndarray:
    """``A[o, i] = 1/len(window o)`` if input cell i lies in window o, else 0."""
    o = np.arange(n_out)
    lo = (o * size) // n_out
    hi = ((o + 1) * size + n_out - 1) // n_out
    i = np.arange(size)
    inside = (i[None, :] >= lo[:, None]) & (i[None, :] < hi[:, None])
    return (inside / (hi - lo)[:, None]).astype(dtype)


def _output_size(output_size: Any, H: int, W: int, where: str) -> tuple[int, int]:
    if isinstance(output_size, (int, np.integer)):
        out = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        out = (
            H if output_size[0] is None else int(output_size[0]),
            W if output_size[1] is None else int(output_size[1]),
        )
    else:
        raise ValueError(f"{where}: output_size must be an int or a pair, got {output_size!r}.")
    if min(out) < 1:
        raise ValueError(f"{where}: output_size must be positive, got {output_size!r}.")
    return out


def adaptive_avg_pool2d_forward(x: np.ndarray, output_size: Any) -> np.ndarray:
    """Average-pool an NCHW batch down (or up) to ``output_size``.

    Args:
        x: ``(N, C, H, W)`` floating array.
        output_size: int or (Ho, Wo); a None entry keeps that input size.

    Returns:
        ``y`` of shape ``(N, C, Ho, Wo)``.

    Example:
        >>> adaptive_avg_pool2d_forward(np.ones((2, 3, 5, 5)), 1).shape
        (2, 3, 1, 1)
    """
    where = "adaptive_avg_pool2d"
    check_ndim(x, 4, "N, C, H, W", where)
    check_float(x, where)
    N, C, H, W = x.shape
    Ho, Wo = _output_size(output_size, H, W, where)
    x = np.ascontiguousarray(x)
    if use_numba(x):
        y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
        _fwd_numba(x, y)
        return y
    ah = _averaging_matrix(H, Ho, x.dtype)
    aw = _averaging_matrix(W, Wo, x.dtype)
    return np.ascontiguousarray(np.matmul(np.matmul(ah, x), aw.T))


def adaptive_avg_pool2d_backward(
    grad_y: np.ndarray, x_shape: tuple[int, int, int, int]
) -> np.ndarray:
    """Gradient of ``adaptive_avg_pool2d_forward``: ``dx`` of ``x_shape``.

    Args:
        grad_y: ``(N, C, Ho, Wo)``; its spatial size is the forward ``output_size``.
        x_shape: ``(N, C, H, W)`` of the forward input.
    """
    where = "adaptive_avg_pool2d_backward"
    check_ndim(grad_y, 4, "N, C, Ho, Wo", where)
    N, C, H, W = (int(v) for v in x_shape)
    if tuple(grad_y.shape[:2]) != (N, C):
        raise ValueError(
            f"{where}: grad_y {tuple(grad_y.shape)} does not match x_shape "
            f"{(N, C, H, W)} in batch and channels."
        )
    Ho, Wo = grad_y.shape[2], grad_y.shape[3]
    g = np.ascontiguousarray(grad_y)
    if use_numba(g):
        dx = np.empty((N, C, H, W), dtype=g.dtype)
        _bwd_numba(g, dx)
        return dx
    ah = _averaging_matrix(H, Ho, g.dtype)
    aw = _averaging_matrix(W, Wo, g.dtype)
    return np.ascontiguousarray(np.matmul(np.matmul(ah.T, g), aw))


def adaptive_avg_pool1d_forward(x: np.ndarray, output_size: int) -> np.ndarray:
    """Adaptive average pooling over ``(N, C, L)`` to ``(N, C, output_size)``."""
    check_ndim(x, 3, "N, C, L", "adaptive_avg_pool1d")
    return adaptive_avg_pool2d_forward(x[:, :, None, :], (1, output_size))[:, :, 0, :]


def adaptive_avg_pool1d_backward(grad_y: np.ndarray, x_shape: tuple[int, int, int]) -> np.ndarray:
    """Gradient of ``adaptive_avg_pool1d_forward``: ``dx`` of shape ``(N, C, L)``."""
    check_ndim(grad_y, 3, "N, C, Lo", "adaptive_avg_pool1d_backward")
    N, C, L = (int(v) for v in x_shape)
    return adaptive_avg_pool2d_backward(grad_y[:, :, None, :], (N, C, 1, L))[:, :, 0, :]
