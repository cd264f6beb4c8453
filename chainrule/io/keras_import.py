"""Import Keras weights (``.weights.h5`` of Keras 3, ``.h5`` of Keras 2) into Linear and Conv.

Reading needs h5py, the optional extra ``keras`` (``pip install 'chainrule[keras]'``). Two HDF5
layouts are understood:

* Keras 3 ``model.save_weights("m.weights.h5")``: ``layers/<name>/vars/0`` is the kernel and
  ``layers/<name>/vars/1`` the bias; nested models add ``layers/<name>/layers/<inner>/vars/...``
  (files of tf.keras 2.13 say ``_layer_checkpoint_dependencies`` instead of ``layers``). The
  ``<name>`` is not the layer's name but its class in snake case with a per-class counter:
  ``dense``, ``dense_1``, ..., ``conv2d``, ``conv2d_1``, in the model's order.
* Keras 2 / legacy ``.h5`` (``model.save`` or ``save_weights``): the attribute ``layer_names``
  (at the root, or on the group ``model_weights``) lists the layers in model order, each group's
  attribute ``weight_names`` lists its datasets, e.g. ``model_weights/dense/dense/kernel:0``.

Layouts differ from chainrule's (which is PyTorch's) and are converted:

* Dense kernel ``(in, out)`` -> ``Linear.weight`` ``(out, in)``: transposed.
* Conv2D kernel ``(kh, kw, in, out)`` -> ``Conv2d.weight`` ``(out, in, kh, kw)``; Conv1D
  ``(k, in, out)`` -> ``(out, in, k)``. Both are cross-correlations, as in PyTorch.
* A Linear layer that follows a convolution in the model reads a feature map that Keras
  flattened in ``(H, W, C)`` order and chainrule in ``(C, H, W)`` order; its kernel rows are
  permuted to match. The spatial size comes from ``flatten_shapes`` or is taken as square.

Layers are paired kind by kind, in order (the n-th Dense with the n-th Linear, the n-th Conv2D
with the n-th Conv2d), unless ``mapping`` names the pairs. Other Keras layers with weights
(BatchNormalization, Embedding, ...) are reported unused.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.module import Module
from ._report import ImportReport, finish_import, natural_key
from .errors import CheckpointError

__all__ = ["load_keras_weights", "read_keras_weights"]

_CALLER = "load_keras_weights"
_KERNEL_KINDS = {2: "dense", 3: "conv1d", 4: "conv2d"}
_KERAS3_NAME = re.compile(r"^(dense|conv1d|conv2d)(_\d+)?$")  # class name + per-class counter


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading Keras weights needs h5py, the optional extra 'keras': "
            "pip install 'chainrule[keras]' (or pip install h5py)."
        ) from None
    return h5py


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _legacy_layers(group: Any) -> dict[str, list[tuple[str, np.ndarray]]]:
    layers: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name in (_text(n) for n in group.attrs["layer_names"]):
        layer = group[name]
        weights = []
        for weight_name in (_text(w) for w in layer.attrs.get("weight_names", [])):
            short = weight_name.rsplit("/", 1)[-1].split(":", 1)[0]
            weights.append((short, np.asarray(layer[weight_name])))
        layers[name] = weights
    return layers


def _keras3_layers(group: Any, h5py: Any, prefix: str, out: dict[str, Any]) -> None:
    for key in sorted(group.keys(), key=natural_key):
        sub = group[key]
        if not isinstance(sub, h5py.Group):
            continue
        variables = sub.get("vars")
        if isinstance(variables, h5py.Group) and len(variables):
            order = sorted(variables.keys(), key=natural_key)
            out[prefix + key] = [(k, np.asarray(variables[k])) for k in order]
        for inner_name in ("layers", "_layer_checkpoint_dependencies"):
            inner = sub.get(inner_name)
            if isinstance(inner, h5py.Group):
                _keras3_layers(inner, h5py, f"{prefix}{key}/", out)


def _read(path: Path) -> tuple[dict[str, list[tuple[str, np.ndarray]]], str]:
    h5py = _h5py()
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file.")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise CheckpointError(f"{path}: not an HDF5 file ({err}).") from None
    with f:
        for top in ("layers", "_layer_checkpoint_dependencies"):
            if isinstance(f.get(top), h5py.Group):
                layers: dict[str, Any] = {}
                _keras3_layers(f[top], h5py, "", layers)
                return layers, "Keras 3 .weights.h5"
        if isinstance(f.get("model_weights"), h5py.Group):
            return _legacy_layers(f["model_weights"]), "legacy .h5 (model_weights)"
        if "layer_names" in f.attrs:
            return _legacy_layers(f), "legacy .h5"
        raise CheckpointError(
            f"{path}: not a Keras weights file: it has {sorted(f.keys()) or 'no groups'}, but "
            "neither 'layers' (Keras 3 .weights.h5), 'model_weights' (a model saved as .h5) nor "
            "the attribute 'layer_names' (save_weights to .h5)."
        )


def read_keras_weights(path: str | os.PathLike[str]) -> dict[str, list[np.ndarray]]:
    """The weight arrays of each layer of a Keras weights file, in layer order, unconverted.

    Raises:
        ImportError: h5py is not installed.
        CheckpointError: the file is missing, not HDF5, or not in a Keras layout.
    """
    layers, _ = _read(Path(path))
    return {name: [arr for _, arr in weights] for name, weights in layers.items() if weights}


def _kind(name: str, weights: list[tuple[str, np.ndarray]]) -> str | None:
    """``dense``/``conv1d``/``conv2d`` for a kernel (+ bias) layer, else None.

    Legacy files name the weights (``kernel``, ``bias``); Keras 3 files number them, but name
    the layer's group after its class.
    """
    names = [n for n, _ in weights]
    if not weights or len(weights) > 2 or names[0] not in ("kernel", "0"):
        return None
    kernel = weights[0][1]
    kind = _KERNEL_KINDS.get(kernel.ndim)
    if kind is None:
        return None
    if names[0] == "0":
        match = _KERAS3_NAME.match(name.rsplit("/", 1)[-1])
        if match is None or match.group(1) != kind:
            return None
    if len(weights) == 2:
        bias = weights[1][1]
        if names[1] not in ("bias", "1") or bias.shape != (kernel.shape[-1],):
            return None
    return kind


def _targets(model: Module) -> dict[str, tuple[str, Any]]:
    """Module path -> (kind, module) for the model's Linear, Conv1d and Conv2d layers."""
    out = {}
    for path, module in model.named_modules():
        weight = module._parameters.get("weight")
        if weight is None:
            continue
        if hasattr(module, "in_features") and weight.ndim == 2:
            out[path] = ("dense", module)
        elif hasattr(module, "in_channels") and weight.ndim in (3, 4):
            out[path] = ("conv1d" if weight.ndim == 3 else "conv2d", module)
    return out


