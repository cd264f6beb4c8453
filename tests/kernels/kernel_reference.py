"""Naive, obviously-correct reference implementations for the kernel tests (tiny sizes only).

Plain Python loops over every output element; vector operations only over one window.
"""

from __future__ import annotations

import numpy as np


def pad4(x: np.ndarray, pad: tuple[int, int, int, int], fill: float = 0.0) -> np.ndarray:
    """Pad the last two axes of an NCHW array by (top, bottom, left, right)."""
    t, b, left, r = pad
    return np.pad(x, ((0, 0), (0, 0), (t, b), (left, r)), constant_values=fill)


def out_size(size: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def im2col_ref(x, kh, kw, stride, pad, dil):
    """cols[(c*kh + i)*kw + j, n, oh, ow] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]."""
    N, C, H, W = x.shape
    Ho = out_size(H, kh, stride[0], pad[0], pad[1], dil[0])
    Wo = out_size(W, kw, stride[1], pad[2], pad[3], dil[1])
    xp = pad4(x, pad)
    cols = np.zeros((C * kh * kw, N, Ho, Wo), x.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                for n in range(N):
                    for oh in range(Ho):
                        for ow in range(Wo):
                            cols[(c * kh + i) * kw + j, n, oh, ow] = xp[
                                n, c, oh * stride[0] + i * dil[0], ow * stride[1] + j * dil[1]
                            ]
    return cols


def conv2d_ref(x, w, b, stride, pad, dil, groups, g):
    """Forward y and, for output gradient g, (dx, dw, db) — by loops over output pixels."""
    N, C, H, W = x.shape
    Co, Cg, kh, kw = w.shape
    Ho = out_size(H, kh, stride[0], pad[0], pad[1], dil[0])
    Wo = out_size(W, kw, stride[1], pad[2], pad[3], dil[1])
    xp = pad4(x, pad).astype(np.float64)
    w64 = w.astype(np.float64)
    y = np.zeros((N, Co, Ho, Wo))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w64)
    Cog = Co // groups
    for n in range(N):
        for o in range(Co):
            c0 = (o // Cog) * Cg
            for oh in range(Ho):
                for ow in range(Wo):
                    h0, w0 = oh * stride[0], ow * stride[1]
                    rows = slice(h0, h0 + dil[0] * (kh - 1) + 1, dil[0])
                    cols = slice(w0, w0 + dil[1] * (kw - 1) + 1, dil[1])
                    win = xp[n, c0 : c0 + Cg, rows, cols]
                    y[n, o, oh, ow] = (win * w64[o]).sum() + (0.0 if b is None else b[o])
                    gv = float(g[n, o, oh, ow])
                    dxp[n, c0 : c0 + Cg, rows, cols] += gv * w64[o]
                    dw[o] += gv * win
    H0, W0 = pad[0], pad[2]
    dx = dxp[:, :, H0 : H0 + H, W0 : W0 + W]
    db = g.astype(np.float64).sum(axis=(0, 2, 3))
    return y, dx, dw, db


def pool_out(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool_ref(x, k, s, p, d, ceil_mode):
    """(y, flat argmax) by loops; the first maximum in scan order wins."""
    N, C, H, W = x.shape
    Ho = pool_out(H, k[0], s[0], p[0], d[0], ceil_mode)
    Wo = pool_out(W, k[1], s[1], p[1], d[1], ceil_mode)
    y = np.zeros((N, C, Ho, Wo), x.dtype)
    idx = np.zeros((N, C, Ho, Wo), np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                for ow in range(Wo):
                    best, arg = -np.inf, -1
                    for i in range(k[0]):
                        for j in range(k[1]):
                            h = oh * s[0] - p[0] + i * d[0]
                            w = ow * s[1] - p[1] + j * d[1]
                            if 0 <= h < H and 0 <= w < W and x[n, c, h, w] > best:
                                best, arg = x[n, c, h, w], h * W + w
                    y[n, c, oh, ow], idx[n, c, oh, ow] = best, arg
    return y, idx


def avg_pool_ref(x, k, s, p, ceil_mode, include_pad, override=None):
    """Window means by loops with PyTorch's divisor rule."""
    N, C, H, W = x.shape
    Ho = pool_out(H, k[0], s[0], p[0], 1, ceil_mode)
    Wo = pool_out(W, k[1], s[1], p[1], 1, ceil_mode)
    y = np.zeros((N, C, Ho, Wo))
    for oh in range(Ho):
        for ow in range(Wo):
            hs, ws = oh * s[0] - p[0], ow * s[1] - p[1]
            he, we = min(hs + k[0], H + p[0]), min(ws + k[1], W + p[1])
            padded = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, H), min(we, W)
            inside = (he - hs) * (we - ws)
            div = override or (padded if include_pad else inside)
            y[:, :, oh, ow] = x[:, :, hs:he, ws:we].astype(np.float64).sum(axis=(2, 3)) / div
    return y


def adaptive_avg_ref(x, Ho, Wo):
    N, C, H, W = x.shape
    y = np.zeros((N, C, Ho, Wo))
    for oh in range(Ho):
        for ow in range(Wo):
            hs, he = (oh * H) // Ho, -(-((oh + 1) * H) // Ho)
            ws, we = (ow * W) // Wo, -(-((ow + 1) * W) // Wo)
            y[:, :, oh, ow] = x[:, :, hs:he, ws:we].astype(np.float64).mean(axis=(2, 3))
    return y


def numeric_vjp(f, x, g, eps=1e-6):
    """<g, df/dx> by central differences, float64 (f maps an array to an array)."""
    x = x.astype(np.float64).copy()
    out = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        fp = np.sum(f(x) * g)
        x[i] = old - eps
        fm = np.sum(f(x) * g)
        x[i] = old
        out[i] = (fp - fm) / (2 * eps)
    return out
