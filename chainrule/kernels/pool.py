"""Max and average pooling over NCHW batches, forward and backward, with PyTorch's conventions.

Max pooling pads with -inf (a window never picks a padded cell), records for every output the flat
index ``h*W + w`` of its maximum within the input plane (int64, as ``return_indices`` gives), and
routes the gradient back through those indices. A NaN in a window wins, as in PyTorch.

Average pooling pads with zeros; the divisor follows PyTorch: with ``count_include_pad`` the window
is counted up to the padded border (``min(start + k, size + pad) - start`` per axis), otherwise only
the cells inside the image; ``divisor_override`` replaces both.

1-D pooling is 2-D pooling with ``H = 1`` (``*_pool1d_*`` wrap it; indices are then positions in L).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels._args import check_float, check_ndim, pair, pool_out_size
from chainrule.kernels._dispatch import jit, prange, use_numba

__all__ = [
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "max_pool1d_forward",
    "max_pool1d_backward",
    "avg_pool1d_forward",
    "avg_pool1d_backward",
]


def _max_fwd_loops(x, kh, kw, sh, sw, ph, pw, dh, dw, y, idx):  # pragma: no cover - numba
    N, C, H, W = x.shape
    Ho, Wo = y.shape[2], y.shape[3]
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        for oh in range(Ho):
            h0 = oh * sh - ph
            hs = h0
            while hs < 0:
                hs += dh
            for ow in range(Wo):
                w0 = ow * sw - pw
                ws = w0
                while ws < 0:
                    ws += dw
                best = -np.inf
                arg = hs * W + ws
                for i in range(kh):
                    h = h0 + i * dh
                    if h < 0 or h >= H:
                        continue
                    for j in range(kw):
                        w = w0 + j * dw
                        if w < 0 or w >= W:
                            continue
                        v = x[n, c, h, w]
                        if v > best or v != v:
                            best = v
                            arg = h * W + w
                y[n, c, oh, ow] = best
                idx[n, c, oh, ow] = arg


def _max22_loops(x, y, idx):  # pragma: no cover - numba
    # 2x2 windows, stride 2, inside the input: the common case, without data-dependent branches.
    # The general loop's "v > best" is a coin toss on real data; its mispredictions made it 8x
    # slower. Same results: the first maximum in scan order, and a window holding a NaN (its sum
    # is NaN; so is inf - inf) takes the exact scan, where the last NaN wins as in the general loop.
    N, C, H, W = x.shape
    Ho, Wo = y.shape[2], y.shape[3]
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        for oh in range(Ho):
            r0 = x[n, c, 2 * oh]
            r1 = x[n, c, 2 * oh + 1]
            yo = y[n, c, oh]
            io = idx[n, c, oh]
            base = 2 * oh * W
            for ow in range(Wo):
                j = 2 * ow
                a, b, e, f = r0[j], r0[j + 1], r1[j], r1[j + 1]
                s = a + b + e + f
                if s != s:
                    best, k = a, 0
                    if b > best or b != b:
                        best, k = b, 1
                    if e > best or e != e:
                        best, k = e, W
                    if f > best or f != f:
                        best, k = f, W + 1
                else:
                    best = max(max(a, b), max(e, f))
                    first_a = np.int64(a == best)
                    first_b = np.int64(b == best)
                    then_e = np.int64(e == best)
                    k = (1 - first_a) * (first_b + (1 - first_b) * (W + 1 - then_e))
                yo[ow] = best
                io[ow] = base + j + k


def _max_bwd_loops(g, idx, dx):  # pragma: no cover - numba
    # g, idx: (planes, Ho*Wo); dx: (planes, H*W)
    planes, P = g.shape
    HW = dx.shape[1]
    for t in prange(planes):
        for k in range(HW):
            dx[t, k] = 0.0
        for p in range(P):
            dx[t, idx[t, p]] += g[t, p]


def _avg_fwd_loops(x, kh, kw, sh, sw, ph, pw, include_pad, override, y):  # pragma: no cover
    N, C, H, W = x.shape
    Ho, Wo = y.shape[2], y.shape[3]
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        for oh in range(Ho):
            h0 = oh * sh - ph
            h1 = min(h0 + kh, H + ph)
            ch = h1 - h0
            h0 = max(h0, 0)
            h1 = min(h1, H)
            for ow in range(Wo):
                w0 = ow * sw - pw
                w1 = min(w0 + kw, W + pw)
                cw = w1 - w0
                w0 = max(w0, 0)
                w1 = min(w1, W)
                if override > 0:
                    div = override
                elif include_pad:
                    div = ch * cw
                else:
                    div = (h1 - h0) * (w1 - w0)
                s = 0.0
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        s += x[n, c, h, w]
                y[n, c, oh, ow] = s / div


def _avg_bwd_loops(g, kh, kw, sh, sw, ph, pw, include_pad, override, dx):  # pragma: no cover
    N, C, H, W = dx.shape
    Ho, Wo = g.shape[2], g.shape[3]
    for t in prange(N * C):
        n = t // C
        c = t - n * C
        for h in range(H):
            for w in range(W):
                dx[n, c, h, w] = 0.0
        for oh in range(Ho):
            h0 = oh * sh - ph
            h1 = min(h0 + kh, H + ph)
            ch = h1 - h0
            h0 = max(h0, 0)
            h1 = min(h1, H)
            for ow in range(Wo):
                w0 = ow * sw - pw
                w1 = min(w0 + kw, W + pw)
                cw = w1 - w0
                w0 = max(w0, 0)
                w1 = min(w1, W)
                if override > 0:
                    div = override
                elif include_pad:
                    div = ch * cw
                else:
                    div = (h1 - h0) * (w1 - w0)
                v = g[n, c, oh, ow] / div
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        dx[n, c, h, w] += v


_max_fwd_numba = jit(_max_fwd_loops)
_max22_numba = jit(_max22_loops)
_max_bwd_numba = jit(_max_bwd_loops)
_avg_fwd_numba = jit(_avg_fwd_loops)
_avg_bwd_numba = jit(_avg_bwd_loops)


def _pool_args(
    x_shape: tuple[int, ...],
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    where: str,
) -> tuple:
    """Normalised (kernel, stride, padding, dilation, Ho, Wo) of a 2-D pooling."""
    k = pair(kernel_size, "kernel_size", where)
    s = k if stride is None else pair(stride, "stride", where)
    p = pair(padding, "padding", where, minimum=0)
    d = pair(dilation, "dilation", where)
    Ho = pool_out_size(x_shape[2], k[0], s[0], p[0], d[0], ceil_mode, where)
    Wo = pool_out_size(x_shape[3], k[1], s[1], p[1], d[1], ceil_mode, where)
    return k, s, p, d, Ho, Wo


def _padded(
    x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, Ho: int, Wo: int, fill: float
) -> np.ndarray:
    """``x`` padded with ``fill`` on every side, extended so the last (ceil-mode) window fits."""
    N, C, H, W = x.shape
    Hp = max(H + 2 * p[0], (Ho - 1) * s[0] + (k[0] - 1) * d[0] + 1)
    Wp = max(W + 2 * p[1], (Wo - 1) * s[1] + (k[1] - 1) * d[1] + 1)
    xp = np.full((N, C, Hp, Wp), fill, dtype=x.dtype)
    xp[:, :, p[0] : p[0] + H, p[1] : p[1] + W] = x
    return xp


def _window(i: int, j: int, s: tuple, d: tuple, Ho: int, Wo: int) -> tuple[slice, slice]:
    """Slices of the padded plane that window offset (i, j) visits across all outputs."""
    return (
        slice(i * d[0], i * d[0] + (Ho - 1) * s[0] + 1, s[0]),
        slice(j * d[1], j * d[1] + (Wo - 1) * s[1] + 1, s[1]),
    )


def _max_fwd_numpy(x, k, s, p, d, Ho, Wo):
    N, C, H, W = x.shape
    xp = _padded(x, k, s, p, d, Ho, Wo, -np.inf)
    best = np.full((N, C, Ho, Wo), -np.inf, dtype=x.dtype)
    # PyTorch starts each window's argmax at its first in-image cell
    h0 = np.arange(Ho) * s[0] - p[0]
    w0 = np.arange(Wo) * s[1] - p[1]
    h_first = np.where(h0 < 0, h0 + (-h0 + d[0] - 1) // d[0] * d[0], h0)
    w_first = np.where(w0 < 0, w0 + (-w0 + d[1] - 1) // d[1] * d[1], w0)
    arg = np.broadcast_to(h_first[:, None] * W + w_first[None, :], best.shape).copy()
    for i in range(k[0]):
        for j in range(k[1]):
            rows, cols = _window(i, j, s, d, Ho, Wo)
            v = xp[:, :, rows, cols]
            take = (v > best) | np.isnan(v)
            np.copyto(best, v, where=take)
            flat = (h0[:, None] + i * d[0]) * W + (w0[None, :] + j * d[1])
            np.copyto(arg, np.broadcast_to(flat, arg.shape), where=take)
    return best, arg


def _avg_divisor(size: int, n_out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """Per-axis window length used in the divisor (PyTorch's rule)."""
    start = np.arange(n_out) * s - p
    end = np.minimum(start + k, size + p)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avg_div(x_shape, k, s, p, Ho, Wo, include_pad, override) -> np.ndarray:
    if override:
        return np.full((Ho, Wo), float(override))
    dh = _avg_divisor(x_shape[2], Ho, k[0], s[0], p[0], include_pad)
    dw = _avg_divisor(x_shape[3], Wo, k[1], s[1], p[1], include_pad)
    return np.outer(dh, dw).astype(np.float64)


def _avg_fwd_numpy(x, k, s, p, Ho, Wo, include_pad, override):
    xp = _padded(x, k, s, p, (1, 1), Ho, Wo, 0.0)
    acc = np.zeros((x.shape[0], x.shape[1], Ho, Wo), dtype=x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            rows, cols = _window(i, j, s, (1, 1), Ho, Wo)
            acc += xp[:, :, rows, cols]
    div = _avg_div(x.shape, k, s, p, Ho, Wo, include_pad, override)
    return (acc / div).astype(x.dtype, copy=False)


def _avg_bwd_numpy(g, x_shape, k, s, p, Ho, Wo, include_pad, override):
    N, C, H, W = x_shape
    div = _avg_div(x_shape, k, s, p, Ho, Wo, include_pad, override)
    gd = (g / div).astype(g.dtype, copy=False)
    dxp = _padded(np.zeros(x_shape, g.dtype), k, s, p, (1, 1), Ho, Wo, 0.0)
    for i in range(k[0]):
        for j in range(k[1]):
            rows, cols = _window(i, j, s, (1, 1), Ho, Wo)
            dxp[:, :, rows, cols] += gd
    return np.ascontiguousarray(dxp[:, :, p[0] : p[0] + H, p[1] : p[1] + W])


def max_pool2d_forward(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Max over sliding windows of an NCHW batch, with the position of each maximum.

    Args:
        x: ``(N, C, H, W)`` floating array.
        kernel_size: int or (kh, kw).
        stride: int or pair; None means ``kernel_size``.
        padding: int or (ph, pw), implicit -inf on both sides; at most half the kernel.
        dilation: int or pair.
        ceil_mode: round the output size up (the last window must start inside the input).

    Returns:
        ``(y, indices)``: ``y`` ``(N, C, Ho, Wo)`` and int64 ``indices`` of the same shape holding
        the flat position ``h*W + w`` of each maximum within its ``(H, W)`` plane.
    """
    where = "max_pool2d"
    check_ndim(x, 4, "N, C, H, W", where)
    check_float(x, where)
    k, s, p, d, Ho, Wo = _pool_args(
        x.shape, kernel_size, stride, padding, dilation, ceil_mode, where
    )
    x = np.ascontiguousarray(x)
    if use_numba(x):
        y = np.empty((x.shape[0], x.shape[1], Ho, Wo), dtype=x.dtype)
        idx = np.empty(y.shape, dtype=np.int64)
        inside = 2 * Ho <= x.shape[2] and 2 * Wo <= x.shape[3]
        if k == s == (2, 2) and p == (0, 0) and d == (1, 1) and inside:
            _max22_numba(x, y, idx)
        else:
            _max_fwd_numba(x, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], y, idx)
        return y, idx
    return _max_fwd_numpy(x, k, s, p, d, Ho, Wo)


def max_pool2d_backward(
    grad_y: np.ndarray, indices: np.ndarray, x_shape: tuple[int, int, int, int]
) -> np.ndarray:
    """Route ``grad_y`` to the recorded maxima: ``dx`` of ``x_shape`` (repeated hits add up).

    Args:
        grad_y: ``(N, C, Ho, Wo)`` gradient of the pooled output.
        indices: int64 ``(N, C, Ho, Wo)`` from ``max_pool2d_forward``.
        x_shape: ``(N, C, H, W)`` of the forward input.

    Returns:
        ``dx`` of shape ``x_shape`` in the dtype of ``grad_y``.
    """
    where = "max_pool2d_backward"
    check_ndim(grad_y, 4, "N, C, Ho, Wo", where)
    if tuple(indices.shape) != tuple(grad_y.shape):
        raise ValueError(
            f"{where}: indices {tuple(indices.shape)} and grad_y "
            f"{tuple(grad_y.shape)} must have one shape."
        )
    N, C, H, W = (int(v) for v in x_shape)
    P = grad_y.shape[2] * grad_y.shape[3]
    g = np.ascontiguousarray(grad_y).reshape(N * C, P)
    idx = np.ascontiguousarray(indices, dtype=np.int64).reshape(N * C, P)
    if use_numba(g):
        dx = np.empty((N * C, H * W), dtype=g.dtype)
        _max_bwd_numba(g, idx, dx)
        return dx.reshape(N, C, H, W)
    flat = (idx + (np.arange(N * C) * (H * W))[:, None]).ravel()
    dx = np.bincount(flat, weights=g.ravel(), minlength=N * C * H * W)
    return dx.astype(g.dtype, copy=False).reshape(N, C, H, W)


def avg_pool2d_forward(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> np.ndarray:
    """Mean over sliding windows of an NCHW batch (zero padding, PyTorch's divisor rule).

    Args:
        x: ``(N, C, H, W)`` floating array.
        kernel_size: int or (kh, kw).
        stride: int or pair; None means ``kernel_size``.
        padding: int or (ph, pw) zeros on both sides; at most half the kernel.
        ceil_mode: round the output size up.
        count_include_pad: count padded cells in the divisor (PyTorch's default True).
        divisor_override: divide every window sum by this instead.

    Returns:
        ``y`` of shape ``(N, C, Ho, Wo)``.
    """
    where = "avg_pool2d"
    check_ndim(x, 4, "N, C, H, W", where)
    check_float(x, where)
    k, s, p, _, Ho, Wo = _pool_args(x.shape, kernel_size, stride, padding, 1, ceil_mode, where)
    override = _override(divisor_override, where)
    x = np.ascontiguousarray(x)
    if use_numba(x):
        y = np.empty((x.shape[0], x.shape[1], Ho, Wo), dtype=x.dtype)
        _avg_fwd_numba(x, k[0], k[1], s[0], s[1], p[0], p[1], bool(count_include_pad), override, y)
        return y
    return _avg_fwd_numpy(x, k, s, p, Ho, Wo, bool(count_include_pad), override)


def avg_pool2d_backward(
    grad_y: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> np.ndarray:
    """Spread each output gradient evenly (by its divisor) over its window: ``dx``."""
    where = "avg_pool2d_backward"
    check_ndim(grad_y, 4, "N, C, Ho, Wo", where)
    x_shape = tuple(int(v) for v in x_shape)
    k, s, p, _, Ho, Wo = _pool_args(x_shape, kernel_size, stride, padding, 1, ceil_mode, where)
    if tuple(grad_y.shape) != (x_shape[0], x_shape[1], Ho, Wo):
        raise ValueError(
            f"{where}: expected grad_y of shape {(x_shape[0], x_shape[1], Ho, Wo)}, "
            f"got {tuple(grad_y.shape)}."
        )
    override = _override(divisor_override, where)
    g = np.ascontiguousarray(grad_y)
    if use_numba(g):
        dx = np.empty(x_shape, dtype=g.dtype)
        _avg_bwd_numba(g, k[0], k[1], s[0], s[1], p[0], p[1], bool(count_include_pad), override, dx)
        return dx
    return _avg_bwd_numpy(g, x_shape, k, s, p, Ho, Wo, bool(count_include_pad), override)


def _override(divisor_override: int | None, where: str) -> int:
    if divisor_override is None:
        return 0
    if int(divisor_override) <= 0:
        raise ValueError(f"{where}: divisor_override must be positive, got {divisor_override!r}.")
    return int(divisor_override)


def _one(value: Any, name: str, where: str, minimum: int = 1) -> int:
    """An int or a 1-sequence as an int (1-D pooling arguments)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


def max_pool1d_forward(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling over ``(N, C, L)``; returns ``(y (N, C, Lo), indices (N, C, Lo) into L)``."""
    where = "max_pool1d"
    check_ndim(x, 3, "N, C, L", where)
    k = _one(kernel_size, "kernel_size", where)
    s = k if stride is None else _one(stride, "stride", where)
    p = _one(padding, "padding", where, minimum=0)
    d = _one(dilation, "dilation", where)
    y, idx = max_pool2d_forward(x[:, :, None, :], (1, k), (1, s), (0, p), (1, d), ceil_mode)
    return y[:, :, 0, :], idx[:, :, 0, :]


def max_pool1d_backward(
    grad_y: np.ndarray, indices: np.ndarray, x_shape: tuple[int, int, int]
) -> np.ndarray:
    """Gradient of ``max_pool1d_forward``: ``dx`` of shape ``(N, C, L)``."""
    check_ndim(grad_y, 3, "N, C, Lo", "max_pool1d_backward")
    N, C, L = (int(v) for v in x_shape)
    dx = max_pool2d_backward(grad_y[:, :, None, :], indices[:, :, None, :], (N, C, 1, L))
    return dx[:, :, 0, :]


def avg_pool1d_forward(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Average pooling over ``(N, C, L)``; returns ``(N, C, Lo)``."""
    where = "avg_pool1d"
    check_ndim(x, 3, "N, C, L", where)
    k = _one(kernel_size, "kernel_size", where)
    s = k if stride is None else _one(stride, "stride", where)
    p = _one(padding, "padding", where, minimum=0)
    y = avg_pool2d_forward(x[:, :, None, :], (1, k), (1, s), (0, p), ceil_mode, count_include_pad)
    return y[:, :, 0, :]


def avg_pool1d_backward(
    grad_y: np.ndarray,
    x_shape: tuple[int, int, int],
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Gradient of ``avg_pool1d_forward``: ``dx`` of shape ``(N, C, L)``."""
    where = "avg_pool1d_backward"
    check_ndim(grad_y, 3, "N, C, Lo", where)
    k = _one(kernel_size, "kernel_size", where)
    s = k if stride is None else _one(stride, "stride", where)
    p = _one(padding, "padding", where, minimum=0)
    N, C, L = (int(v) for v in x_shape)
    dx = avg_pool2d_backward(
        grad_y[:, :, None, :], (N, C, 1, L), (1, k), (1, s), (0, p), ceil_mode, count_include_pad
    )
    return dx[:, :, 0, :]