def _spatial(
    kernel: np.ndarray,
    channels: int,
    prev_kind: str,
    target: str,
    flatten_shapes: Mapping[str, Any],
    report: ImportReport,
) -> tuple[int, ...] | None:
    """The (H, W) or (L,) of the feature map a Dense kernel reads flattened, or None if none."""
    n_in = kernel.shape[0]
    if target in flatten_shapes:
        given = flatten_shapes[target]
        if given is None:
            return None
        c, *spatial = (int(d) for d in given)
        if c * math.prod(spatial) != n_in:
            raise ValueError(
                f"{_CALLER}: flatten_shapes[{target!r}] = {tuple(given)} holds "
                f"{c * math.prod(spatial)} features, but the Dense kernel reads {n_in}."
            )
        return tuple(spatial)
    if n_in == channels or n_in % channels:
        return None
    cells = n_in // channels
    if prev_kind == "conv1d":
        return (cells,)
    side = math.isqrt(cells)
    if side * side != cells:
        raise ValueError(
            f"{_CALLER}: the Dense layer loaded into {target!r} reads {n_in} features flattened "
            f"from a {channels}-channel map that is not square; pass "
            f"flatten_shapes={{{target!r}: (C, H, W)}}."
        )
    report.notes.append(
        f"{target}: kernel rows reordered from Keras's (H, W, C) flatten to (C, H, W) assuming "
        f"a {side}x{side}x{channels} map (set flatten_shapes to override)"
    )
    return (side, side)


def _convert(kind: str, kernel: np.ndarray, spatial: tuple[int, ...] | None) -> np.ndarray:
    if kind == "conv2d":
        return np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
    if kind == "conv1d":
        return np.ascontiguousarray(kernel.transpose(2, 1, 0))
    if spatial is not None:
        n_in, n_out = kernel.shape
        channels = n_in // math.prod(spatial)
        ndim = len(spatial)
        grid = kernel.reshape(*spatial, channels, n_out)
        kernel = grid.transpose(ndim, *range(ndim), ndim + 1).reshape(n_in, n_out)
    return np.ascontiguousarray(kernel.T)


