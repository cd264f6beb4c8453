"""Handles returned by ``register_*_hook``: ``remove()`` (or leaving a ``with`` block) unhooks."""

from __future__ import annotations

import itertools
from typing import Any

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """Removes one hook from the dict it was registered in.

    Example:
        >>> layer = cr.nn.Linear(3, 2)
        >>> handle = layer.register_forward_hook(lambda m, args, out: print(out.shape))
        >>> _ = layer(cr.zeros(4, 3))
        (4, 2)
        >>> handle.remove()
        >>> _ = layer(cr.zeros(4, 3))
    """

    def __init__(self, hooks: dict[int, Any]) -> None:
        self.id = next(_ids)
        self._hooks = hooks

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"RemovableHandle(id={self.id}, active={self.id in self._hooks})"
