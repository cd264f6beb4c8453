"""``summary(model, input_shape)``: a Keras-style table of layers, shapes, parameters and cost.

One forward pass of zeros (eval mode, no graph) runs with a forward hook on every leaf module — a
module without children, or one that owns parameters itself. Each call of a hooked module becomes
a row: its dotted name and type, its output shape, the parameters it owns (a shared parameter is
counted at its first use only) and its multiply-adds:

- ``Linear``: ``out_features * in_features`` per output row, i.e. ``output.size * in_features``;
- ``Conv1d``/``Conv2d``: each output value is a dot product over ``in_channels / groups * kh * kw``
  inputs, so ``output.size * in_channels / groups * kh * kw``;
- ``ConvTranspose2d``: each *input* value is spread over ``out_channels / groups * kh * kw``
  outputs, so ``input.size * out_channels / groups * kh * kw``;
- ``RNN``/``LSTM``/``GRU``: every time step and batch row multiplies through all the layer's
  ``weight_ih`` and ``weight_hh`` matrices;
- ``BatchNorm``: one multiply-add per output value (``y = a * x + b`` once folded);
- everything else (activations, pooling, dropout, reshapes, embedding lookups): 0.

The totals count every parameter of the model once (trainable, i.e. ``requires_grad``, and not)
and the elements of its persistent buffers (running statistics), which are state but not
parameters.

Example:
    >>> text = summary(cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU()), (4,), verbose=False)
    >>> print(text.splitlines()[-5])
    Total params: 15
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import nn
from .autograd import no_grad
from .tensor import Tensor

__all__ = ["summary", "summarize", "ModelSummary", "LayerRow", "count_mult_adds"]


@dataclass
class LayerRow:
    """One call of a leaf module during the summary's forward pass."""

    name: str
    kind: str
    output_shape: Any
    params: int
    mult_adds: int


@dataclass
class ModelSummary:
    """The rows and totals of ``summarize``; ``str()`` gives the table."""

    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    buffer_elements: int = 0
    param_bytes: int = 0
    input_shapes: list[tuple[int, ...]] = field(default_factory=list)
    model_name: str = ""

    @property
    def non_trainable_params(self) -> int:
        """Parameters with ``requires_grad=False``."""
        return self.total_params - self.trainable_params

    @property
    def total_mult_adds(self) -> int:
        """Multiply-adds of one forward pass over the summary's batch."""
        return sum(r.mult_adds for r in self.rows)

    def __str__(self) -> str:
        header = ("Layer (type)", "Output Shape", "Param #", "Mult-Adds")
        body = [
            (
                f"{r.name} ({r.kind})",
                _format_shape(r.output_shape),
                f"{r.params:,}",
                _si(r.mult_adds),
            )
            for r in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]
        width = sum(widths) + 3 * 3

        def line(cells: Sequence[str]) -> str:
            left = cells[0].ljust(widths[0])
            rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
            return "   ".join([left, *rest])

        shapes = ", ".join(str(s) for s in self.input_shapes)
        out = [
            f'Model: "{self.model_name}"   input: {shapes}',
            "=" * width,
            line(header),
            "=" * width,
        ]
        out += [line(cells) for cells in body]
        out += [
            "=" * width,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Buffers (not parameters): {self.buffer_elements:,} values",
            f"Total mult-adds: {_si(self.total_mult_adds)} ({self.total_mult_adds:,})",
        ]
        out.append(f"Parameter memory: {self.param_bytes / 2**20:.2f} MiB")
        out.append("-" * width)
        return "\n".join(out)


