"""``Embedding``: a learned lookup table from token ids to vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..backend import get_array_module
from ..creation import empty
from ..functional.embedding import checked_ids
from ..tensor import Tensor, as_array
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Maps each integer id to a row of ``weight``: ``y[..., :] = weight[ids[...], :]``.

    Weights start from N(0, 1), as in PyTorch; the ``padding_idx`` row starts at zero and never
    receives a gradient, so it stays zero unless set by hand.

    Args:
        num_embeddings: vocabulary size; ids must lie in ``[0, num_embeddings)``.
        embedding_dim: length of each vector.
        padding_idx: id of the padding token (negative counts from the end), or None.
        max_norm: rows looked up with a larger ``norm_type``-norm are rescaled to ``max_norm`` in
            place before the lookup.
        norm_type: p of the p-norm for ``max_norm``. Default: 2.
        _weight: initial table ``(num_embeddings, embedding_dim)`` instead of a random one.
        _freeze: do not learn the table (``weight.requires_grad = False``).
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: dtype of the table. Default: the package default (float32).

    Shape:
        ids of any shape ``(*)`` (int64) -> ``(*, embedding_dim)``.

    Example:
        >>> emb = cr.nn.Embedding(10, 3, padding_idx=0)
        >>> emb(cr.tensor([[1, 2, 0]])).shape
        (1, 3, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        _weight: Any = None,
        _freeze: bool = False,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}.")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must lie in [{-num_embeddings}, "
                    f"{num_embeddings - 1}] for {num_embeddings} embeddings."
                )
            padding_idx = int(padding_idx) % num_embeddings
        self.padding_idx = padding_idx
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"Embedding: max_norm must be positive, got {max_norm!r}.")
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype))
            self.reset_parameters()
        else:
            arr = as_array(_weight, dtype)
            if tuple(arr.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), "
                    f"got {tuple(arr.shape)}."
                )
            self.weight = Parameter(arr)
        if _freeze:
            self.weight.requires_grad_(False)
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Draw the table from N(0, 1) (package generator) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.data[self.padding_idx] = 0

    def forward(self, ids: Any) -> Tensor:
        xp = get_array_module(self.weight.data)
        ids = checked_ids(ids, self.num_embeddings, xp, str(self))
        return F.embedding(ids, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
    ) -> Embedding:
        """An ``Embedding`` whose table is ``embeddings`` (e.g. GloVe or word2vec vectors).

        Args:
            embeddings: ``(num_embeddings, embedding_dim)`` Tensor or array; a Tensor's or
                NumPy array's memory is shared, as in PyTorch.
            freeze: keep the table fixed during training. Default: True.
            padding_idx: as in the constructor (the row is kept as given, not zeroed).
            max_norm: as in the constructor.
            norm_type: as in the constructor.

        Example:
            >>> vectors = cr.randn(5, 3)
            >>> emb = cr.nn.Embedding.from_pretrained(vectors)
            >>> emb.weight.requires_grad
            False
        """
        arr = as_array(embeddings)
        if arr.ndim != 2:
            raise ValueError(
                "Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, "
                f"embedding_dim), got shape {tuple(arr.shape)}."
            )
        if arr.dtype.kind != "f":
            raise TypeError(
                "Embedding.from_pretrained: embeddings must be floating point, got dtype "
                f"{arr.dtype}."
            )
        rows, dim = arr.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, _weight=arr, _freeze=freeze)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s
