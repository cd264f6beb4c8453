"""An ONNX graph under construction, and what one op's converter sees of it.

The graph is kept in plain Python (nodes as tuples, initializers as NumPy arrays) so that the
converters need no ``onnx`` import; ``to_model`` turns it into an ``onnx.ModelProto`` at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BatchShapes", "Graph", "OpContext", "ValueSpec", "to_model"]


@dataclass
class _Node:
    op_type: str
    inputs: list[str]
    outputs: list[str]
    name: str
    attrs: dict[str, Any]


@dataclass
class ValueSpec:
    """A graph input or output: its name, dtype and shape (a str entry is a symbolic dimension)."""

    name: str
    dtype: np.dtype
    shape: tuple[int | str | None, ...]


@dataclass
class Graph:
    """Nodes in execution order, initializers by name, and unique value names."""

    opset: int
    nodes: list[_Node] = field(default_factory=list)
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    _taken: set[str] = field(default_factory=set)
    _constants: dict[tuple[str, tuple[int, ...], bytes], str] = field(default_factory=dict)

    def fresh(self, hint: str) -> str:
        """A value name not used yet: ``hint``, else ``hint_1``, ``hint_2`` ..."""
        name, k = hint, 0
        while name in self._taken:
            k += 1
            name = f"{hint}_{k}"
        self._taken.add(name)
        return name

    def reserve(self, name: str) -> None:
        """Mark ``name`` (a graph input or output) as taken."""
        self._taken.add(name)

    def node(
        self, op_type: str, inputs: Sequence[str], outputs: Sequence[str], **attrs: Any
    ) -> None:
        """Append a node; it is named after its first output."""
        self.nodes.append(_Node(op_type, list(inputs), list(outputs), outputs[0], attrs))

    def initializer(self, name: str, array: Any) -> str:
        """Store ``array`` under ``name`` (a parameter's state_dict name) once; return the name."""
        if name not in self.initializers:
            self._taken.add(name)
            self.initializers[name] = np.ascontiguousarray(array)
        return name

    def constant(self, array: Any, hint: str = "const") -> str:
        """A constant as an initializer; equal constants share one."""
        arr = np.ascontiguousarray(array)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._constants:
            name = self.fresh(hint)
            self.initializers[name] = arr
            self._constants[key] = name
        return self._constants[key]


class BatchShapes:
    """Shapes that follow the batch size at run time.

    With a dynamic batch the model was traced at batch sizes ``b1`` and ``b2``; a dimension that
    differs between the traces is ``m * batch + c``, computed from the first graph input's shape.

    Args:
        graph: the graph to add nodes to.
        batch: makes (once) and returns the batch size as a 1-element int64 value; None when the
            export is static.
        b1: batch size of the first trace.
        b2: batch size of the second trace.
    """

    def __init__(self, graph: Graph, batch: Callable[[], str] | None, b1: int, b2: int) -> None:
        self.graph, self.batch, self.b1, self.b2 = graph, batch, b1, b2

    def ints(self, values: Sequence[int]) -> str:
        return self.graph.constant(np.asarray([int(v) for v in values], dtype=np.int64), "ints")

    def dim(self, d1: int, d2: int, who: str) -> str:
        """A 1-element int64 tensor of a dimension that is ``d1`` and ``d2`` in the two traces."""
        if d1 == d2:
            return self.ints([d1])
        step = self.b2 - self.b1
        if self.batch is None or step == 0:
            raise RuntimeError(f"export_onnx: {who} needs the batch size, but it is static.")
        if (d2 - d1) % step:
            raise RuntimeError(
                f"export_onnx: {who} has a dimension that is {d1} at batch {self.b1} and {d2} at "
                f"batch {self.b2}; it is not a multiple of the batch size. Export with "
                "dynamic_batch=False."
            )
        m = (d2 - d1) // step
        c = d1 - m * self.b1
        value = self.batch()
        if m != 1:
            scaled = self.graph.fresh("batch_x")
            self.graph.node("Mul", [value, self.ints([m])], [scaled])
            value = scaled
        if c:
            shifted = self.graph.fresh("batch_plus")
            self.graph.node("Add", [value, self.ints([c])], [shifted])
            value = shifted
        return value

    def shape(self, s1: Sequence[int], s2: Sequence[int], who: str) -> str:
        """A 1-D int64 shape that is ``s1`` and ``s2`` in the two traces."""
        if tuple(s1) == tuple(s2):
            return self.ints(s1)
        pieces = []
        static: list[int] = []
        for d1, d2 in zip(s1, s2, strict=True):
            if d1 == d2:
                static.append(d1)
                continue
            if static:
                pieces.append(self.ints(static))
                static = []
            pieces.append(self.dim(d1, d2, who))
        if static:
            pieces.append(self.ints(static))
        if len(pieces) == 1:
            return pieces[0]
        joined = self.graph.fresh("shape")
        self.graph.node("Concat", pieces, [joined], axis=0)
        return joined


class OpContext:
    """What a converter sees of one recorded op, and how it adds nodes for it.

    With a dynamic batch the model was traced at two batch sizes; ``shape2``/``params2`` give the
    second trace, so a dimension or parameter that differs between the traces scales with the batch.

    Attributes:
        name: the op's name (``Linear``).
        scope: dotted path of the module that ran it.
        inputs: ONNX value names, one per positional input (``""`` for a None input).
        in_shapes / in_shapes2: the input shapes in the two traces (``()`` for numbers).
        params / params2: keyword parameters in the two traces (the same dict when static).
        out: the value name to write the result to.
        out_shape / out_shape2 / out_dtype: the result's shape in both traces and its dtype.
        graph: the graph being built; ``opset``: its opset.
        derived: the ``Derived`` registry of the export (see ``derived.py``).
    """

    def __init__(
        self,
        graph: Graph,
        name: str,
        scope: str,
        inputs: list[str],
        in_shapes: tuple[tuple[int, ...], tuple[tuple[int, ...], ...]],
        params: tuple[dict[str, Any], dict[str, Any]],
        out: str,
        out_shapes: tuple[tuple[int, ...], tuple[int, ...]],
        out_dtype: np.dtype,
        shapes: BatchShapes,
        param_value: Callable[[str], str] | None = None,
        derived: Any = None,
    ) -> None:
        self.graph = graph
        self.opset = graph.opset
        self.name, self.scope = name, scope
        self.inputs = inputs
        self.in_shapes, self.in_shapes2 = in_shapes
        self.params, self.params2 = params
        self.out = out
        self.out_shape, self.out_shape2 = out_shapes
        self.out_dtype = out_dtype
        self.shapes = shapes
        self.b1, self.b2 = shapes.b1, shapes.b2
        self._param_value = param_value
        self.derived = derived  # a Derived: converters record facts that rebuild later arrays

    # ----------------------------------------------------------------- inputs and shapes
    def x(self, i: int) -> str:
        """The value name of positional input ``i`` (``""`` when absent)."""
        return self.inputs[i] if i < len(self.inputs) else ""

    def shape(self, i: int) -> tuple[int, ...]:
        """Shape of input ``i`` in the first trace."""
        return self.in_shapes[i]

    def varying(self, i: int | None = None) -> set[int]:
        """Axes of input ``i`` (of the output when None) whose size scales with the batch."""
        if i is None:
            a, b = self.out_shape, self.out_shape2
        else:
            a, b = self.in_shapes[i], self.in_shapes2[i]
        return {k for k, (m, n) in enumerate(zip(a, b, strict=False)) if m != n}

    def param_value(self, key: str) -> str:
        """The graph value of keyword parameter ``key`` (declared in ``value_params``).

        An array that an earlier op produced, or a graph input's, is that value; any other array
        becomes a constant.
        """
        if self._param_value is None:
            raise RuntimeError(f"export_onnx: {self.name} has no value parameters.")
        return self._param_value(key)

    # ----------------------------------------------------------------- emitting
    def tmp(self, hint: str) -> str:
        """A fresh name for an intermediate value of this op."""
        return self.graph.fresh(f"{self.out}/{hint}")

    def node(
        self, op_type: str, inputs: Sequence[str], out: str | None = None, **attrs: Any
    ) -> str:
        """Add one node; returns its output (a fresh name unless ``out`` is given)."""
        target = out if out is not None else self.tmp(op_type)
        self.graph.node(op_type, inputs, [target], **attrs)
        return target

    def result(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        """Add the node that writes this op's output."""
        return self.node(op_type, inputs, self.out, **attrs)

    def const(self, value: Any, dtype: Any = None) -> str:
        """A constant (the output's dtype unless ``dtype`` is given)."""
        return self.graph.constant(np.asarray(value, dtype=dtype or self.out_dtype))

    def ints(self, values: Sequence[int]) -> str:
        """A 1-D int64 constant (axes, shapes, pads)."""
        return self.graph.constant(np.asarray([int(v) for v in values], dtype=np.int64), "ints")

    def dim(self, d1: int, d2: int) -> str:
        """A 1-element int64 tensor of a dimension that is ``d1`` and ``d2`` in the two traces."""
        return self.shapes.dim(d1, d2, self.name)

    def shape_tensor(self, s1: Sequence[int], s2: Sequence[int]) -> str:
        """A 1-D int64 shape that is ``s1``/``s2`` in the two traces (dynamic where they differ)."""
        return self.shapes.shape(s1, s2, self.name)

    def reduce(
        self,
        op_type: str,
        x: str,
        axes: Sequence[int] | None,
        keepdims: bool,
        out: str | None = None,
    ) -> str:
        """A ``Reduce*`` node; axes as an input from opset 18 (ReduceSum: 13), else an attribute.

        ``axes=None`` reduces over every axis.
        """
        attrs: dict[str, Any] = {"keepdims": int(bool(keepdims))}
        if axes is None:
            return self.node(op_type, [x], out, **attrs)
        if self.opset >= 18 or op_type == "ReduceSum":
            return self.node(op_type, [x, self.ints(axes)], out, **attrs)
        return self.node(op_type, [x], out, axes=[int(a) for a in axes], **attrs)

    def fail(self, why: str) -> RuntimeError:
        """An error naming this op and its module, for a case the converter cannot express."""
        where = f" in module '{self.scope}'" if self.scope else ""
        return NotImplementedError(f"export_onnx: {self.name}{where}: {why}")


def to_model(
    graph: Graph,
    inputs: Sequence[ValueSpec],
    outputs: Sequence[ValueSpec],
    graph_name: str,
    producer_version: str,
) -> Any:
    """The ``onnx.ModelProto`` of ``graph``; initializers no node reads are dropped."""
    import onnx
    from onnx import helper, numpy_helper

    used = {name for node in graph.nodes for name in node.inputs}
    initializers = [
        numpy_helper.from_array(arr, name)
        for name, arr in graph.initializers.items()
        if name in used
    ]
    nodes = [
        helper.make_node(n.op_type, n.inputs, n.outputs, name=n.name, **n.attrs)
        for n in graph.nodes
    ]
    proto = helper.make_graph(
        nodes,
        graph_name,
        [_value_info(v) for v in inputs],
        [_value_info(v) for v in outputs],
        initializer=initializers,
    )
    opset = helper.make_opsetid("", graph.opset)
    model = helper.make_model(
        proto,
        opset_imports=[opset],
        producer_name="chainrule",
        producer_version=producer_version,
    )
    model.ir_version = helper.find_min_ir_version_for([opset], ignore_unknown=True)
    onnx.checker.check_model(model)
    return model


def _value_info(spec: ValueSpec) -> Any:
    from onnx import helper

    elem = helper.np_dtype_to_tensor_dtype(np.dtype(spec.dtype))
    return helper.make_tensor_value_info(spec.name, elem, list(spec.shape))
