"""Name the failing layer: errors inside ``Module.__call__`` get the module path and input shapes.

Every ``Module.__call__`` pushes its module on a per-thread stack. When a forward (or a hook)
raises, the innermost module on the stack rewrites the error once: same exception type, the original
message, then the path from the root module called (``model.encoder.fc1``) and the shapes of the
inputs, chained to the original with ``raise ... from err``. Outer modules see the mark and let
the error pass unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["call_stack", "annotate", "is_annotated", "module_path"]

_MARK = "_chainrule_module_path"
_MAX_ITEMS = 8


class _CallState(threading.local):
    def __init__(self) -> None:
        self.stack: list[Any] = []


_state = _CallState()


def call_stack() -> list[Any]:
    """The modules whose ``__call__`` is running in this thread, root first."""
    return _state.stack


def is_annotated(err: BaseException) -> bool:
    """True when an inner module already named itself in ``err``."""
    return getattr(err, _MARK, None) is not None


def module_path(stack: list[Any]) -> str:
    """Dotted path of ``stack[-1]`` from ``stack[0]`` (labelled ``model``), along the actual calls.

    A module called by its parent without being registered in it shows as ``<ClassName>``.
    """
    parts = ["model"]
    for parent, child in zip(stack, stack[1:], strict=False):
        if parent is child:
            continue
        name = None
        for sub_name, sub in parent.named_modules():
            if sub is child and sub_name:
                name = sub_name
                break
        parts.append(name if name is not None else f"<{type(child).__name__}>")
    return ".".join(parts)


def _describe(value: Any, depth: int = 0) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return str(tuple(shape))
    if isinstance(value, (tuple, list)) and depth < 2:
        items = [_describe(v, depth + 1) for v in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            items.append(f"... {len(value) - _MAX_ITEMS} more")
        return "[" + ", ".join(items) + "]"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return type(value).__name__


def describe_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """``(32, 28, 28)``, or ``(32, 10), (32,), mask=(32, 10)`` for several inputs."""
    parts = [_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
    return ", ".join(parts) if parts else "no inputs"


def annotate(
    err: Exception, stack: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Exception:
    """An exception of ``type(err)`` whose message adds the module path and input shapes.

    When the type cannot be rebuilt from a message (e.g. it needs several arguments, or its ``str``
    quotes the message like ``KeyError``), the context is attached to ``err`` itself as a note and
    ``err`` is returned.
    """
    module = stack[-1]
    path = module_path(stack)
    shapes = describe_inputs(args, kwargs)
    label = "input shape" if len(args) + len(kwargs) == 1 else "input shapes"
    where = f"(raised in {path} [{type(module).__name__}] called with {label} {shapes}"
    if len(stack) > 1:
        where += f"; model = {type(stack[0]).__name__}"
    where += ")"
    message = f"{err}\n{where}"
    new: Exception | None = None
    if not isinstance(err, KeyError):
        try:
            new = type(err)(message)
            if str(new) != message:
                new = None
            else:
                new.__dict__.update(getattr(err, "__dict__", {}))
        except Exception:  # noqa: BLE001  (any constructor failure falls back to a note)
            new = None
    target = err if new is None else new
    if new is None:
        err.add_note(where)
    try:
        setattr(target, _MARK, path)
    except AttributeError:
        pass
    return target
