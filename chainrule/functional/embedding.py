"""Embedding lookup: rows of a weight matrix picked by integer ids, gradients scattered back."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["embedding"]


class Embedding(Function):
    """y[..., :] = weight[ids[...], :]; dweight[v] = sum of the output gradients of every position
    holding id ``v`` (repeated ids accumulate), and the padding row gets none."""

    @staticmethod
    def forward(ctx: Context, weight: Any, ids: Any = None, padding_idx: int | None = None) -> Any:
        ctx.ids, ctx.shape, ctx.padding_idx = ids, weight.shape, padding_idx
        return ctx.xp.take(weight, ids, axis=0)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        xp = ctx.xp
        V, D = ctx.shape
        ids = ctx.ids.reshape(-1)
        g = grad.reshape(-1, D)
        out = xp.zeros((V, D), dtype=grad.dtype)
        if ids.size == 0:
            return out
        # sort the ids so that the rows of each id are adjacent, then one reduceat sums each run
        order = xp.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        first = xp.ones(ids.size, dtype=bool)
        first[1:] = sorted_ids[1:] != sorted_ids[:-1]
        starts = xp.flatnonzero(first)
        out[sorted_ids[starts]] = xp.add.reduceat(g[order], starts, axis=0)
        if ctx.padding_idx is not None:
            out[ctx.padding_idx] = 0
        return out


def checked_ids(ids: Any, num: int, xp: Any, where: str = "embedding") -> Any:
    """The ids as an integer array of module ``xp``, all in ``[0, num)``.

    Raises:
        TypeError: ids that are not integers.
        ValueError: an id outside the vocabulary, naming the id and ``num``.
    """
    arr = ids.data if isinstance(ids, Tensor) else ids
    if isinstance(arr, (list, tuple, int, np.integer)):
        arr = np.asarray(arr)
    if getattr(arr, "dtype", None) is None:
        raise TypeError(f"{where}: ids must be an integer Tensor or array, got {type(ids)}.")
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"{where}: ids must be integers (int64), got dtype {arr.dtype}. Convert with .long()."
        )
    arr = xp.asarray(arr)
    _check_range(arr, num, where)
    return arr


def _check_range(ids: Any, num: int, where: str) -> None:
    if ids.size == 0:
        return
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0 or hi >= num:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"{where}: token id {bad} is out of range for a vocabulary of {num} embeddings "
            f"(valid ids: 0..{num - 1}). Map unknown tokens to an <unk> id, or build the layer "
            "with a larger num_embeddings."
        )


def _padding_index(padding_idx: int | None, num: int, where: str) -> int | None:
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{where}: padding_idx must be an int or None, got {padding_idx!r}.")
    if not -num <= padding_idx < num:
        raise ValueError(
            f"{where}: padding_idx {padding_idx} must lie in [{-num}, {num - 1}] for "
            f"{num} embeddings."
        )
    return int(padding_idx) % num


def _renorm_(weight: Tensor, ids: Any, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and unrecorded, the rows used by ``ids`` whose norm exceeds max_norm."""
    xp = get_array_module(weight.data)
    rows = xp.unique(ids)
    w = weight.data[rows]
    norms = xp.linalg.norm(w.astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if bool(big.any()):
        # the small epsilon keeps the new norm just below max_norm, as in PyTorch
        scale = (max_norm / (norms[big] + 1e-7)).astype(weight.dtype)
        weight.data[rows[big]] = w[big] * scale[:, None]


def embedding(
    ids: Any,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
) -> Tensor:
    """Look up rows of ``weight``: ``y[..., :] = weight[ids[...], :]``.

    Args:
        ids: integer Tensor/array of any shape, values in ``[0, num_embeddings)``.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: this row receives no gradient (negative values count from the end).
        max_norm: before the lookup, rows used by ``ids`` whose ``norm_type``-norm exceeds it are
            rescaled to ``max_norm`` in place (as PyTorch does; not recorded for gradients).
        norm_type: the p of the p-norm for ``max_norm``. Default: 2.

    Returns:
        Tensor of shape ``ids.shape + (embedding_dim,)``.

    Raises:
        ValueError: an id outside the vocabulary (naming the id and the vocabulary size).
        TypeError: non-integer ids.

    Example:
        >>> w = cr.arange(6.0).reshape(3, 2)
        >>> cr.functional.embedding(cr.tensor([2, 0]), w).tolist()
        [[4.0, 5.0], [0.0, 1.0]]
    """
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            "embedding: weight must be a 2-D Tensor (num_embeddings, embedding_dim), got "
            f"{getattr(weight, 'shape', type(weight).__name__)}."
        )
    num = weight.shape[0]
    xp = get_array_module(weight.data)
    arr = checked_ids(ids, num, xp)
    pad = _padding_index(padding_idx, num, "embedding")
    if max_norm is not None and arr.size:
        _renorm_(weight, arr, float(max_norm), float(norm_type))
    return Embedding.apply(weight, ids=arr, padding_idx=pad)
