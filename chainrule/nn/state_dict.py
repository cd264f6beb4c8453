"""Checking and copying a ``state_dict`` into a module's parameters and buffers.

A state dict maps dotted names (``encoder.fc1.weight``) to arrays. ``Module.load_state_dict`` checks
every key and shape first and copies only when the whole dict fits, so a failed load leaves the
module unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from ..backend import get_array_module

__all__ = ["IncompatibleKeys", "StateDictError", "load_arrays"]

_MAX_LISTED = 20


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: keys the module has that the dict lacks, and
    keys the dict has that the module lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(RuntimeError):
    """A state dict that does not fit the module. The message lists every bad key.

    Attributes:
        missing_keys: expected by the module, absent from the dict.
        unexpected_keys: present in the dict, unknown to the module.
        mismatched: ``(key, expected_shape, received_shape)`` for each mis-shaped entry.
    """

    def __init__(
        self,
        message: str,
        missing_keys: list[str] | None = None,
        unexpected_keys: list[str] | None = None,
        mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] | None = None,
    ) -> None:
        super().__init__(message)
        self.missing_keys = missing_keys or []
        self.unexpected_keys = unexpected_keys or []
        self.mismatched = mismatched or []


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:_MAX_LISTED])
    if len(keys) > _MAX_LISTED:
        shown += f", ... and {len(keys) - _MAX_LISTED} more"
    return shown


def _prefix_hint(missing: list[str], unexpected: list[str]) -> str:
    """Suggest stripping or adding a prefix such as ``module.`` when that explains every key."""
    if not missing or len(missing) != len(unexpected):
        return ""
    for extra, short in ((unexpected, missing), (missing, unexpected)):
        head = extra[0].split(".", 1)[0] + "."
        if all(k.startswith(head) for k in extra) and sorted(
            k[len(head) :] for k in extra
        ) == sorted(short):
            verb = "strip" if extra is unexpected else "add"
            return f"\nHint: the dict's keys differ only by the prefix '{head}'; {verb} it."
    return ""


def _to_array(value: Any, key: str) -> Any:
    """The raw array of a Tensor, NumPy/CuPy array, nested list, or a torch tensor (duck-typed)."""
    if hasattr(value, "data") and hasattr(value, "grad_fn") and hasattr(value, "_requires_grad"):
        return value.data  # a chainrule Tensor
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()  # a torch.Tensor, read without importing torch
    if isinstance(value, np.ndarray) or type(value).__module__.startswith("cupy"):
        return value
    try:
        return np.asarray(value)
    except Exception as err:  # noqa: BLE001
        raise TypeError(
            f"load_state_dict: value for key '{key}' must be a Tensor or an array, "
            f"got {type(value).__name__}."
        ) from err


def load_arrays(
    owner: str, targets: Mapping[str, Any], state_dict: Mapping[str, Any], strict: bool
) -> IncompatibleKeys:
    """Copy ``state_dict`` into the tensors ``targets`` (same keys) in place, after checking it all.

    Args:
        owner: the module's class name, for the message.
        targets: dotted name -> Parameter or buffer Tensor to fill.
        state_dict: dotted name -> array-like.
        strict: raise when keys are missing or unexpected. Mis-shaped keys always raise.

    Raises:
        StateDictError: listing missing, unexpected and mis-shaped keys.
        TypeError: when ``state_dict`` is not a mapping.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"load_state_dict: expected a dict of name -> array, got {type(state_dict).__name__}."
        )
    missing = [k for k in targets if k not in state_dict]
    unexpected = [k for k in state_dict if k not in targets]
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    arrays: dict[str, Any] = {}
    for key, target in targets.items():
        if key not in state_dict:
            continue
        arr = _to_array(state_dict[key], key)
        if tuple(arr.shape) != tuple(target.shape):
            mismatched.append((key, tuple(target.shape), tuple(arr.shape)))
        else:
            arrays[key] = arr
    if mismatched or (strict and (missing or unexpected)):
        lines = [f"Error(s) in loading state_dict for {owner}:"]
        if strict and missing:
            lines.append(f"  missing keys ({len(missing)}): {_listing(missing)}")
        if strict and unexpected:
            lines.append(f"  unexpected keys ({len(unexpected)}): {_listing(unexpected)}")
        if mismatched:
            shapes = [f"{k}: expected {want}, got {got}" for k, want, got in mismatched]
            lines.append(f"  mis-shaped keys ({len(mismatched)}): {_listing(shapes)}")
        lines.append(
            "Nothing was loaded. Pass strict=False to skip missing and unexpected keys "
            "(mis-shaped keys are always an error)."
        )
        message = "\n".join(lines) + (_prefix_hint(missing, unexpected) if strict else "")
        raise StateDictError(message, missing, unexpected, mismatched)
    for key, arr in arrays.items():
        target = targets[key]
        xp = get_array_module(target.data)
        if xp is not np:
            arr = xp.asarray(arr)
        elif not isinstance(arr, np.ndarray):
            arr = arr.get()  # a CuPy array loaded into a CPU tensor
        target.data[...] = arr
    return IncompatibleKeys(missing, unexpected)
