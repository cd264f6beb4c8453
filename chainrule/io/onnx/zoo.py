"""Export a model of the zoo by name, with an example input of its natural shape.

The example's shape comes from, in order: the model's own ``example_input_shape`` attribute (a
model may define one, e.g. ``(1, 3, 32, 32)``), a table of the zoo's models, or a probe that runs
the model on the usual shapes (MNIST images, CIFAR images, flat vectors, token ids) and keeps the
first it accepts.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ...autograd import no_grad
from ...nn import Module
from ...tensor import Tensor
from .exporter import export_onnx

__all__ = ["example_input", "example_shape", "export_zoo_model"]

_MNIST = ((1, 1, 28, 28), "float32")
_CIFAR = ((1, 3, 32, 32), "float32")
_TOKENS = ((1, 32), "int64")
_SHAPES: dict[str, tuple[tuple[int, ...], str]] = {
    "mlp": _MNIST,
    "mnist_cnn": _MNIST,
    "lenet5": _MNIST,
    "inception_small": _CIFAR,
    **{f"{kind}{depth}": _CIFAR for kind in ("resnet", "plain") for depth in (20, 32, 44, 56, 110)},
    "textcnn": _TOKENS,
    "lstm_lm": _TOKENS,
    "char_lstm": _TOKENS,
}

# tried in order when neither the model nor the table says
_PROBES: tuple[tuple[tuple[int, ...], str], ...] = (
    ((1, 1, 28, 28), "float32"),
    ((1, 3, 32, 32), "float32"),
    ((1, 784), "float32"),
    ((1, 1, 32, 32), "float32"),
    ((1, 32), "int64"),
)


def _make_example(shape: tuple[int, ...], dtype: str, batch_size: int) -> Tensor:
    """Seeded example data: standard normal floats, or ids 0 and 1 (0 is the usual padding id)."""
    rng = np.random.default_rng(0)  # a local generator: the package's RNG state is left alone
    full = (batch_size, *shape[1:])
    if dtype == "int64":
        return Tensor._make(rng.integers(0, 2, size=full).astype(np.int64))
    return Tensor._make(rng.standard_normal(full).astype(dtype))


def _accepts(model: Module, x: Tensor) -> bool:
    training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            model(x)
        return True
    except (ValueError, TypeError, IndexError, RuntimeError):
        return False
    finally:
        for module, mode in training:
            module.train(mode)


def example_shape(model: Module, name: str | None = None) -> tuple[tuple[int, ...], str] | None:
    """The natural example input of ``model`` as ``(shape with batch 1, dtype)``, or None.

    Args:
        model: the model.
        name: its zoo name, to look the shape up in the table (optional).

    Example:
        >>> example_shape(cr.models.build("mlp"))
        ((1, 1, 28, 28), 'float32')
    """
    own = getattr(model, "example_input_shape", None)
    if own is not None:
        dtype = str(getattr(model, "example_input_dtype", "float32"))
        return (1, *(int(n) for n in tuple(own)[1:])), dtype
    if name in _SHAPES:
        return _SHAPES[name]
    for shape, dtype in _PROBES:
        if _accepts(model, _make_example(shape, dtype, 1)):
            return shape, dtype
    return None


def example_input(model: Module, name: str | None = None, batch_size: int = 1) -> Tensor | None:
    """An example input of ``model``'s natural shape (see ``example_shape``), or None.

    Args:
        model: the model.
        name: its zoo name, to look the shape up in the table (optional).
        batch_size: size of the first dimension.

    Returns:
        A seeded random Tensor (float32 images or vectors, int64 token ids), or None.

    Example:
        >>> example_input(cr.models.build("mlp"), batch_size=2).shape
        (2, 1, 28, 28)
    """
    spec = example_shape(model, name)
    if spec is None:
        return None
    return _make_example(spec[0], spec[1], batch_size)


def export_zoo_model(
    name: str,
    path: str | os.PathLike[str] | None,
    model: Module | None = None,
    opset: int = 17,
    dynamic_batch: bool = True,
    **model_kwargs: Any,
) -> Any:
    """Build the zoo model ``name`` (or take ``model``, e.g. from a checkpoint) and export it.

    Args:
        name: the zoo name (``chainrule.models.available()``).
        path: the ``.onnx`` file to write; None writes nothing.
        model: an already built (trained) model of that kind; built fresh when None.
        opset: the ONNX opset, 17 or newer.
        dynamic_batch: a symbolic batch dimension (see ``export_onnx``).
        **model_kwargs: constructor options for ``chainrule.models.build``.

    Returns:
        The ``onnx.ModelProto``.

    Raises:
        ValueError: ``name`` is not in the zoo, or no example input shape is known for it.

    Example:
        >>> proto = export_zoo_model("mlp", None, hidden=(64,))  # or a path to write
        >>> proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
        'batch'
    """
    from ... import models

    if model is None:
        model = models.build(name, **model_kwargs)
    spec = example_shape(model, name)
    if spec is None:
        tried = ", ".join(f"{s} {d}" for s, d in _PROBES)
        raise ValueError(
            f"export_zoo_model: no example input is known for model {name!r} (tried {tried}). "
            "Give the model an example_input_shape attribute, or call export_onnx with an "
            "example input."
        )
    x = _make_example(spec[0], spec[1], 1)
    return export_onnx(model, x, path, opset=opset, dynamic_batch=dynamic_batch)
