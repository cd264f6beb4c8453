"""Checkpoints: a model's weights and everything needed to resume its training, crash-safe.

A checkpoint is a folder of three files::

    model.safetensors   parameters and persistent buffers, by their ``state_dict`` names
    state.safetensors   every other array: optimizer moments, NumPy's RNG key, arrays in extras
    state.json          the rest, readable: format and chainrule version, epoch, step, model class,
                        zoo name and constructor arguments, optimizer and scheduler state (arrays
                        replaced by {"__tensor__": key}), RNG states, data-loader position, extras,
                        and the size and SHA-256 of both safetensors files

A folder rather than one archive: each part opens with ordinary tools (``model.safetensors`` is a
plain state dict that any safetensors reader, PyTorch's included, loads), nothing is compressed or
copied twice, and the folder is replaced as a whole by renames (see ``_atomic``), so a process
killed at any moment leaves the previous or the new checkpoint loadable.

Example:
    >>> import chainrule as cr, tempfile, os
    >>> model = cr.models.MLP(4, (8,), 2)
    >>> opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt")
    >>> _ = cr.io.save(path, model, opt, epoch=3, note="hello")
    >>> ckpt = cr.io.load(path, model, opt)
    >>> ckpt.epoch, ckpt.extra
    (3, {'note': 'hello'})
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from ..nn.module import Module
from ..nn.state_dict import IncompatibleKeys, StateDictError
from . import _atomic, safetensors
from ._state_json import decode, encode
from .errors import CheckpointError, CheckpointMismatchError

__all__ = ["Checkpoint", "save", "load", "FORMAT_VERSION"]

FORMAT = "chainrule.checkpoint"
FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"
STATE_FILE = "state.safetensors"
JSON_FILE = "state.json"
_FILES = (JSON_FILE, MODEL_FILE, STATE_FILE)
_REQUIRED = (
    "format",
    "format_version",
    "chainrule_version",
    "files",
    "epoch",
    "step",
    "model",
    "optimizer",
    "scheduler",
    "rng",
    "loader_state",
    "extra",
)


@dataclass
class Checkpoint:
    """What ``load`` read; the model, optimizer and scheduler passed to it are already restored.

    Attributes:
        path: the folder (or weights file) actually read; the hidden ``.NAME.old`` sibling when
            an interrupted save left only the previous checkpoint there (then ``recovered``).
        model_state: parameter and buffer name -> NumPy array.
        epoch, step: as given to ``save`` (None if not given).
        extra: the keyword arguments given to ``save`` beyond the named ones (arrays and Tensors
            come back as NumPy arrays, tuples as lists).
        optimizer_state, scheduler_state: their ``state_dict()`` as saved, or None.
        optimizer_class, scheduler_class: their class names, or None.
        rng_state: the random-generator states (chainrule's, NumPy's global, Python's).
        loader_state: the data-loader position given to ``save``.
        model_class: the saved model's class name.
        model_name, model_kwargs: its zoo name and constructor arguments, if given to ``save``.
        chainrule_version, format_version: who wrote it.
        recovered: True when read from the backup left by an interrupted save.
        incompatible: missing and unexpected keys of a ``strict=False`` model load.
    """

    path: Path
    model_state: dict[str, np.ndarray]
    epoch: int | None = None
    step: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    optimizer_state: dict[str, Any] | None = None
    optimizer_class: str | None = None
    scheduler_state: dict[str, Any] | None = None
    scheduler_class: str | None = None
    rng_state: dict[str, Any] | None = None
    loader_state: Any = None
    model_class: str | None = None
    model_name: str | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    chainrule_version: str | None = None
    format_version: int | None = None
    recovered: bool = False
    incompatible: IncompatibleKeys | None = None

    def build_model(self) -> Module:
        """Build the model from the zoo by its saved name and arguments, and load the weights.

        Raises:
            CheckpointError: the checkpoint was saved without ``model_name``.
        """
        if not self.model_name:
            raise CheckpointError(
                f"{self.path}: saved without a zoo model name, so the model cannot be rebuilt; "
                f"build a {self.model_class or 'model'} yourself and pass it to load(), or save "
                "with model_name= and model_kwargs=."
            )
        from ..models import zoo  # same floor; imported on use only

        model = zoo.build(self.model_name, **self.model_kwargs)
        _load_model(model, self, strict=True)
        return model

    def __repr__(self) -> str:
        return (
            f"Checkpoint(path={str(self.path)!r}, epoch={self.epoch}, step={self.step}, "
            f"model={self.model_name or self.model_class}, tensors={len(self.model_state)}, "
            f"optimizer={self.optimizer_class}, scheduler={self.scheduler_class}, "
            f"extra={sorted(self.extra)})"
        )


# ----------------------------------------------------------------------------- saving
def _version() -> str:
    from .. import __version__

    return str(__version__)


def _model_arrays(model: Any) -> dict[str, Any]:
    if isinstance(model, Module):
        return dict(model.state_dict())
    if isinstance(model, Mapping):
        return dict(model)
    raise TypeError(
        f"checkpoint.save: model must be an nn.Module or a state dict, got {type(model).__name__}."
    )


def _optional_int(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"checkpoint.save: {name} must be an integer or None, got {value!r}.")
    return int(value)


def _rng_states() -> dict[str, Any]:
    version, internal, gauss_next = random.getstate()
    return {
        "chainrule": backend.get_rng_state(),
        "numpy": np.random.get_state(legacy=False),
        "python": {
            "version": version,
            "internal": np.asarray(internal, dtype=np.uint32),
            "gauss_next": gauss_next,
        },
    }


def _is_checkpoint_folder(folder: Path) -> bool:
    return all(entry.name in _FILES for entry in folder.iterdir())


def save(
    path: str | os.PathLike[str],
    model: Module | Mapping[str, Any],
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    epoch: int | None = None,
    step: int | None = None,
    loader_state: Any = None,
    model_name: str | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Path:
    """Save a checkpoint folder at ``path``, replacing an earlier one only once complete.

    Random-generator states (chainrule's, NumPy's global and Python's) are always saved.

    Args:
        path: the checkpoint folder. An existing checkpoint there is replaced; any other existing
            folder is refused.
        model: the model (or a state dict of name -> array).
        optimizer: its state (moments, step counts, param groups) is saved too.
        scheduler: a learning-rate scheduler, saved too.
        epoch: the number of finished epochs.
        step: the number of optimizer steps taken.
        loader_state: the data-loader position (any JSON-friendly value or arrays).
        model_name: the zoo name that rebuilds the model (``Checkpoint.build_model``).
        model_kwargs: the constructor arguments for ``zoo.build(model_name, **model_kwargs)``.
        **extra: anything else to keep: numbers, strings, None, lists, dicts, arrays, Tensors.

    Returns:
        The checkpoint folder's path.

    Raises:
        TypeError: a value cannot be stored (its path is named).
        CheckpointError: ``path`` is a file or a folder that is not a checkpoint.
    """
    final = Path(os.path.abspath(path))
    arrays: dict[str, Any] = {}
    kwargs_arrays: dict[str, Any] = {}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": _version(),
        "files": {},
        "epoch": _optional_int("epoch", epoch),
        "step": _optional_int("step", step),
        "model": {
            "class": type(model).__name__ if isinstance(model, Module) else None,
            "name": model_name,
            "kwargs": encode(dict(model_kwargs or {}), "model_kwargs", kwargs_arrays),
        },
        "optimizer": None,
        "scheduler": None,
        "rng": encode(_rng_states(), "rng", arrays),
        "loader_state": encode(loader_state, "loader_state", arrays),
        "extra": encode(extra, "extra", arrays),
    }
    if kwargs_arrays:
        raise TypeError("checkpoint.save: model_kwargs must not hold arrays (they go to JSON).")
    if model_name is not None and not isinstance(model_name, str):
        raise TypeError(f"checkpoint.save: model_name must be a str, got {model_name!r}.")
    for kind, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and not callable(getattr(obj, "state_dict", None)):
            raise TypeError(
                f"checkpoint.save: {kind} must have a state_dict() method, got "
                f"{type(obj).__name__}."
            )
    if optimizer is not None:
        state = encode(optimizer.state_dict(), "optimizer", arrays)
        doc["optimizer"] = {"class": type(optimizer).__name__, "state": state}
    if scheduler is not None:
        state = encode(scheduler.state_dict(), "scheduler", arrays)
        doc["scheduler"] = {"class": type(scheduler).__name__, "state": state}
    model_arrays = _model_arrays(model)
    model_chunks = safetensors._chunks(model_arrays, {"producer": f"chainrule {_version()}"})
    state_chunks = safetensors._chunks(arrays, None)
    json.dumps(doc)  # fail on an unstorable value before touching the disk
    tmp = _atomic.prepare(final, _is_checkpoint_folder)
    try:
        for name, chunks in ((MODEL_FILE, model_chunks), (STATE_FILE, state_chunks)):
            size, digest = _atomic.write_file(tmp / name, chunks)
            doc["files"][name] = {"bytes": size, "sha256": digest}
        text = json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")
        _atomic.write_file(tmp / JSON_FILE, [text])
        _atomic.commit(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# ----------------------------------------------------------------------------- reading
class _Moved(Exception):
    """The folder was replaced while being read (a concurrent save); read again."""


def _read_files(folder: Path) -> dict[str, bytearray]:
    """The three files' bytes, read through one handle on the folder, so a concurrent rename of
    the folder cannot mix files of two checkpoints."""
    out: dict[str, bytearray] = {}
    use_fd = os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY) if use_fd else None
    try:
        for name in _FILES:
            try:
                fd = os.open(name if use_fd else folder / name, os.O_RDONLY, dir_fd=dir_fd)
            except FileNotFoundError:
                if _replaced(folder, dir_fd):
                    raise _Moved from None
                raise CheckpointError(
                    f"{folder / name}: missing; a checkpoint folder holds "
                    f"{', '.join(_FILES)}. Is {folder} a chainrule checkpoint?"
                ) from None
            with os.fdopen(fd, "rb") as f:
                out[name] = _atomic.read_all(f)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    return out


def _replaced(folder: Path, dir_fd: int | None) -> bool:
    """Whether ``folder`` no longer names the folder that ``dir_fd`` holds open."""
    try:
        now = os.stat(folder)
    except FileNotFoundError:
        return True
    return dir_fd is not None and os.fstat(dir_fd).st_ino != now.st_ino


def _parse_json(data: bytearray, source: Path) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise CheckpointError(
            f"{source}: not valid UTF-8 JSON ({err}); truncated or corrupted?"
        ) from None
    if not isinstance(doc, dict):
        raise CheckpointError(f"{source}: expected a JSON object, got {type(doc).__name__}.")
    if doc.get("format") != FORMAT:
        raise CheckpointError(
            f"{source}: not a chainrule checkpoint (format is {doc.get('format')!r}, "
            f"expected {FORMAT!r})."
        )
    version = doc.get("format_version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{source}: format version {version!r} is not one this chainrule reads "
            f"(1 to {FORMAT_VERSION}); written by a newer chainrule?"
        )
    missing = [key for key in _REQUIRED if key not in doc]
    if missing:
        raise CheckpointError(f"{source}: missing keys {', '.join(missing)}; corrupted?")
    checks = {
        "files": isinstance(doc["files"], dict),
        "epoch": doc["epoch"] is None or isinstance(doc["epoch"], int),
        "step": doc["step"] is None or isinstance(doc["step"], int),
        "model": isinstance(doc["model"], dict) and isinstance(doc["model"].get("kwargs"), dict),
        "optimizer": doc["optimizer"] is None or _is_component(doc["optimizer"]),
        "scheduler": doc["scheduler"] is None or _is_component(doc["scheduler"]),
        "rng": isinstance(doc["rng"], dict),
        "extra": isinstance(doc["extra"], dict),
    }
    bad = [key for key, ok in checks.items() if not ok]
    if bad:
        raise CheckpointError(f"{source}: malformed entries {', '.join(bad)}; corrupted?")
    return doc


def _is_component(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("class"), str) and "state" in entry


def _verified_tensors(
    data: bytearray, source: Path, record: Any, json_source: Path
) -> dict[str, np.ndarray]:
    """Check the file against its size and SHA-256 in state.json, then decode it."""
    if not isinstance(record, dict) or not {"bytes", "sha256"} <= set(record):
        raise CheckpointError(f"{json_source}: no size and checksum recorded for {source.name}.")
    if len(data) != record["bytes"]:
        raise CheckpointError(
            f"{source}: holds {len(data)} bytes, but state.json records {record['bytes']} "
            "(truncated or overwritten?)."
        )
    tensors = safetensors.load(data, str(source))
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise CheckpointError(
            f"{source}: content does not match the SHA-256 recorded in state.json "
            "(corrupted, or replaced by another checkpoint's file)."
        )
    return tensors


def _read_folder(folder: Path, recovered: bool) -> Checkpoint:
    files = _read_files(folder)
    json_source = folder / JSON_FILE
    doc = _parse_json(files[JSON_FILE], json_source)
    model_state = _verified_tensors(
        files[MODEL_FILE], folder / MODEL_FILE, doc["files"].get(MODEL_FILE), json_source
    )
    arrays = _verified_tensors(
        files[STATE_FILE], folder / STATE_FILE, doc["files"].get(STATE_FILE), json_source
    )
    state_source = str(folder / STATE_FILE)
    optimizer = doc["optimizer"] or {}
    scheduler = doc["scheduler"] or {}
    return Checkpoint(
        path=folder,
        model_state=model_state,
        epoch=doc["epoch"],
        step=doc["step"],
        extra=decode(doc["extra"], arrays, state_source),
        optimizer_state=decode(optimizer.get("state"), arrays, state_source),
        optimizer_class=optimizer.get("class"),
        scheduler_state=decode(scheduler.get("state"), arrays, state_source),
        scheduler_class=scheduler.get("class"),
        rng_state=decode(doc["rng"], arrays, state_source),
        loader_state=decode(doc["loader_state"], arrays, state_source),
        model_class=doc["model"].get("class"),
        model_name=doc["model"].get("name"),
        model_kwargs=doc["model"]["kwargs"],
        chainrule_version=doc["chainrule_version"],
        format_version=doc["format_version"],
        recovered=recovered,
    )


def _load_model(model: Module, ckpt: Checkpoint, strict: bool) -> IncompatibleKeys:
    if not isinstance(model, Module):
        raise TypeError(f"checkpoint.load: model must be an nn.Module, got {type(model).__name__}.")
    source = ckpt.path / MODEL_FILE if ckpt.path.is_dir() else ckpt.path
    try:
        return model.load_state_dict(ckpt.model_state, strict=strict)
    except StateDictError as err:
        saved = ckpt.model_class or "model"
        if ckpt.model_name:
            saved += f" (zoo name {ckpt.model_name!r}, arguments {ckpt.model_kwargs})"
        raise CheckpointMismatchError(
            f"{source}: the saved weights (of a {saved}) do not fit this "
            f"{type(model).__name__}.\n{err}",
            err.missing_keys,
            err.unexpected_keys,
            err.mismatched,
        ) from None


def _check_component(ckpt: Checkpoint, kind: str, obj: Any) -> None:
    saved = getattr(ckpt, f"{kind}_class")
    source = ckpt.path / JSON_FILE if ckpt.path.is_dir() else ckpt.path
    if getattr(ckpt, f"{kind}_state") is None:
        raise CheckpointError(
            f"{source}: holds no {kind} state (saved without {kind}=); load without {kind}=."
        )
    if saved != type(obj).__name__:
        raise CheckpointError(
            f"{source}: holds the state of a {saved} {kind}, which cannot be restored into a "
            f"{type(obj).__name__}."
        )


def _restore_rng(state: dict[str, Any], source: Path) -> None:
    try:
        backend.set_rng_state(state["chainrule"])
        np.random.set_state(state["numpy"])
        py = state["python"]
        internal = tuple(int(x) for x in py["internal"])
        random.setstate((py["version"], internal, py["gauss_next"]))
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(
            f"{source}: the saved random-generator state cannot be restored ({err!r})."
        ) from None


def load(
    path: str | os.PathLike[str],
    model: Module | None = None,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    strict: bool = True,
    restore_rng: bool = True,
) -> Checkpoint:
    """Read a checkpoint and restore the given model, optimizer, scheduler and RNG states.

    Continuing a run after ``load`` into freshly built objects is bit-identical to never having
    stopped (the data order too, when it is drawn from ``chainrule.backend.get_rng()``).

    Args:
        path: a checkpoint folder written by ``save``, or a ``.safetensors`` weights file.
        model: loaded in place; None to only read.
        optimizer: restored in place (it must be of the saved class, built over the model's
            parameters in the same order).
        scheduler: restored in place (of the saved class, built over ``optimizer``).
        strict: the model must have exactly the saved keys (see ``Module.load_state_dict``).
        restore_rng: also restore chainrule's, NumPy's and Python's random generators.

    Returns:
        The ``Checkpoint`` read (weights, epoch, step, extras, states).

    Raises:
        CheckpointError: no checkpoint at ``path``, or a file in it is truncated, corrupted or
            foreign (the message names the file and the problem), or it lacks the optimizer or
            scheduler state asked for.
        CheckpointMismatchError: the weights do not fit ``model``; lists the missing, unexpected
            and mis-shaped keys.
    """
    final = Path(os.path.abspath(path))
    for attempt in range(3):
        folder, recovered = _atomic.resolve(final)
        try:
            if folder.is_dir():
                ckpt = _read_folder(folder, recovered)
            else:
                ckpt = Checkpoint(path=folder, model_state=safetensors.load_file(folder))
            break
        except _Moved:
            if attempt == 2:
                raise CheckpointError(
                    f"{final}: replaced three times while being read; is another process saving "
                    "to it in a tight loop?"
                ) from None
    for kind, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None:
            _check_component(ckpt, kind, obj)
    if model is not None:
        ckpt.incompatible = _load_model(model, ckpt, strict)
    source = ckpt.path / JSON_FILE
    if optimizer is not None:
        try:
            optimizer.load_state_dict(ckpt.optimizer_state)
        except (ValueError, TypeError, KeyError) as err:
            raise CheckpointError(f"{source}: the optimizer state does not fit: {err}") from None
    if scheduler is not None:
        try:
            scheduler.load_state_dict(ckpt.scheduler_state)
        except (ValueError, TypeError, KeyError) as err:
            raise CheckpointError(f"{source}: the scheduler state does not fit: {err}") from None
    if restore_rng and ckpt.rng_state is not None:
        _restore_rng(ckpt.rng_state, source)
    return ckpt
