"""Arrays a forward computed from graph values outside autograd, recognised as graph values.

Tracing sees ``Function.apply`` calls only, so NumPy done on a tensor's array in between leaves no
record. Two such patterns are common and exact to rebuild:

- a view: ``ids.data.T`` shares memory with the graph value it came from and equals a transpose
  of it (a language model turning ``(B, T)`` ids time-major);
- a padding mask: ``ids != padding_idx`` where ``ids`` were looked up by an embedding with that
  padding id (a text CNN skipping windows made only of padding).

Each candidate must match in both traces, so a coincidence on one example is not enough.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .graph import Graph

__all__ = ["Derived"]


def _owner(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory (NumPy points every view's base at it)."""
    return a if a.base is None or not isinstance(a.base, np.ndarray) else a.base


def _address(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


class Derived:
    """Graph values by array, and the rules that recognise arrays derived from them.

    Args:
        graph: the graph to add the rebuilding nodes to.
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._owners: tuple[dict[int, list[Any]], dict[int, list[Any]]] = ({}, {})
        self._lookups: list[tuple[str, np.ndarray, np.ndarray, Any]] = []
        self._made: dict[tuple[Any, ...], str] = {}

    def add(self, name: str, a1: Any, a2: Any) -> None:
        """Record that ``a1`` (first trace) and ``a2`` (second) are the arrays of value ``name``."""
        for owners, a in zip(self._owners, (a1, a2), strict=True):
            if isinstance(a, np.ndarray):
                owners.setdefault(id(_owner(a)), []).append((name, a))

    def add_padded_lookup(self, ids: str, ids1: Any, ids2: Any, padding_idx: Any) -> None:
        """Record that value ``ids`` indexed an embedding whose padding id is ``padding_idx``."""
        if isinstance(ids1, np.ndarray) and isinstance(ids2, np.ndarray):
            self._lookups.append((ids, ids1, ids2, padding_idx))

    def resolve(self, a1: Any, a2: Any) -> str | None:
        """The graph value equal to ``a1``/``a2``, built from a recorded value; None if none is."""
        if not isinstance(a1, np.ndarray) or not isinstance(a2, np.ndarray):
            return None
        view = self._view(a1, a2)
        return view if view is not None else self._mask(a1, a2)

    # ----------------------------------------------------------------- views
    def _view(self, a1: np.ndarray, a2: np.ndarray) -> str | None:
        hit = self._find_view(a1, 0)
        if hit is None or hit != self._find_view(a2, 1):
            return None
        name, perm = hit
        if perm == tuple(range(len(perm))):
            return name
        key = ("Transpose", name, perm)
        if key not in self._made:
            out = self.graph.fresh(f"{name}/transposed")
            self.graph.node("Transpose", [name], [out], perm=list(perm))
            self._made[key] = out
        return self._made[key]

    def _find_view(self, a: np.ndarray, trace: int) -> tuple[str, tuple[int, ...]] | None:
        if a.ndim > 6:
            return None
        for name, b in self._owners[trace].get(id(_owner(a)), []):
            if b.ndim != a.ndim or b.dtype != a.dtype or _address(b) != _address(a):
                continue
            for perm in itertools.permutations(range(a.ndim)):
                moved = b.transpose(perm)
                if moved.shape == a.shape and np.array_equal(moved, a):
                    return name, perm
        return None

    # ----------------------------------------------------------------- padding masks
    def _mask(self, a1: np.ndarray, a2: np.ndarray) -> str | None:
        if a1.dtype.kind not in "biu" or a2.dtype != a1.dtype:
            return None
        for ids, ids1, ids2, pad in self._lookups:
            if ids1.shape != a1.shape or ids2.shape != a2.shape:
                continue
            for keep in (True, False):  # ids != pad (tokens), or ids == pad (padding)
                want1 = (ids1 != pad) if keep else (ids1 == pad)
                want2 = (ids2 != pad) if keep else (ids2 == pad)
                if np.array_equal(a1 != 0, want1) and np.array_equal(a2 != 0, want2):
                    return self._make_mask(ids, ids1.dtype, pad, keep, a1.dtype)
        return None

    def _make_mask(self, ids: str, ids_dtype: Any, pad: Any, keep: bool, dtype: Any) -> str:
        from onnx import helper

        key = ("mask", ids, pad, keep, np.dtype(dtype).str)
        if key in self._made:
            return self._made[key]
        pad_value = self.graph.constant(np.asarray(pad, dtype=ids_dtype))
        out = self.graph.fresh(f"{ids}/is_padding")
        self.graph.node("Equal", [ids, pad_value], [out])
        if keep:
            inverse = self.graph.fresh(f"{ids}/is_token")
            self.graph.node("Not", [out], [inverse])
            out = inverse
        if np.dtype(dtype) != np.bool_:
            cast = self.graph.fresh(f"{out}/cast")
            self.graph.node("Cast", [out], [cast], to=helper.np_dtype_to_tensor_dtype(dtype))
            out = cast
        self._made[key] = out
        return out
