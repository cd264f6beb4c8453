"""Turn two traces of one model into an ONNX ``Graph``: names, constants, batch-following shapes.

Every recorded op's inputs are resolved to graph values: the outputs of earlier ops and the graph
inputs by identity, parameters and buffers as initializers named by their ``state_dict`` names,
and anything else as a constant -- after checking, against the second trace, that it really is
one (see ``derived`` for arrays that were computed from graph values outside autograd).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...nn import Module
from ...tensor import Tensor
from .derived import Derived
from .graph import BatchShapes, Graph, OpContext, ValueSpec
from .registry import get_converter, handles_batch_params, supported_ops, value_params
from .tracer import Call, Trace

__all__ = ["Builder", "to_numpy"]


def to_numpy(arr: Any) -> np.ndarray:
    return arr.get() if hasattr(arr, "get") and not isinstance(arr, np.ndarray) else arr


def _same(a: Any, b: Any) -> bool:
    """Structural equality of op parameters (arrays, slices, nested tuples, dicts)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b, strict=True))
    if isinstance(a, slice) and isinstance(b, slice):
        return (a.start, a.stop, a.step) == (b.start, b.stop, b.step)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    if hasattr(a, "shape") or hasattr(b, "shape"):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(to_numpy(a), to_numpy(b)))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _shape(value: Any) -> tuple[int, ...]:
    if value is None or isinstance(value, (int, float, bool)):
        return ()
    return tuple(int(n) for n in np.shape(value.data if isinstance(value, Tensor) else value))