def load_keras_weights(
    model: Module,
    path: str | os.PathLike[str],
    mapping: Mapping[str, str] | None = None,
    strict: bool = True,
    flatten_shapes: Mapping[str, Any] | None = None,
) -> ImportReport:
    """Copy the Dense and Conv weights of a Keras file into the model's Linear and Conv layers.

    Args:
        model: the chainrule model to fill (in place).
        path: a Keras 3 ``.weights.h5`` or a legacy ``.h5`` file.
        mapping: ``{Keras layer name: model module path}``, e.g. ``{"dense_1": "layers.3"}``;
            by default the Keras layers and the model's Linear/Conv layers are paired in order.
        strict: raise unless every Keras layer with weights and every Linear/Conv layer of the
            model is paired with equal shapes; with False, load what fits and report the rest.
        flatten_shapes: ``{module path: (C, H, W)}`` (or ``(C, L)``) of the feature map that a
            Linear layer reads flattened, for the kernel-row reordering; None disables it there.

    Returns:
        An ``ImportReport`` (source names are ``<keras layer>/kernel`` and ``/bias``).

    Raises:
        ImportError: h5py is not installed.
        CheckpointError: the file is missing, not HDF5, or not in a Keras layout.
        WeightImportError: (strict) the layers do not all pair up.
    """
    if not isinstance(model, Module):
        raise TypeError(f"{_CALLER}: model must be an nn.Module, got {type(model).__name__}.")
    path = Path(path)
    layers, layout = _read(path)
    report = ImportReport(str(path), f"keras ({layout})")
    targets = _targets(model)
    kinds: dict[str, str] = {}
    for name, weights in layers.items():
        kind = _kind(name, weights)
        if kind is None:
            report.unexpected.extend(f"{name}/{w}" for w, _ in weights)
            report.notes.append(f"{name}: not a Dense/Conv layer; its weights were not imported")
        else:
            kinds[name] = kind
    pairs = _pair(kinds, targets, mapping, report)
    for name in kinds:
        if name not in pairs:
            report.unexpected.extend(f"{name}/{w}" for w, _ in layers[name])
    arrays: dict[str, np.ndarray] = {}
    order = list(targets)
    for name, target in pairs.items():
        weights = layers[name]
        kind, kernel = kinds[name], weights[0][1]
        want_kind, module = targets[target]
        if want_kind != kind:
            report.mismatched.append(
                (f"{name}/kernel", f"{target}.weight", kernel.shape, tuple(module.weight.shape))
            )
            continue
        spatial = None
        position = order.index(target)
        if kind == "dense" and position > 0:
            prev_kind, prev_module = targets[order[position - 1]]
            if prev_kind != "dense":
                channels = prev_module.weight.shape[0]
                spatial = _spatial(
                    kernel, channels, prev_kind, target, flatten_shapes or {}, report
                )
        converted = [(f"{name}/kernel", "weight", _convert(kind, kernel, spatial))]
        if len(weights) == 2:
            converted.append((f"{name}/bias", "bias", weights[1][1]))
        for source, attr, arr in converted:
            key = f"{target}.{attr}" if target else attr
            param = module._parameters.get(attr)
            if param is None:
                report.unexpected.append(source)
            elif tuple(arr.shape) != tuple(param.shape):
                report.mismatched.append((source, key, tuple(arr.shape), tuple(param.shape)))
            else:
                arrays[key] = arr
                report.matched.append((source, key))
    mismatched = {t for _, t, _, _ in report.mismatched}
    for target, (_, module) in targets.items():
        for attr in ("weight", "bias"):
            key = f"{target}.{attr}" if target else attr
            if module._parameters.get(attr) is not None and key not in arrays:
                if key not in mismatched:
                    report.missing.append(key)
    hint = (
        "Pass mapping={Keras layer name: model module path} to pair layers explicitly, "
        "flatten_shapes for a Linear layer after a convolution, or strict=False to load what fits."
    )
    return finish_import(_CALLER, model, report, arrays, strict, hint)


def _pair(
    kinds: dict[str, str],
    targets: dict[str, tuple[str, Any]],
    mapping: Mapping[str, str] | None,
    report: ImportReport,
) -> dict[str, str]:
    """Keras layer name -> model module path: from ``mapping``, or kind by kind in order."""
    if mapping is not None:
        unknown = [t for t in mapping.values() if t not in targets]
        if unknown:
            raise ValueError(
                f"{_CALLER}: mapping names {unknown}, which are not Linear/Conv layers of the "
                f"model; available: {', '.join(targets) or '(none)'}."
            )
        report.method += ", mapping"
        return {name: mapping[name] for name in kinds if name in mapping}
    report.method += ", kind by kind in order"
    pairs: dict[str, str] = {}
    for kind in ("conv1d", "conv2d", "dense"):
        sources = [name for name, k in kinds.items() if k == kind]
        wanted = [path for path, (k, _) in targets.items() if k == kind]
        pairs.update(zip(sources, wanted, strict=False))
    return pairs