def _si(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def _format_shape(shape: Any) -> str:
    if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
        return str(shape)
    if isinstance(shape, (list, tuple)):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(shape)


def _shape_of(value: Any) -> Any:
    """Shapes of a forward output: a tuple for a tensor, nested lists for tuples of tensors."""
    if hasattr(value, "shape") and not isinstance(value, (list, tuple)):
        return tuple(int(d) for d in value.shape)
    if isinstance(value, (list, tuple)):
        return [_shape_of(v) for v in value]
    return type(value).__name__


def _size(value: Any) -> int:
    shape = getattr(value, "shape", None)
    return 0 if shape is None else int(math.prod(shape))


def count_mult_adds(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> int:
    """Multiply-adds of one call of ``module`` (the rules of this module's docstring)."""
    if isinstance(module, nn.Linear):
        return _size(output) * module.in_features
    if isinstance(module, nn.ConvTranspose2d):
        return _size(inputs[0]) * int(math.prod(module.weight.shape[1:]))
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return _size(output) * int(math.prod(module.weight.shape[1:]))
    if isinstance(module, nn.RNNBase):
        x = inputs[0] if inputs else None
        shape = getattr(x, "shape", ())
        rows = int(shape[0] * shape[1]) if len(shape) == 3 else int(shape[0]) if shape else 0
        weights = sum(
            p.numel() for n, p in module.named_parameters(recurse=False) if n.startswith("weight_")
        )
        return rows * weights
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return _size(output)
    return 0


def _is_leaf(module: nn.Module) -> bool:
    has_children = any(True for _ in module.children())
    return not has_children or any(True for _ in module.parameters(recurse=False))


def _dummy_inputs(
    input_shape: Sequence[int] | Sequence[Sequence[int]], batch_size: int, dtype: Any
) -> list[np.ndarray]:
    shapes = input_shape if input_shape and isinstance(input_shape[0], Sequence) else [input_shape]
    out = []
    for shape in shapes:
        dims = tuple(int(d) for d in shape)  # type: ignore[union-attr]
        if any(d <= 0 for d in dims):
            raise ValueError(f"summary: input_shape must hold positive sizes, got {dims}.")
        out.append(np.zeros((batch_size, *dims), dtype=np.dtype(dtype)))
    return out


def summarize(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    batch_size: int = 1,
    dtype: Any = "float32",
) -> ModelSummary:
    """Run one forward pass of zeros and collect the layer rows and totals.

    Args:
        model: the module to describe.
        input_shape: shape of one example without the batch axis, e.g. ``(1, 28, 28)``; a list
            of shapes for a model with several inputs.
        batch_size: examples in the forward pass; mult-adds are for the whole batch. Default: 1.
        dtype: dtype of the zero inputs (``"int64"`` for token ids). Default: ``"float32"``.

    Returns:
        A ``ModelSummary``; the model's train/eval flags and random state are left unchanged.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary: expected an nn.Module, got {type(model).__name__}.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"summary: batch_size must be a positive int, got {batch_size!r}.")
    inputs = _dummy_inputs(input_shape, batch_size, dtype)
    result = ModelSummary(
        input_shapes=[tuple(x.shape) for x in inputs], model_name=type(model).__name__
    )
    counted: set[int] = set()

    def make_hook(name: str):  # noqa: ANN202
        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            own = 0
            for p in module.parameters(recurse=False):
                if id(p) not in counted:
                    counted.add(id(p))
                    own += p.numel()
            kind = type(module).__name__
            shape = _shape_of(output)
            result.rows.append(
                LayerRow(name, kind, shape, own, count_mult_adds(module, args, output))
            )

        return hook

    modes = {id(m): m.training for m in model.modules()}
    handles = [
        module.register_forward_hook(make_hook(name or type(module).__name__))
        for name, module in model.named_modules()
        if _is_leaf(module)
    ]
    try:
        model.eval()
        with no_grad():
            model(*[Tensor(x) for x in inputs])
    finally:
        for handle in handles:
            handle.remove()
        for m in model.modules():
            m.training = modes.get(id(m), m.training)
    params = list(model.parameters())
    result.total_params = sum(p.numel() for p in params)
    result.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    result.param_bytes = sum(p.numel() * np.dtype(p.dtype).itemsize for p in params)
    result.buffer_elements = sum(b.numel() for b in model.buffers())
    return result


def summary(
    model: nn.Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    batch_size: int = 1,
    dtype: Any = "float32",
    verbose: bool = True,
) -> str:
    """A Keras-style table of each layer's output shape, parameter count and multiply-adds.

    Args:
        model: the module to describe.
        input_shape: shape of one example without the batch axis, e.g. ``(3, 32, 32)``.
        batch_size: examples in the forward pass (mult-adds are for the whole batch). Default: 1.
        dtype: dtype of the zero inputs (``"int64"`` for token ids). Default: ``"float32"``.
        verbose: also print the table. Default: True.

    Returns:
        The table as text.

    Example:
        >>> from chainrule.models import build
        >>> text = summary(build("resnet20"), (3, 32, 32), verbose=False)
        >>> [line for line in text.splitlines() if line.startswith("Total params")]
        ['Total params: 269,722']
    """
    text = str(summarize(model, input_shape, batch_size=batch_size, dtype=dtype))
    if verbose:
        print(text)
    return text
