"""ONNX converters for arithmetic, activations, reductions and matrix products."""

from __future__ import annotations

import math

from .graph import OpContext
from .registry import converter

__all__: list[str] = []

_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
           "Maximum": "Max", "Minimum": "Min"}  # fmt: skip
_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs",
          "Sigmoid": "Sigmoid", "Tanh": "Tanh", "ReLU": "Relu"}  # fmt: skip


def _binary(c: OpContext) -> None:
    c.result(_BINARY[c.name], [c.x(0), c.x(1)])


def _unary(c: OpContext) -> None:
    c.result(_UNARY[c.name], [c.x(0)])


for _name in _BINARY:
    converter(_name)(_binary)
for _name in _UNARY:
    converter(_name)(_unary)


@converter("AddReLU")
def _add_relu(c: OpContext) -> None:
    total = c.node("Add", [c.x(0), c.x(1)])
    c.result("Relu", [total])


@converter("Clone", "ToDevice")
def _identity(c: OpContext) -> None:
    c.result("Identity", [c.x(0)])


@converter("Cast")
def _cast(c: OpContext) -> None:
    from onnx import helper

    c.result("Cast", [c.x(0)], to=helper.np_dtype_to_tensor_dtype(c.out_dtype))


@converter("Where")
def _where(c: OpContext) -> None:
    c.result("Where", [c.x(0), c.x(1), c.x(2)])


@converter("Clip")
def _clip(c: OpContext) -> None:
    lo, hi = c.params.get("lo"), c.params.get("hi")
    scalar = all(b is None or getattr(b, "ndim", 0) == 0 for b in (lo, hi))
    if scalar:
        bounds = ["" if b is None else c.const(b) for b in (lo, hi)]
        c.result("Clip", [c.x(0), *bounds])
        return
    y = c.x(0)  # array bounds broadcast: ONNX Clip takes scalars only
    if lo is not None:
        y = c.node("Max", [y, c.const(lo)], out=c.out if hi is None else None)
    if hi is not None:
        c.result("Min", [y, c.const(hi)])


@converter("LeakyReLU")
def _leaky_relu(c: OpContext) -> None:
    c.result("LeakyRelu", [c.x(0)], alpha=float(c.params.get("slope", 0.01)))


@converter("ELU")
def _elu(c: OpContext) -> None:
    c.result("Elu", [c.x(0)], alpha=float(c.params.get("alpha", 1.0)))


@converter("Softplus")
def _softplus(c: OpContext) -> None:
    beta = float(c.params.get("beta", 1.0))
    threshold = float(c.params.get("threshold", 20.0))
    x = c.x(0)
    z = x if beta == 1.0 else c.node("Mul", [x, c.const(beta)])
    y = c.node("Softplus", [z])
    if beta != 1.0:
        y = c.node("Div", [y, c.const(beta)])
    # like chainrule (and PyTorch), return x itself where beta x exceeds the threshold
    above = c.node("Greater", [z, c.const(threshold)])
    c.result("Where", [above, x, y])


@converter("GELU")
def _gelu(c: OpContext) -> None:
    x = c.x(0)
    approximate = c.params.get("approximate", "none")
    if c.opset >= 20:
        c.result("Gelu", [x], approximate=approximate)
        return
    if approximate == "tanh":
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = c.node("Mul", [c.node("Mul", [x, x]), x])
        inner = c.node("Add", [x, c.node("Mul", [cube, c.const(0.044715)])])
        s = c.node("Tanh", [c.node("Mul", [inner, c.const(math.sqrt(2 / math.pi))])])
    else:
        # 0.5 x (1 + erf(x / sqrt 2))
        s = c.node("Erf", [c.node("Div", [x, c.const(math.sqrt(2.0))])])
    half_x = c.node("Mul", [x, c.const(0.5)])
    c.result("Mul", [half_x, c.node("Add", [s, c.const(1.0)])])


@converter("Softmax")
def _softmax(c: OpContext) -> None:
    c.result("Softmax", [c.x(0)], axis=int(c.params.get("axis", -1)))


@converter("LogSoftmax")
def _log_softmax(c: OpContext) -> None:
    c.result("LogSoftmax", [c.x(0)], axis=int(c.params.get("axis", -1)))


_REDUCE = {"Sum": "ReduceSum", "Mean": "ReduceMean", "Max": "ReduceMax", "Min": "ReduceMin",
           "LogSumExp": "ReduceLogSumExp"}  # fmt: skip


@converter(*_REDUCE)
def _reduce(c: OpContext) -> None:
    axes = c.params.get("axes")
    keepdims = int(bool(c.params.get("keepdims", False)))
    if axes is not None and len(axes) == 0:
        c.result("Identity", [c.x(0)])  # reducing over no axis changes nothing
        return
    if axes is not None:
        axes = [int(a) for a in axes]
    c.reduce(_REDUCE[c.name], c.x(0), axes, bool(keepdims), out=c.out)


@converter("MatMul")
def _matmul(c: OpContext) -> None:
    c.result("MatMul", [c.x(0), c.x(1)])


@converter("Linear")
def _linear(c: OpContext) -> None:
    x, w, b = c.x(0), c.x(1), c.x(2)
    if len(c.shape(0)) == 2:
        c.result("Gemm", [x, w, b] if b else [x, w], transB=1)
        return
    wt = c.node("Transpose", [w], perm=[1, 0])
    if not b:
        c.result("MatMul", [x, wt])
        return
    c.result("Add", [c.node("MatMul", [x, wt]), b])
