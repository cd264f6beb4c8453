"""Floor 6: an atomic NumPy ``.npz`` checkpoint writer, the default save of ``ModelCheckpoint``.

The file holds the model's ``state_dict`` arrays under ``model/<key>``, the optimizer's state
arrays under ``optimizer/<index>/<name>``, and everything else (optimizer options, the epoch and
any extra values) as JSON bytes under ``meta.json``. Nothing is pickled. The file is written to a
temporary file in the same folder, flushed, fsynced and renamed over the target, so a crash
leaves either the old file or the new one, never half of one.

``chainrule.io.checkpoint.save`` is the package's full checkpoint format; pass it as
``ModelCheckpoint(save_fn=...)`` where it is available. Both take ``(path, model, optimizer=None,
**extra)``.

Example:
    >>> import tempfile, os
    >>> import chainrule as cr
    >>> model = cr.nn.Linear(2, 1)
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> save_npz(path, model, epoch=3)
    >>> load_npz(path, model)["epoch"]
    3
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import numpy as np

__all__ = ["save_npz", "load_npz"]

_META = "meta.json"


def _host(array: Any) -> np.ndarray:
    return array.get() if type(array).__module__.startswith("cupy") else np.asarray(array)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if type(value).__module__.startswith("cupy"):
        return value.get().tolist()
    return value


def save_npz(path: str | os.PathLike[str], model: Any, optimizer: Any = None, **extra: Any) -> None:
    """Write ``model`` (and ``optimizer``) state to ``path`` atomically.

    Args:
        path: the file to write (its folder is created if needed).
        model: anything with ``state_dict()`` mapping names to Tensors or arrays.
        optimizer: an optimizer whose ``state_dict()`` is saved too. Default: None.
        **extra: JSON-serializable values stored alongside (``epoch=3``, ``logs={...}``).

    Raises:
        TypeError: an ``extra`` value (or an optimizer option) that JSON cannot hold.
    """
    arrays: dict[str, np.ndarray] = {}
    for key, value in model.state_dict().items():
        arrays[f"model/{key}"] = _host(getattr(value, "data", value))
    meta: dict[str, Any] = {"extra": _jsonable(extra)}
    if optimizer is not None:
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, entries in state["state"].items():
            for name, value in entries.items():
                if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
                    arrays[f"optimizer/{index}/{name}"] = _host(value)
                else:
                    scalars.setdefault(str(index), {})[name] = _jsonable(value)
        meta["optimizer"] = {"param_groups": _jsonable(state["param_groups"]), "scalars": scalars}
    try:
        blob = json.dumps(meta).encode()
    except TypeError as err:
        raise TypeError(f"save_npz: {err}; extra values must be JSON-serializable.") from err
    arrays[_META] = np.frombuffer(blob, dtype=np.uint8)
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_npz(
    path: str | os.PathLike[str], model: Any = None, optimizer: Any = None
) -> dict[str, Any]:
    """Read a file written by ``save_npz``; load it into ``model``/``optimizer`` when given.

    Returns:
        The ``extra`` values saved with it.

    Raises:
        ValueError: the file is not a ``save_npz`` checkpoint.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        if _META not in data.files:
            raise ValueError(
                f"load_npz: {os.fspath(path)!r} is not a checkpoint written by save_npz (no "
                f"{_META} entry; entries: {', '.join(data.files[:5])})."
            )
        meta = json.loads(data[_META].tobytes().decode())
        weights = {k[len("model/") :]: data[k] for k in data.files if k.startswith("model/")}
        opt_arrays = {k: data[k] for k in data.files if k.startswith("optimizer/")}
    if model is not None:
        model.load_state_dict(weights)
    if optimizer is not None:
        if "optimizer" not in meta:
            raise ValueError(f"load_npz: {os.fspath(path)!r} holds no optimizer state.")
        state: dict[int, dict[str, Any]] = {}
        for index, entries in meta["optimizer"]["scalars"].items():
            state.setdefault(int(index), {}).update(entries)
        for key, value in opt_arrays.items():
            _, index, name = key.split("/", 2)
            state.setdefault(int(index), {})[name] = value
        optimizer.load_state_dict(
            {"state": state, "param_groups": meta["optimizer"]["param_groups"]}
        )
    return meta["extra"]
