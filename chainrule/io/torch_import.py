"""Import PyTorch weights: a ``state_dict`` from a dict, a ``.safetensors`` or a ``.pt`` file.

chainrule follows PyTorch's layouts (``Linear.weight`` is ``(out, in)``, convolutions are
``(out, in, kh, kw)``), so importing is a matter of names. They are matched in this order,
unless ``mapping`` says otherwise:

1. **exact**: the source has every name of the model's ``state_dict``;
2. **table**: the model's class has renaming rules (``register_torch_mapping``), e.g. the zoo
   ``MLP`` keeps its layers in ``layers`` (``layers.1.weight``), while an ``nn.Sequential`` twin
   in PyTorch has ``1.weight``;
3. **positional**: source and model have as many tensors, and pairing them in order (module
   order, else natural name order) gives equal shapes everywhere, as for a Sequential-like twin
   whose indices differ (``0.weight`` <-> ``layers.1.weight``).

BatchNorm's ``num_batches_tracked`` counters are skipped when the model has none, and a
``module.`` prefix (``DataParallel``) is stripped. The returned ``ImportReport`` lists what was
matched and how; in strict mode anything unmatched raises ``WeightImportError`` with the report.

Example:
    >>> import chainrule as cr, numpy as np
    >>> model = cr.models.MLP(4, (8,), 2)
    >>> torch_like = {"0.weight": np.ones((8, 4)), "0.bias": np.zeros(8),
    ...               "2.weight": np.ones((2, 8)), "2.bias": np.zeros(2)}
    >>> cr.io.load_torch_state_dict(model, torch_like).method
    'positional (module order)'
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.module import Module
from . import safetensors
from ._report import ImportReport, finish_import, natural_key
from .errors import CheckpointError

__all__ = ["ImportReport", "load_torch_state_dict", "register_torch_mapping", "torch_mappings"]

_CALLER = "load_torch_state_dict"
_TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")

# model class name -> (regex, replacement) rules applied in order to each source name
_TABLES: dict[str, list[tuple[str, str]]] = {
    "MLP": [(r"^(?:layers\.)?(\d+)\.", r"layers.\1.")],
}

NameMapping = Mapping[str, str] | Callable[[str], str | None] | str | None


def register_torch_mapping(model_class: type | str, rules: Sequence[tuple[str, str]]) -> None:
    """Declare how PyTorch names map to a zoo model's names.

    Args:
        model_class: the chainrule model class (or its name).
        rules: ``(regex, replacement)`` pairs, applied in order with ``re.sub`` to every source
            name, e.g. ``[(r"^fc\\.", "classifier.")]``.
    """
    name = model_class if isinstance(model_class, str) else model_class.__name__
    for pattern, _ in rules:
        re.compile(pattern)  # fail now on a bad pattern
    _TABLES[name] = [(str(p), str(r)) for p, r in rules]


def torch_mappings() -> dict[str, list[tuple[str, str]]]:
    """The registered renaming rules, by model class name."""
    return {name: list(rules) for name, rules in _TABLES.items()}


# ----------------------------------------------------------------------------- reading
def _to_numpy(value: Any, key: str) -> np.ndarray:
    if hasattr(value, "grad_fn") and hasattr(value, "_requires_grad"):
        value = value.data  # a chainrule Tensor
    if type(value).__module__.startswith("cupy"):
        return value.get()
    if type(value).__module__.startswith("torch"):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    try:
        return np.asarray(value)
    except Exception as err:  # noqa: BLE001
        raise TypeError(
            f"{_CALLER}: the value of {key!r} is a {type(value).__name__}, not an array."
        ) from err


def _is_tensorish(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _unwrap(obj: Any, source: str, notes: list[str]) -> Mapping[str, Any]:
    """The state dict inside what ``torch.load`` returned (a bare one, or a training checkpoint)."""
    if isinstance(obj, Mapping) and all(_is_tensorish(v) for v in obj.values()):
        return obj
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and all(_is_tensorish(v) for v in inner.values()):
                notes.append(f"took the state dict under the key {key!r} of the file")
                return inner
        keys = ", ".join(repr(k) for k in list(obj)[:10])
        raise CheckpointError(
            f"{source}: holds a dict that is not a state dict (keys {keys}) and has none under "
            f"{', '.join(_WRAPPER_KEYS)}; pass the state dict itself."
        )
    raise CheckpointError(
        f"{source}: holds a {type(obj).__name__}, not a state dict; in PyTorch save "
        "model.state_dict() rather than the model."
    )


def _load_pt(path: Path) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"{_CALLER}: reading {path} needs PyTorch (pip install torch). Without it, save the "
            "weights in PyTorch as safetensors (safetensors.torch.save_file(model.state_dict(), "
            "'weights.safetensors')) and import that file."
        ) from None
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001  (torch raises many kinds for a bad file)
        raise CheckpointError(
            f"{path}: torch.load(weights_only=True) could not read it "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})."
        ) from None


def _read_source(source: Any, notes: list[str]) -> tuple[dict[str, np.ndarray], str]:
    """Name -> NumPy array, in the source's order, and a description of the source."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix == ".safetensors":
            return dict(safetensors.load_file(path)), str(path)
        if path.suffix in _TORCH_SUFFIXES:
            raw = _unwrap(_load_pt(path), str(path), notes)
            return {str(k): _to_numpy(v, str(k)) for k, v in raw.items()}, str(path)
        raise ValueError(
            f"{_CALLER}: cannot tell the format of {path} from its suffix {path.suffix!r}; "
            f"expected .safetensors or one of {', '.join(_TORCH_SUFFIXES)}."
        )
    if callable(getattr(source, "state_dict", None)) and not isinstance(source, Mapping):
        source = source.state_dict()  # a torch.nn.Module (or a chainrule one)
    if isinstance(source, Mapping):
        return {str(k): _to_numpy(v, str(k)) for k, v in source.items()}, "a state dict"
    raise TypeError(
        f"{_CALLER}: source must be a dict of arrays, a module, or a path to a .safetensors or "
        f".pt file, got {type(source).__name__}."
    )


