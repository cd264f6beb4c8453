"""``export_onnx``: trace a model's forward pass and write it as an ONNX graph.

The model runs in eval mode under ``no_grad`` while ``chainrule.autograd`` reports every op to a
recorder; each recorded op becomes one or a few ONNX nodes. Parameters and buffers become
initializers named by their ``state_dict`` names; other arrays become constant initializers.

With ``dynamic_batch`` the model is traced twice, at the example's batch size ``b`` and at
``b + 1``. Anything that differs between the two traces scales with the batch: those dimensions
become symbolic, shape parameters (a reshape's target) are rewritten to follow the input's batch
at run time, and anything that cannot (a number computed from the batch size, a tensor made from
the input outside autograd) is reported instead of silently frozen.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...backend import get_array_module
from ...nn import Module
from ...tensor import Tensor
from . import ops_math, ops_shape, ops_text, ops_vision  # noqa: F401  (registers converters)
from .builder import Builder, to_numpy
from .graph import to_model
from .tracer import trace

__all__ = ["export_onnx", "MIN_OPSET"]

MIN_OPSET = 17


def export_onnx(
    model: Module,
    example_input: Any,
    path: str | os.PathLike[str] | None,
    opset: int = 17,
    input_names: Sequence[str] = ("input",),
    output_names: Sequence[str] = ("output",),
    dynamic_batch: bool = True,
) -> Any:
    """Export ``model`` to an ONNX file by tracing one forward pass on ``example_input``.

    Args:
        model: the module to export; it runs in eval mode (its modes are restored afterwards).
        example_input: a Tensor or array, or a tuple of them for a model with several inputs. Its
            first dimension is the batch.
        path: the ``.onnx`` file to write (atomically); None writes nothing.
        opset: the ONNX opset, 17 or newer.
        input_names: names of the graph inputs, one per example input.
        output_names: names of the graph outputs, one per model output (a model that returns a
            tuple has several).
        dynamic_batch: make the first dimension of inputs and outputs symbolic (``batch``), so the
            file accepts any batch size. Otherwise every shape is the example's.

    Returns:
        The ``onnx.ModelProto`` that was written (it passed ``onnx.checker.check_model``).

    Raises:
        NotImplementedError: an op has no ONNX converter (the message lists the supported ones) or
            a case of a supported op that ONNX cannot express.
        RuntimeError: the forward pass cannot be traced into a static graph (it changes with the
            batch size or is computed outside autograd); or ``onnx`` is not installed.

    Example:
        >>> model = cr.models.build("mlp", hidden=(32,))
        >>> proto = export_onnx(model, cr.randn(1, 1, 28, 28), None)  # or a path to write
        >>> [i.name for i in proto.graph.input]
        ['input']
    """
    _require_onnx()
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < MIN_OPSET:
        raise ValueError(f"export_onnx: opset must be an int >= {MIN_OPSET}, got {opset!r}.")
    from onnx import defs

    if opset > defs.onnx_opset_version():
        raise ValueError(
            f"export_onnx: opset {opset} is newer than the installed onnx package supports "
            f"({defs.onnx_opset_version()})."
        )
    if not isinstance(model, Module):
        raise TypeError(f"export_onnx: model must be a chainrule nn.Module, got {type(model)}.")
    inputs = _as_inputs(example_input)
    model, inputs = _on_cpu(model, inputs)
    in_names = _names(input_names, len(inputs), "input_names", ("input",))
    if dynamic_batch:
        _check_batch(inputs)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        first = trace(model, inputs)
        second = trace(model, _second_inputs(inputs, dynamic_batch))
    finally:
        for module, mode in modes:
            module.train(mode)
    out_names = _names(output_names, len(first.outputs), "output_names", ("output",))
    builder = Builder(model, first, second, opset, in_names, out_names, dynamic_batch)
    graph = builder.build()
    proto = to_model(
        graph,
        builder.input_specs(),
        builder.output_specs(),
        type(model).__name__,
        _version(),
    )
    if path is not None:
        _save(proto, Path(path))
    return proto


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
    except ImportError as err:
        raise RuntimeError(
            "export_onnx needs the 'onnx' package: pip install 'chainrule[onnx]' (or pip install "
            "onnx onnxruntime)."
        ) from err


def _version() -> str:
    from ... import __version__

    return str(__version__)


def _save(proto: Any, path: Path) -> None:
    """Write to a temporary file beside ``path`` and rename it: no half-written file remains."""
    import onnx

    tmp = path.with_name(f".{path.name}.tmp")
    try:
        onnx.save_model(proto, str(tmp))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _as_inputs(example: Any) -> tuple[Tensor, ...]:
    items = example if isinstance(example, (tuple, list)) else (example,)
    if not items:
        raise ValueError("export_onnx: example_input is empty; give at least one tensor.")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, Tensor):
            out.append(item)
        elif isinstance(item, np.ndarray):
            out.append(Tensor(item))
        else:
            raise TypeError(
                f"export_onnx: example input {i} must be a Tensor or a NumPy array, got "
                f"{type(item).__name__}."
            )
    return tuple(out)


def _on_cpu(model: Module, inputs: tuple[Tensor, ...]) -> tuple[Module, tuple[Tensor, ...]]:
    """A CPU copy of a model (and inputs) that lives on the GPU; CPU models are used as they are."""
    arrays = [t.data for t in (*model.parameters(), *model.buffers(), *inputs)]
    if all(isinstance(a, (np.ndarray, np.generic)) for a in arrays):
        return model, inputs
    moved = copy.deepcopy(model).cpu()
    return moved, tuple(Tensor._make(to_numpy(t.data)) for t in inputs)


def _names(given: Sequence[str], count: int, what: str, default: tuple[str, ...]) -> list[str]:
    names = [given] if isinstance(given, str) else list(given)
    if len(names) == count:
        return names
    if tuple(names) == default:
        return [f"{default[0]}_{i}" for i in range(count)]
    raise ValueError(f"export_onnx: {what} has {len(names)} names, but the model has {count}.")


def _check_batch(inputs: Sequence[Tensor]) -> None:
    batch = inputs[0].shape[0] if inputs[0].ndim else None
    for i, t in enumerate(inputs):
        if t.ndim == 0 or t.shape[0] != batch:
            raise ValueError(
                f"export_onnx: with dynamic_batch every input needs the batch as its first "
                f"dimension of the same size; input {i} has shape {t.shape} (input 0: "
                f"{inputs[0].shape}). Pass dynamic_batch=False to export fixed shapes."
            )
    if batch == 0:
        raise ValueError("export_onnx: the example input has batch size 0; give at least one row.")


def _second_inputs(inputs: Sequence[Tensor], grow: bool) -> tuple[Tensor, ...]:
    """Inputs for the second trace: rows rotated (one more with ``grow``), floats perturbed.

    The perturbation makes any tensor that was computed from the input outside autograd differ
    between the two traces, so the exporter can refuse to freeze it as a constant.
    """
    batch = inputs[0].shape[0] if inputs[0].ndim else 0
    rng = np.random.default_rng(0)
    if grow:
        rows = [i % batch for i in range(batch + 1)]
    elif batch:
        rows = [(i + 1) % batch for i in range(batch)]
    else:
        rows = None  # a 0-d input: only perturb it
    grown = []
    for t in inputs:
        arr = t.data
        xp = get_array_module(arr)  # the model may live on the GPU: stay on the input's device
        if rows is not None and arr.ndim and arr.shape[0] == batch:
            arr = arr[xp.asarray(rows)]
        if arr.dtype.kind == "f":
            arr = arr + xp.asarray(rng.standard_normal(arr.shape) * 1e-2).astype(arr.dtype)
        grown.append(Tensor._make(arr))
    return tuple(grown)
