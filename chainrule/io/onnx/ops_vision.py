"""ONNX converters for convolution, pooling, batch normalisation and dropout.

chainrule's paddings are ``(top, bottom, left, right)`` (2-D) or ``(left, right)`` (1-D); ONNX wants
all the beginnings, then all the ends. Batch norm is exported as it runs in eval mode: an affine map
per channel with the running statistics (initializers named ``*.running_mean``/``*.running_var``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .graph import OpContext
from .registry import converter

__all__: list[str] = []

_MIN = int(np.iinfo(np.int64).min)


def _pair(value: Any) -> list[int]:
    if isinstance(value, (tuple, list)):
        return [int(v) for v in value]
    return [int(value), int(value)]


@converter("Conv2d")
def _conv2d(c: OpContext) -> None:
    p = c.params
    top, bottom, left, right = (int(v) for v in p.get("padding", (0, 0, 0, 0)))
    w = c.x(1)
    if p.get("flip", False):
        # the true convolution: the kernel rotated by 180 degrees
        w = c.node("Slice", [w, c.ints([-1, -1]), c.ints([_MIN, _MIN]), c.ints([2, 3]),
                             c.ints([-1, -1])])  # fmt: skip
    inputs = [c.x(0), w] + ([c.x(2)] if c.x(2) else [])
    relu = bool(p.get("relu", False))  # F.conv2d(relu=True): a Relu node after the Conv
    conv = c.node(
        "Conv",
        inputs,
        c.out if not relu else None,
        kernel_shape=list(c.shape(1)[2:]),
        strides=_pair(p.get("stride", 1)),
        pads=[top, left, bottom, right],
        dilations=_pair(p.get("dilation", 1)),
        group=int(p.get("groups", 1)),
    )
    if relu:
        c.result("Relu", [conv])


@converter("Conv1d")
def _conv1d(c: OpContext) -> None:
    p = c.params
    left, right = (int(v) for v in p.get("padding", (0, 0)))
    inputs = [c.x(0), c.x(1)] + ([c.x(2)] if c.x(2) else [])
    c.result(
        "Conv",
        inputs,
        kernel_shape=[int(c.shape(1)[2])],
        strides=[int(p.get("stride", 1))],
        pads=[left, right],
        dilations=[int(p.get("dilation", 1))],
        group=int(p.get("groups", 1)),
    )


@converter("ConvTranspose2d")
def _conv_transpose2d(c: OpContext) -> None:
    p = c.params
    top, bottom, left, right = (int(v) for v in p["padding"])
    stride, dilation = _pair(p.get("stride", 1)), _pair(p.get("dilation", 1))
    kernel = list(c.shape(1)[2:])
    extra = []
    for axis in range(2):
        reach = dilation[axis] * (kernel[axis] - 1) + 1
        pads = (top + bottom) if axis == 0 else (left + right)
        core = (c.shape(0)[2 + axis] - 1) * stride[axis] + reach - pads
        extra.append(int(p["out_size"][axis]) - core)
    inputs = [c.x(0), c.x(1)] + ([c.x(2)] if c.x(2) else [])
    c.result(
        "ConvTranspose",
        inputs,
        kernel_shape=kernel,
        strides=stride,
        pads=[top, left, bottom, right],
        dilations=dilation,
        group=int(p.get("groups", 1)),
        output_padding=extra,
    )


@converter("MaxPool2d", "MaxPool1d")
def _max_pool(c: OpContext) -> None:
    p = c.params
    dims = 2 if c.name == "MaxPool2d" else 1
    kernel, stride = _n(p["kernel_size"], dims), _n(p["stride"], dims)
    padding, dilation = _n(p.get("padding", 0), dims), _n(p.get("dilation", 1), dims)
    c.result(
        "MaxPool",
        [c.x(0)],
        kernel_shape=kernel,
        strides=stride,
        pads=padding + padding,
        dilations=dilation,
        ceil_mode=int(bool(p.get("ceil_mode", False))),
    )


def _n(value: Any, dims: int) -> list[int]:
    if isinstance(value, (tuple, list)):
        return [int(v) for v in value]
    return [int(value)] * dims


@converter("AvgPool2d", "AvgPool1d")
def _avg_pool(c: OpContext) -> None:
    dims = 2 if c.name == "AvgPool2d" else 1
    args = tuple(c.params["args"])
    kernel, stride, padding = (_n(a, dims) for a in args[:3])
    ceil_mode, include_pad = bool(args[3]), bool(args[4])
    override = args[5] if len(args) > 5 else None
    if override and ceil_mode:
        raise c.fail("divisor_override with ceil_mode is not supported.")
    attrs = {
        "kernel_shape": kernel,
        "strides": stride,
        "pads": padding + padding,
        "ceil_mode": int(ceil_mode),
        "count_include_pad": int(include_pad or bool(override)),
    }
    if not override:
        c.result("AveragePool", [c.x(0)], **attrs)
        return
    # every window is divided by the kernel area here; rescale to divide by the override
    mean = c.node("AveragePool", [c.x(0)], **attrs)
    c.result("Mul", [mean, c.const(math.prod(kernel) / float(override))])


@converter("AdaptiveAvgPool2d", "AdaptiveAvgPool1d")
def _adaptive_avg_pool(c: OpContext) -> None:
    dims = 2 if c.name == "AdaptiveAvgPool2d" else 1
    sizes = _n(c.params.get("output_size", 1), dims)
    spatial = list(c.shape(0)[2:])
    if c.varying(0) - {0}:
        raise c.fail("only the batch dimension may vary.")
    if all(s == 1 for s in sizes):
        c.result("GlobalAveragePool", [c.x(0)])
        return
    if all(n % s == 0 for n, s in zip(spatial, sizes, strict=True)):
        kernel = [n // s for n, s in zip(spatial, sizes, strict=True)]
        c.result("AveragePool", [c.x(0)], kernel_shape=kernel, strides=kernel)
        return
    # uneven bins floor(i n / s) .. ceil((i + 1) n / s): average axis by axis (the mean over a
    # rectangle is the mean over its rows of the mean over its columns)
    y = c.x(0)
    for k, (n, s) in enumerate(zip(spatial, sizes, strict=True)):
        axis = 2 + k
        last = k == dims - 1
        if n == s:
            if last:
                c.result("Identity", [y])
            continue
        y = _bins(c, y, axis, n, s, out=c.out if last else None)


def _bins(c: OpContext, x: str, axis: int, n: int, s: int, out: str | None) -> str:
    pieces = []
    for i in range(s):
        lo, hi = (i * n) // s, -((-(i + 1) * n) // s)
        part = c.node("Slice", [x, c.ints([lo]), c.ints([hi]), c.ints([axis])])
        pieces.append(c.reduce("ReduceMean", part, [axis], keepdims=True))
    return c.node("Concat", pieces, out=out, axis=axis)


@converter("BatchNorm", value_params=("running_mean", "running_var"))
def _batch_norm(c: OpContext) -> None:
    if c.params.get("training", False):
        raise c.fail(
            "batch norm in training mode (batch statistics) cannot be exported; the exporter "
            "runs the model in eval mode, so pass training=self.training to F.batch_norm."
        )
    channels = c.shape(0)[1]
    scale = c.x(1) or c.const(np.ones(channels))
    shift = c.x(2) or c.const(np.zeros(channels))
    mean, var = c.param_value("running_mean"), c.param_value("running_var")
    relu = bool(c.params.get("relu", False))  # F.batch_norm(relu=True): a Relu node after it
    residual = c.x(3) or None  # F.batch_norm(residual=r): an Add node before that
    eps = float(c.params.get("eps", 1e-5))
    inputs = [c.x(0), scale, shift, mean, var]
    last = not relu and residual is None
    norm = c.node("BatchNormalization", inputs, c.out if last else None, epsilon=eps)
    if residual is not None:
        norm = c.node("Add", [norm, residual], c.out if not relu else None)
    if relu:
        c.result("Relu", [norm])


@converter("Dropout", value_params=("mask",))
def _dropout(c: OpContext) -> None:
    raise c.fail(
        "dropout ran in training mode (a random mask). nn.Dropout is the identity in eval mode, "
        "which the exporter uses; a functional call needs training=self.training."
    )