# ----------------------------------------------------------------------------- matching
def _by_names(
    arrays: Mapping[str, np.ndarray],
    targets: Mapping[str, tuple[int, ...]],
    rename: Callable[[str], str | None],
    report: ImportReport,
) -> dict[str, np.ndarray]:
    """Pair each source name with ``rename(name)``; fill the report; return target -> array."""
    out: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    for name, arr in arrays.items():
        target = rename(name)
        if target is None:
            report.skipped.append((name, "the mapping gave None"))
            continue
        if target not in targets:
            report.unexpected.append(name)
            continue
        if target in origin:
            raise ValueError(
                f"{_CALLER}: both {origin[target]!r} and {name!r} map to {target!r}; fix the "
                "mapping so that each model name receives one tensor."
            )
        origin[target] = name
        if tuple(arr.shape) != targets[target]:
            report.mismatched.append((name, target, tuple(arr.shape), targets[target]))
            continue
        out[target] = arr
        report.matched.append((name, target))
    report.missing = [t for t in targets if t not in origin]
    return out


def _table_renamer(rules: list[tuple[str, str]]) -> Callable[[str], str]:
    def rename(name: str) -> str:
        for pattern, replacement in rules:
            name = re.sub(pattern, replacement, name)
        return name

    return rename


def _positional(
    arrays: Mapping[str, np.ndarray],
    targets: Mapping[str, tuple[int, ...]],
    report: ImportReport,
    force: bool,
) -> dict[str, np.ndarray] | None:
    """Pair tensors in order when the counts match and every shape agrees; None if they do not."""
    sources = list(arrays)
    names = list(targets)
    if len(sources) == len(names):
        orders = (
            ("module order", sources, names),
            ("name order", sorted(sources, key=natural_key), sorted(names, key=natural_key)),
        )
        for label, src, tgt in orders:
            if all(tuple(arrays[s].shape) == targets[t] for s, t in zip(src, tgt, strict=True)):
                report.method = f"positional ({label})"
                report.matched = list(zip(src, tgt, strict=True))
                return {t: arrays[s] for s, t in report.matched}
    if not force:
        return None
    report.method = "positional"
    for s, t in zip(sources, names, strict=False):
        if tuple(arrays[s].shape) != targets[t]:
            report.mismatched.append((s, t, tuple(arrays[s].shape), targets[t]))
    report.unexpected = sources[len(names) :]
    report.missing = names[len(sources) :]
    if len(sources) != len(names):
        report.notes.append(
            f"positional matching needs as many tensors in the source ({len(sources)}) as in "
            f"the model ({len(names)})"
        )
    return {}


