"""Convolution (cross-correlation, as every framework computes it) forward and backward on NCHW.

Every pass is im2col + one large GEMM per slab of images (BLAS through ``np.matmul``), with the
slabs spread over the kernel thread pool (``_parallel.py``). The packing differs by case:

- general (``_strided.py``): any stride; im2col from zero-padded planes, ``dx = col2im(w.T @ g)``;
- strided, undilated, kernel at least the stride (``_phased.py``): the padded image split into
  ``sh*sw`` phase planes, on which every tap reads a stride-1 window, so the wide rows below apply;
- stride 1 with little horizontal padding (``_wide.py``): each im2col row is one contiguous copy,
  at the price of ``Wp - Wo`` discarded columns per output row; the input gradient is then itself
  a stride-1 convolution of the padded output gradient with the flipped, channel-transposed kernel;
- 3x3, stride 1, at least ``WINOGRAD_MIN_CHANNELS`` channels: Winograd's F(4x4, 3x3)
  (``_winograd4.py``; F(3x3, 4x4) for the weight gradient), 36 smaller GEMMs instead of one,
  4x fewer multiply-adds; on outputs too small for 4x4 tiles F(2x2, 3x3) (``_winograd.py``,
  16 GEMMs, 2.25x fewer);
- 1x1, stride 1, no padding: the input planes already are the GEMM operand.

Each gradient picks its path independently by the measured rules below. Slabs hold about
``im2col.SLAB_BYTES`` of columns, so they stay in cache between the copy and the GEMM; columns are
recomputed in backward rather than kept. 1-D convolution is the 2-D one with ``H = 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels import _memory
from chainrule.kernels._args import check_float, check_ndim
from chainrule.kernels._parallel import Once
from chainrule.kernels._phased import phase_geometry, phased_conv, phased_conv_backward
from chainrule.kernels._strided import strided_conv, strided_conv_backward
from chainrule.kernels._wide import wide_conv, wide_conv_dw
from chainrule.kernels._winograd import winograd_conv, winograd_conv_dw, winograd_weights
from chainrule.kernels._winograd4 import winograd4_conv, winograd4_conv_dw, winograd4_weights
from chainrule.kernels.im2col import conv_geometry
from chainrule.kernels.pointwise import relu_inplace

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]

__all__ = ["conv2d_forward", "conv2d_backward", "conv1d_forward", "conv1d_backward"]

# Stride-1 convolutions take the wide-row path when it computes at most WIDE_MAX_WASTE times the
# needed outputs (measured per core: the wide rows win below about 1.15, the general path above);
# WIDE_ROWS = False sends everything down the general path (a switch for tests and benchmarks).
WIDE_ROWS = True
WIDE_MAX_WASTE = 1.15
# 3x3 stride-1 undilated convolutions whose input and output channels per group both reach
# WINOGRAD_MIN_CHANNELS run all three passes by Winograd (measured per core: F(2x2) was 10-20%
# faster than im2col at 32 and 64 channels and slower at 16); the input gradient only when the
# input has at most WINOGRAD_DX_MAX_GROWTH times the output's pixels ('valid' convolutions,
# 2 threads, general path against Winograd, ms: 32-64 26->24 11.6/10.3, 32-32 28->26 8.9/7.6,
# 64-64 26->24 21.2/17.6, 32-32 16->14 5.6/4.6, 64-64 12->10 8.7/6.7; but 32-32 10->8
# 2.2/2.6, growth 1.56). The weight gradient runs
# by F(3x3, 4x4) from WINOGRAD4_DW_MIN_CHANNELS (16-16 @32x32, per core: forward by F(4x4)
# 14.0 ms against 13.5 by the wide rows, weight gradient 12.7 against 16.0).
WINOGRAD_MIN_CHANNELS = 32
WINOGRAD_DX_MAX_GROWTH = 1.5
WINOGRAD4_DW_MIN_CHANNELS = 16
# F(4x4, 3x3) replaces F(2x2, 3x3) when its 4x4 tiles need at most WINOGRAD4_MAX_WORK times
# the GEMM multiplies of F(2x2)'s 2x2 tiles (both pad the output to whole tiles). Measured per
# core, forward / weight gradient, F(4x4) against F(2x2), ms: 32-32 @16x16 8.7/7.5 against
# 10.8/11.0, 64-64 @8x8 6.7/5.7 against 9.1/9.5, 32-64 @24x24 16.0/13.3 against 17.6/18.3 (all
# at ratio 0.5625, the value for any size that 4 divides; the threshold between is not measured).
WINOGRAD4_MAX_WORK = 0.85


def _check_conv(x: Any, w: Any, groups: int, where: str) -> None:
    check_ndim(x, 4, "N, C, H, W", where)
    check_ndim(w, 4, "C_out, C_in/groups, kh, kw", where)
    check_float(x, where, "input")
    check_float(w, where, "weight")
    if x.dtype != w.dtype:
        raise TypeError(f"{where}: input dtype {x.dtype} differs from weight dtype {w.dtype}.")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}.")
    Co, Cg = w.shape[:2]
    C = x.shape[1]
    if C % groups or Co % groups:
        raise ValueError(
            f"{where}: groups={groups} must divide in_channels={C} and out_channels={Co}."
        )
    if Cg * groups != C:
        raise ValueError(
            f"{where}: weight {tuple(w.shape)} expects {Cg * groups} input channels "
            f"(groups={groups}), got input of shape {tuple(x.shape)}."
        )


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    relu: bool = False,
) -> np.ndarray:
    """2-D cross-correlation ``y[n, o] = b[o] + sum_{c,i,j} w[o, c, i, j] x[n, c, s*h + d*i, ...]``.

    Args:
        x: input ``(N, C, H, W)``, float32 or float64, NCHW.
        w: weight ``(C_out, C/groups, kh, kw)``.
        b: bias ``(C_out,)`` or None.
        stride: int or (sh, sw).
        padding: int, (ph, pw) or (top, bottom, left, right) zeros; 'same' is the caller's job.
        dilation: int or (dh, dw).
        groups: number of channel groups; both channel counts must be divisible by it.
        relu: return ``max(y, 0)``, applied by each slab worker to the slab it has just written
            (while it is in cache) instead of in a pass of its own.

    Returns:
        ``y`` of shape ``(N, C_out, Ho, Wo)`` in the dtype of ``x``.
    """
    where = "conv2d"
    _check_conv(x, w, groups, where)
    Co, Cg, kh, kw = w.shape
    st, pd, dl, Ho, Wo = conv_geometry(x.shape, kh, kw, stride, padding, dilation, where)
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    bias = np.zeros(Co, x.dtype) if b is None else np.ascontiguousarray(b, dtype=x.dtype)
    if bias.shape != (Co,):
        raise ValueError(f"{where}: bias must have shape ({Co},), got {tuple(bias.shape)}.")
    w = np.ascontiguousarray(w)
    wg = w.reshape(groups, Co // groups, Cg * kh * kw)
    y = _memory.empty((N, Co, Ho, Wo), x.dtype)
    if _pointwise(kh, kw, st, pd):
        x4 = x.reshape(N, groups, C // groups, H * W)
        np.matmul(wg, x4, out=y.reshape(N, groups, Co // groups, H * W))
        y += bias[:, None, None]
        if relu:
            relu_inplace(y)
    elif _winograd_pays(kh, kw, st, dl, Cg, Co // groups):
        _winograd(x, _winograd_weights(w, groups, Ho, Wo), bias, pd, y, relu)
    elif st == (1, 1) and _wide_pays(W + pd[2] + pd[3], Wo):
        wide_conv(x, wg, bias, pd, dl, kh, kw, y, relu)
    elif _phased_pays(kh, kw, st, dl, Ho, Wo):
        phased_conv(x, wg, bias, st, pd, kh, kw, y, relu)
    else:
        strided_conv(x, wg, bias, st, pd, dl, kh, kw, y, relu)
    return y


def _pointwise(kh: int, kw: int, st: Pair, pd: Pad4) -> bool:
    """A 1x1 kernel, stride 1, no padding: the input planes already are the GEMM operand."""
    return kh == kw == 1 and st == (1, 1) and pd == (0, 0, 0, 0)


def _wide_pays(wide_width: int, width: int) -> bool:
    """Whether computing ``wide_width`` columns per row for ``width`` useful ones is worth it."""
    return WIDE_ROWS and wide_width <= WIDE_MAX_WASTE * width


def _phased_pays(kh: int, kw: int, st: Pair, dl: Pair, Ho: int, Wo: int) -> bool:
    """Whether a strided convolution should run by wide rows over phase planes (``_phased.py``).

    Only where every phase plane is read (kernel at least the stride) and the wide rows waste at
    most ``WIDE_MAX_WASTE``; measured on the ResNet-20 stride-2 3x3 layers, 2 threads: forward
    5.2 -> 4.6 and 4.2 -> 3.7 ms, backward 11.5 -> 9.8 and 8.1 -> 7.8 ms against im2col.
    """
    if not WIDE_ROWS or st == (1, 1) or dl != (1, 1) or kh < st[0] or kw < st[1]:
        return False
    return _wide_pays(phase_geometry(kh, kw, st, Ho, Wo)[1], Wo)


def _winograd_pays(kh: int, kw: int, st: Pair, dl: Pair, c_in: int, c_out: int) -> bool:
    """Whether a convolution with these per-group channel counts should run by Winograd."""
    square = kh == kw == 3 and st == (1, 1) and dl == (1, 1)
    return square and min(c_in, c_out) >= WINOGRAD_MIN_CHANNELS


def _winograd_dw_tile(
    kh: int, kw: int, st: Pair, dl: Pair, c_in: int, c_out: int, Ho: int, Wo: int
) -> int:
    """Output tile (4 or 2) of the Winograd weight gradient that pays here, 0 if none does."""
    if _winograd_pays(kh, kw, st, dl, c_in, c_out):
        return 4 if _four_by_four(Ho, Wo) else 2
    square = kh == kw == 3 and st == (1, 1) and dl == (1, 1)
    if square and min(c_in, c_out) >= WINOGRAD4_DW_MIN_CHANNELS and _four_by_four(Ho, Wo):
        return 4
    return 0


def _four_by_four(Ho: int, Wo: int) -> bool:
    """Whether F(4x4, 3x3) computes an ``Ho x Wo`` output with few enough multiplies."""
    f4 = 36 * ((Ho + 3) // 4) * ((Wo + 3) // 4)
    f2 = 16 * ((Ho + 1) // 2) * ((Wo + 1) // 2)
    return f4 <= WINOGRAD4_MAX_WORK * f2


def _winograd_weights(w: np.ndarray, groups: int, Ho: int, Wo: int, flip: bool = False) -> Once:
    """The transformed 3x3 kernels for an ``Ho x Wo`` output, made by the first slab needing them.

    ``flip`` transforms ``_flipped_transposed(w)`` instead: the kernels of the input gradient.
    """
    Co, Cg = w.shape[:2]
    if flip:
        Co, Cg = Cg * groups, Co // groups

    def kernels() -> np.ndarray:
        return _flipped_transposed(w, groups).reshape(Co, Cg, 3, 3) if flip else w

    if _four_by_four(Ho, Wo):
        return Once(lambda: winograd4_weights(kernels(), groups), (36, groups, Co // groups, Cg))
    return Once(lambda: winograd_weights(kernels(), groups), (16, groups, Co // groups, Cg))


def _winograd(
    src: np.ndarray,
    u: Once,
    bias: np.ndarray,
    pad: Pad4,
    out: np.ndarray,
    relu: bool = False,
    tasks: tuple = (),
) -> None:
    """The Winograd convolution of ``src`` into ``out`` by the kernels of ``_winograd_weights``."""
    if u.shape[0] == 36:
        winograd4_conv(src, u, bias, pad, out, relu, tasks)
    else:
        winograd_conv(src, u, bias, pad, out, relu, tasks)


def _flipped_transposed(w: np.ndarray, groups: int) -> np.ndarray:
    """Weight of the convolution that maps output gradients to input gradients (stride 1).

    ``w'[g, c, o, i, j] = w[g*Cog + o, c, kh-1-i, kw-1-j]``, as ``(groups, C/groups, Cog*kh*kw)``.
    """
    Co, Cg, kh, kw = w.shape
    w5 = w.reshape(groups, Co // groups, Cg, kh, kw)[:, :, :, ::-1, ::-1]
    return np.ascontiguousarray(w5.transpose(0, 2, 1, 3, 4)).reshape(groups, Cg, -1)


def conv2d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    need_dx: bool = True,
    need_dw: bool = True,
    need_db: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of ``conv2d_forward`` with respect to input, weight and bias.

    Args:
        grad_out: ``(N, C_out, Ho, Wo)``, gradient of the loss with respect to ``y``.
        x: the forward input ``(N, C, H, W)``.
        w: the forward weight ``(C_out, C/groups, kh, kw)``.
        stride: as in the forward call.
        padding: as in the forward call.
        dilation: as in the forward call.
        groups: as in the forward call.
        need_dx: compute the input gradient (skip it for a network's first layer).
        need_dw: compute the weight gradient.
        need_db: compute the bias gradient.

    Returns:
        ``(dx, dw, db)`` shaped like ``x``, ``w`` and ``(C_out,)``; None where not needed.
        With ``need_dw=False`` the values of ``x`` are never read, only its shape and dtype
        (``conv_transpose2d`` relies on this).
    """
    where = "conv2d_backward"
    _check_conv(x, w, groups, where)
    Co, Cg, kh, kw = w.shape
    st, pd, dl, Ho, Wo = conv_geometry(x.shape, kh, kw, stride, padding, dilation, where)
    N, C, H, W = x.shape
    if tuple(grad_out.shape) != (N, Co, Ho, Wo):
        raise ValueError(
            f"{where}: expected grad_out of shape {(N, Co, Ho, Wo)}, got {tuple(grad_out.shape)}."
        )
    x = np.ascontiguousarray(x)
    g = np.ascontiguousarray(grad_out, dtype=x.dtype)
    w = np.ascontiguousarray(w)
    wg = w.reshape(groups, Co // groups, Cg * kh * kw)
    dw = np.empty_like(wg) if need_dw else None
    db = np.zeros(Co, dtype=np.float64)
    dx = _memory.empty_like(x) if need_dx else None
    if N == 0:  # an empty batch: zero gradients, and no slabs to run
        if need_dw:
            dw[...] = 0
        return (
            dx,
            (dw.reshape(w.shape) if need_dw else None),
            (db.astype(x.dtype) if need_db else None),
        )
    # stride 1: dx is the correlation of g, padded by the kernel's reach minus the padding, with
    # the flipped, channel-transposed kernel; this needs that padding to be non-negative
    reach = (dl[0] * (kh - 1), dl[0] * (kh - 1), dl[1] * (kw - 1), dl[1] * (kw - 1))
    back_pad = tuple(r - p for r, p in zip(reach, pd, strict=True))
    if _pointwise(kh, kw, st, pd):
        # y[n] = w @ x[n] per group: dx[n] = w.T @ g[n], dw = sum_n g[n] @ x[n].T
        x4 = x.reshape(N, groups, C // groups, H * W)
        g4 = g.reshape(N, groups, Co // groups, H * W)
        if need_dw:
            np.sum(np.matmul(g4, x4.transpose(0, 1, 3, 2)), axis=0, out=dw)
        if need_dx:
            np.matmul(wg.transpose(0, 2, 1), g4, out=dx.reshape(x4.shape))
        if need_db:
            db[:] = g.sum(axis=(0, 2, 3), dtype=np.float64)
    else:
        # each gradient takes its faster path; both general ones share one pass
        dw_tile = _winograd_dw_tile(kh, kw, st, dl, Cg, Co // groups, Ho, Wo) if need_dw else 0
        wino_dw = dw_tile > 0
        wide_dw = need_dw and not wino_dw and st == (1, 1) and _wide_pays(W + pd[2] + pd[3], Wo)
        wide_dx = need_dx and st == (1, 1) and min(back_pad) >= 0
        wide_dx = wide_dx and _wide_pays(H * (W + back_pad[2] + back_pad[3]), Ho * Wo)
        wino_dx = need_dx and min(back_pad) >= 0 and H * W <= WINOGRAD_DX_MAX_GROWTH * Ho * Wo
        wino_dx = wino_dx and _winograd_pays(kh, kw, st, dl, Co // groups, Cg)
        wide_dx = wide_dx and not wino_dx
        # serial work overlaps the slabs of another pass: the input gradient's kernel transform
        # runs beside the weight gradient's slabs, the weight gradient's final reduction beside
        # the input gradient's slabs
        u_dx = _winograd_weights(w, groups, H, W, flip=True) if wino_dx else None
        dw_tasks = (u_dx,) if u_dx is not None else ()
        finish = None
        if dw_tile == 4 and not need_db:
            # inside a backward pass the weight gradient may go to the background entirely
            # (nothing reads it before the walk ends; the bias gradient would be read below)
            dw4 = dw.reshape(w.shape)
            winograd4_conv_dw(g, x, dw4, db, pd, dw_tasks, background=True)
        elif dw_tile == 4:
            defer = wide_dx or wino_dx
            finish = winograd4_conv_dw(g, x, dw.reshape(w.shape), db, pd, dw_tasks, defer)
        elif dw_tile == 2:
            winograd_conv_dw(g, x, dw.reshape(w.shape), db, pd)
        if wide_dw:
            wide_conv_dw(g, x, dw, db, pd, dl, kh, kw)
        dx_tasks = (finish,) if finish is not None else ()
        if wide_dx:
            wf = _flipped_transposed(w, groups)
            wide_conv(g, wf, np.zeros(C, x.dtype), back_pad, dl, kh, kw, dx, tasks=dx_tasks)
        if wino_dx:
            _winograd(g, u_dx, np.zeros(C, x.dtype), back_pad, dx, tasks=dx_tasks)
        own_db = wide_dw or wino_dw  # these passes sum db themselves
        general_dw = dw if (need_dw and not own_db) else None
        general_dx = dx if (need_dx and not (wide_dx or wino_dx)) else None
        if general_dw is not None or general_dx is not None:
            scratch_db = db if not own_db else np.zeros_like(db)
            if _phased_pays(kh, kw, st, dl, Ho, Wo):
                phased_conv_backward(g, x, wg, st, pd, kh, kw, general_dx, general_dw, scratch_db)
            else:
                args = (st, pd, dl, kh, kw, general_dx, general_dw, scratch_db)
                strided_conv_backward(g, x, wg, *args)
        elif need_db and not own_db:
            db[:] = g.sum(axis=(0, 2, 3), dtype=np.float64)
    dw_out = dw.reshape(w.shape) if need_dw else None
    db_out = db.astype(x.dtype) if need_db else None
    return dx, dw_out, db_out


def _single(value: Any, name: str, where: str) -> int:
    """An int or a 1-sequence of ints (a 1-D stride or dilation) as an int."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (int, np.integer)):
        raise ValueError(f"{where}: {name} must be an int, got {value!r}.")
    return int(value)


def _as_2d_args(stride: Any, padding: Any, dilation: Any, where: str) -> tuple[Any, Any, Any]:
    """1-D stride/padding/dilation as the 2-D arguments of a height-1 convolution."""
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        left, right = int(padding[0]), int(padding[1])
    else:
        left = right = _single(padding, "padding (an int or (left, right))", where)
    s = _single(stride, "stride", where)
    d = _single(dilation, "dilation", where)
    return (1, s), (0, 0, left, right), (1, d)


def conv1d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """1-D cross-correlation on ``(N, C, L)`` with weight ``(C_out, C/groups, k)``.

    Runs ``conv2d_forward`` with height 1; ``padding`` is an int or ``(left, right)``.

    Returns:
        ``y`` of shape ``(N, C_out, L_out)``.
    """
    check_ndim(x, 3, "N, C, L", "conv1d")
    check_ndim(w, 3, "C_out, C_in/groups, k", "conv1d")
    st, pd, dl = _as_2d_args(stride, padding, dilation, "conv1d")
    y = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, st, pd, dl, groups)
    return y[:, :, 0, :]


def conv1d_backward(
    grad_out: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    need_dx: bool = True,
    need_dw: bool = True,
    need_db: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of ``conv1d_forward``: ``(dx (N, C, L), dw (C_out, C/groups, k), db (C_out,))``."""
    check_ndim(x, 3, "N, C, L", "conv1d_backward")
    check_ndim(w, 3, "C_out, C_in/groups, k", "conv1d_backward")
    check_ndim(grad_out, 3, "N, C_out, L_out", "conv1d_backward")
    st, pd, dl = _as_2d_args(stride, padding, dilation, "conv1d_backward")
    dx, dw, db = conv2d_backward(
        grad_out[:, :, None, :],
        x[:, :, None, :],
        w[:, :, None, :],
        st,
        pd,
        dl,
        groups,
        need_dx,
        need_dw,
        need_db,
    )
    return (
        None if dx is None else dx[:, :, 0, :],
        None if dw is None else dw[:, :, 0, :],
        db,
    )
