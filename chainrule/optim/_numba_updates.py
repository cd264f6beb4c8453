"""Fused one-pass update kernels for SGD and Adam, compiled by numba (imported on first use).

NumPy needs four to eleven passes over memory per parameter for these updates; one compiled loop
reads each array once. Each loop performs the same floating-point operations in the same order as
the NumPy path of its optimizer (no fast-math, so no fused multiply-adds): both paths agree bit for
bit. All arrays are flat, contiguous and of one dtype; scalars come in that dtype.
"""

from __future__ import annotations

import math

import numba

__all__ = ["sgd_update", "adam_update"]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sgd_update(p, g, buf, lr, momentum, damp1, weight_decay, nesterov, maximize, first):
    """SGD in place; ``buf``: momentum buffer (unused if momentum == 0); ``damp1 = 1 - tau``."""
    for i in range(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = p[i] * weight_decay + d
        if momentum != 0:
            if first:
                b = d
            elif damp1 == 1:
                b = buf[i] * momentum + d
            else:
                b = buf[i] * momentum + d * damp1
            buf[i] = b
            if nesterov:
                d = b * momentum + d
            else:
                d = b
        p[i] = p[i] - d * lr


@numba.njit(cache=True, nogil=True, error_model="numpy")
def adam_update(
    p,
    g,
    m,
    v,
    vmax,
    omb1,
    beta2,
    omb2,
    step_size,
    bc2_sqrt,
    eps,
    weight_decay,
    decay,
    amsgrad,
    maximize,
):
    """Adam in place; ``omb = 1 - beta``, ``decay = 1 - lr * wd`` (decoupled) or 1 (L2 or none)."""
    for i in range(p.size):
        d = -g[i] if maximize else g[i]
        if decay != 1:
            p[i] = p[i] * decay
        if weight_decay != 0:
            d = p[i] * weight_decay + d
        mi = m[i] + (d - m[i]) * omb1
        m[i] = mi
        vi = v[i] * beta2 + (d * d) * omb2
        v[i] = vi
        if amsgrad:
            if not vmax[i] >= vi:
                vmax[i] = vi
            vi = vmax[i]
        p[i] = p[i] - (mi / (math.sqrt(vi) / bc2_sqrt + eps)) * step_size