class Builder:
    """Turns two traces of one model into a ``Graph``."""

    def __init__(
        self,
        model: Module,
        first: Trace,
        second: Trace,
        opset: int,
        input_names: list[str],
        output_names: list[str],
        dynamic: bool,
    ) -> None:
        self.first, self.second = first, second
        self.dynamic = dynamic
        self.graph = Graph(opset)
        self.derived = Derived(self.graph)
        self.input_names, self.output_names = input_names, output_names
        self.params: dict[int, tuple[str, Any]] = {}
        members = [*model.named_parameters(), *model.named_buffers()]
        for name, t in members:
            self.params.setdefault(id(t), (name, t.data))
            self.params.setdefault(id(t.data), (name, t.data))
        self.names1: dict[int, str] = {}
        self.names2: dict[int, str] = {}
        self.arrays1: dict[int, str] = {}  # id(tensor.data) -> name, for value parameters
        self.arrays2: dict[int, str] = {}
        for name, t1, t2 in zip(input_names, first.inputs, second.inputs, strict=True):
            self.graph.reserve(name)
            self._name(t1, t2, name)
        for name in output_names:
            self.graph.reserve(name)
        self.b1 = first.inputs[0].shape[0] if first.inputs[0].ndim else 1
        self.b2 = second.inputs[0].shape[0] if second.inputs[0].ndim else 1
        self._batch_value: str | None = None
        self.shapes = BatchShapes(self.graph, self._batch if dynamic else None, self.b1, self.b2)

    # ----------------------------------------------------------------- the whole graph
    def build(self) -> Graph:
        self._check_structure()
        preset = self._output_slots()
        for k, call in enumerate(self.first.calls):
            call2 = self.second.calls[k]
            convert = get_converter(call.name)
            if convert is None:
                where = f" (in module '{call.scope}')" if call.scope else ""
                raise NotImplementedError(
                    f"export_onnx: no ONNX converter for op {call.name}{where}; supported ops: "
                    f"{', '.join(supported_ops())}."
                )
            self._check_params(call, call2)
            out = preset.get(k) or self.graph.fresh(
                f"{call.scope}/{call.name}" if call.scope else call.name
            )
            ctx = self._context(call, call2, out)
            convert(ctx)
            self._name(call.output, call2.output, out)
        self._finish_outputs(preset)
        return self.graph

    def _name(self, t1: Tensor, t2: Tensor, name: str) -> None:
        self.names1[id(t1)] = name
        self.names2[id(t2)] = name
        self.arrays1[id(t1.data)] = name
        self.arrays2[id(t2.data)] = name
        self.derived.add(name, t1.data, t2.data)

    def _check_structure(self) -> None:
        a, b = self.first, self.second
        if len(a.outputs) != len(b.outputs):
            raise self._diverged("it returns a different number of outputs")
        for k, (c1, c2) in enumerate(zip(a.calls, b.calls, strict=False)):
            if c1.fn is not c2.fn or len(c1.inputs) != len(c2.inputs):
                raise self._diverged(f"op {k} is {c1.name} at one and {c2.name} at the other")
            if c1.output.ndim != c2.output.ndim or (
                not self.dynamic and c1.output.shape != c2.output.shape
            ):
                raise self._diverged(
                    f"op {k} ({c1.name} in '{c1.scope}') gives shapes {c1.output.shape} and "
                    f"{c2.output.shape}"
                )
        if len(a.calls) != len(b.calls):
            raise self._diverged(
                f"it runs {len(a.calls)} ops at one and {len(b.calls)} at the other"
            )

    def _diverged(self, what: str) -> RuntimeError:
        if self.dynamic:
            runs = f"between batch sizes {self.b1} and {self.b2}"
            fix = "export with dynamic_batch=False (fixed shapes) or make the forward uniform"
        else:
            runs = "between two example inputs of the same shape"
            fix = "make the forward independent of the input's values"
        return RuntimeError(
            f"export_onnx: the model's forward differs {runs}: {what}. A traced graph cannot "
            f"follow shape- or value-dependent control flow; {fix}."
        )

    def _check_params(self, c1: Call, c2: Call) -> None:
        values = value_params(c1.name)
        keys = [
            k
            for k in c1.params
            if k not in values and not _same(c1.params.get(k), c2.params.get(k))
        ]
        if not keys or (self.dynamic and handles_batch_params(c1.name)):
            return
        if not self.dynamic:
            raise self._diverged(f"the parameters {', '.join(keys)} of {c1.name} change")
        raise RuntimeError(
            f"export_onnx: {c1.name} in '{c1.scope}' has parameters that change with the batch "
            f"size ({', '.join(keys)}); this op cannot take them from the input at run time. "
            "Export with dynamic_batch=False."
        )

    def _output_slots(self) -> dict[int, str]:
        """Call index -> graph output name, for outputs that a call produced directly."""
        producer = {id(c.output): k for k, c in enumerate(self.first.calls)}
        slots: dict[int, str] = {}
        for name, out in zip(self.output_names, self.first.outputs, strict=True):
            k = producer.get(id(out)) if isinstance(out, Tensor) else None
            if k is not None and k not in slots:
                slots[k] = name
        return slots

    def _finish_outputs(self, preset: dict[int, str]) -> None:
        done = set(preset.values())
        outputs = zip(self.output_names, self.first.outputs, self.second.outputs, strict=True)
        for i, (name, out1, out2) in enumerate(outputs):
            if name in done:
                continue
            if not isinstance(out1, Tensor):
                raise TypeError(
                    f"export_onnx: model output {i} is a {type(out1).__name__}, not a Tensor."
                )
            source = self._input("the model's outputs", i, out1, out2, out1.data.dtype)
            self.graph.node("Identity", [source], [name])

    # ----------------------------------------------------------------- one op
    def _context(self, c1: Call, c2: Call, out: str) -> OpContext:
        dtype = np.dtype(c1.output.data.dtype)
        names = []
        shapes1 = []
        shapes2 = []
        where = f"{c1.name} in '{c1.scope}'" if c1.scope else c1.name
        for j, (v1, v2) in enumerate(zip(c1.inputs, c2.inputs, strict=True)):
            names.append(self._input(where, j, v1, v2, dtype))
            shapes1.append(_shape(v1))
            shapes2.append(_shape(v2))
        return OpContext(
            self.graph,
            c1.name,
            c1.scope,
            names,
            (tuple(shapes1), tuple(shapes2)),
            (c1.params, c2.params),
            out,
            (_shape(c1.output), _shape(c2.output)),
            dtype,
            self.shapes,
            lambda key: self._param_value(c1, c2, key),
            self.derived,
        )

    def _param_value(self, c1: Call, c2: Call, key: str) -> str:
        a1, a2 = c1.params.get(key), c2.params.get(key)
        where = f"{c1.name} in '{c1.scope}'" if c1.scope else c1.name
        name = self.arrays1.get(id(a1))
        if name is not None:
            if self.arrays2.get(id(a2)) != name:
                raise self._diverged(f"parameter {key} of {where} comes from different places")
            return name
        if a1 is None:
            return ""
        param = self.params.get(id(a1))
        other = self.params.get(id(a2))
        if param is not None and other is not None and param[0] == other[0]:
            return self.graph.initializer(param[0], to_numpy(param[1]))
        derived = self.derived.resolve(a1, a2)
        if derived is not None:
            return derived
        return self._constant(where, key, to_numpy(np.asarray(a1)), to_numpy(np.asarray(a2)))

    def _source(self, v: Any, names: dict[int, str]) -> tuple[str, Any]:
        if v is None:
            return ("none", None)
        if isinstance(v, Tensor):
            if id(v) in names:
                return ("value", names[id(v)])
            param = self.params.get(id(v)) or self.params.get(id(v.data))
            if param is not None:
                return ("param", param)
            return ("const", v.data)
        if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, np.generic):
            param = self.params.get(id(v))
            return ("param", param) if param is not None else ("const", v)
        if isinstance(v, (int, float, bool, np.generic)):
            return ("scalar", v)
        raise TypeError(
            f"export_onnx: an op got an input of type {type(v).__name__}, which is not a tensor, "
            "array or number."
        )

    def _input(self, where: str, j: int, v1: Any, v2: Any, dtype: np.dtype) -> str:
        """The graph value of input ``j`` of an op (``where``), ``v1``/``v2`` in the traces."""
        kind, s1 = self._source(v1, self.names1)
        kind2, s2 = self._source(v2, self.names2)
        if kind != kind2 or (kind == "value" and s1 != s2):
            raise self._diverged(f"input {j} of {where} comes from different places")
        if kind == "value":
            return str(s1)
        if kind == "param":
            return self.graph.initializer(s1[0], to_numpy(s1[1]))
        if kind == "none":
            return ""
        if kind == "scalar":
            if not _same(s1, s2) and not self.dynamic:
                raise self._diverged(f"input {j} of {where} is the number {s1} once, {s2} once")
            if not _same(s1, s2):
                raise RuntimeError(
                    f"export_onnx: input {j} of {where} is the number {s1} at batch size "
                    f"{self.b1} and {s2} at {self.b2}: it is computed from the batch size in "
                    "Python, which a traced graph cannot follow. Use a tensor op instead, or "
                    "export with dynamic_batch=False."
                )
            return self.graph.constant(np.asarray(s1, dtype=dtype))
        derived = self.derived.resolve(to_numpy(s1), to_numpy(s2))
        if derived is not None:
            return derived
        return self._constant(where, j, to_numpy(s1), to_numpy(s2))

    def _constant(self, where: str, j: int | str, a1: np.ndarray, a2: np.ndarray) -> str:
        what = f"input {j}" if isinstance(j, int) else f"parameter {j}"
        if a1.shape == a2.shape:
            if not np.array_equal(a1, a2, equal_nan=a1.dtype.kind in "fc"):
                raise RuntimeError(
                    f"export_onnx: {what} of {where} is a tensor computed from the model's "
                    "input outside autograd (its values change with the input), so it cannot be "
                    "stored as a constant. Compute it with chainrule ops, or detach it into a "
                    "buffer."
                )
            return self.graph.constant(a1)
        uniform = (
            a1.size > 0
            and a2.size > 0
            and a1.ndim == a2.ndim
            and bool((a1 == a1.flat[0]).all())
            and bool((a2 == a1.flat[0]).all())
        )
        if not uniform:
            raise RuntimeError(
                f"export_onnx: {what} of {where} is an array of shape {a1.shape} at batch "
                f"size {self.b1} and {a2.shape} at {self.b2}, made outside autograd; only arrays "
                "filled with one value (zeros, ones) can follow the batch size at run time."
            )
        from onnx import numpy_helper

        shape = self.shapes.shape(a1.shape, a2.shape, where)
        filled = self.graph.fresh("filled")
        value = numpy_helper.from_array(np.asarray([a1.flat[0]], dtype=a1.dtype))
        self.graph.node("ConstantOfShape", [shape], [filled], value=value)
        return filled

    def _batch(self) -> str:
        """The batch size as a 1-element int64 tensor, read from the first input's shape."""
        if self._batch_value is None:
            self._batch_value = self.graph.fresh("batch_size")
            self.graph.node("Shape", [self.input_names[0]], [self._batch_value], start=0, end=1)
        return self._batch_value

    # ----------------------------------------------------------------- graph inputs and outputs
    def _spec(self, name: str, t1: Tensor, t2: Tensor) -> ValueSpec:
        dims: list[int | str | None] = []
        for d1, d2 in zip(_shape(t1), _shape(t2), strict=True):
            if d1 == d2:
                dims.append(d1)
            elif (d1, d2) == (self.b1, self.b2):
                dims.append("batch")
            else:
                dims.append(None)
        return ValueSpec(name, np.dtype(t1.data.dtype), tuple(dims))

    def input_specs(self) -> list[ValueSpec]:
        pairs = zip(self.input_names, self.first.inputs, self.second.inputs, strict=True)
        return [self._spec(n, a, b) for n, a, b in pairs]

    def output_specs(self) -> list[ValueSpec]:
        pairs = zip(self.output_names, self.first.outputs, self.second.outputs, strict=True)
        return [self._spec(n, a, b) for n, a, b in pairs]