def _match(
    model: Module,
    arrays: dict[str, np.ndarray],
    mapping: NameMapping,
    report: ImportReport,
) -> dict[str, np.ndarray]:
    targets = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for name in [n for n in arrays if n.endswith("num_batches_tracked") and n not in targets]:
        del arrays[name]
        report.skipped.append((name, "BatchNorm step counter; chainrule keeps none"))
    if (
        arrays
        and all(n.startswith("module.") for n in arrays)
        and not any(t.startswith("module.") for t in targets)
    ):
        arrays = {n[len("module.") :]: a for n, a in arrays.items()}
        report.notes.append("stripped the prefix 'module.' (a DataParallel model)")
    if isinstance(mapping, str):
        if mapping != "positional":
            raise ValueError(
                f"{_CALLER}: mapping must be a dict, a function, 'positional' or None, "
                f"got {mapping!r}."
            )
        return _positional(arrays, targets, report, force=True) or {}
    if isinstance(mapping, Mapping):
        report.method = "mapping"
        return _by_names(arrays, targets, lambda n: mapping.get(n, n), report)
    if callable(mapping):
        report.method = "mapping"
        return _by_names(arrays, targets, mapping, report)
    if mapping is not None:
        raise TypeError(f"{_CALLER}: mapping must be a dict or a function, got {type(mapping)}.")
    attempts: list[tuple[str, Callable[[str], str | None]]] = [("exact", lambda n: n)]
    rules = _TABLES.get(type(model).__name__)
    if rules:
        attempts.append((f"table:{type(model).__name__}", _table_renamer(rules)))
    for method, rename in attempts:
        trial = ImportReport(report.source, method, skipped=list(report.skipped))
        trial.notes = list(report.notes)
        out = _by_names(arrays, targets, rename, trial)
        if trial.ok:
            report.__dict__.update(trial.__dict__)
            return out
    positional = _positional(arrays, targets, report, force=False)
    if positional is not None:
        report.notes.append(
            "matched by position (same count, equal shapes); check the pairs in report.matched, "
            "or pass mapping= to fix them"
        )
        return positional
    best = ImportReport(report.source, "exact", skipped=list(report.skipped))
    best.notes = list(report.notes)
    out = _by_names(arrays, targets, attempts[-1][1], best)
    best.method = attempts[-1][0]
    report.__dict__.update(best.__dict__)
    return out


def load_torch_state_dict(
    model: Module,
    source: Any,
    mapping: NameMapping = None,
    strict: bool = True,
) -> ImportReport:
    """Copy PyTorch weights into a chainrule model, matching names as the module doc describes.

    Args:
        model: the chainrule model to fill (in place).
        source: a state dict (name -> torch tensor, NumPy array or Tensor), a ``torch.nn.Module``,
            a ``.safetensors`` file (read without torch), or a ``.pt``/``.pth``/``.bin`` file
            (read with ``torch.load(weights_only=True)``; needs torch). A training checkpoint
            holding the state dict under ``state_dict``/``model_state_dict``/``model`` works too.
        mapping: None (automatic: exact, table, positional), a dict ``{source name: model
            name}`` (names it leaves out keep theirs), a function ``source name -> model name``
            (None skips the tensor), or ``"positional"``.
        strict: raise unless every model weight is filled and every source tensor used; with
            False, load what matched (mis-shaped pairs are skipped) and report the rest.

    Returns:
        An ``ImportReport`` of what was matched, skipped, missing and unused.

    Raises:
        WeightImportError: (strict) names did not all match; the message holds the report.
        CheckpointError: the file is missing, unreadable or holds no state dict.
        ImportError: a ``.pt`` file without PyTorch installed.
    """
    if not isinstance(model, Module):
        raise TypeError(f"{_CALLER}: model must be an nn.Module, got {type(model).__name__}.")
    notes: list[str] = []
    arrays, description = _read_source(source, notes)
    report = ImportReport(description, notes=notes)
    matched = _match(model, arrays, mapping, report)
    hint = (
        "Pass mapping={source name: model name} (or a function) for the names that differ, "
        "register_torch_mapping(ModelClass, rules) for a zoo model, or strict=False to load "
        "what matched."
    )
    return finish_import(_CALLER, model, report, matched, strict, hint)
