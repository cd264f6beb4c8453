"""Kim's (2014) convolutional network for sentence classification.

A sentence of ``L`` token ids becomes an ``L x D`` matrix of word vectors. Filters of widths 3, 4
and 5 (100 of each) slide over it, each a detector of one n-gram pattern; ReLU, then max-over-time
pooling keeps each filter's strongest response anywhere in the sentence, so sentences of any
length give one 300-vector. Dropout (0.5) and a linear layer classify it. Kim trains with Adadelta,
batches of 50, and rescales the output layer's weight rows to L2 norm 3 after each step.

The four variants differ only in the word vectors:

- ``rand``: learned from scratch, initialised U(-0.25, 0.25);
- ``static``: pretrained vectors, frozen; words without one get U(-0.25, 0.25), also frozen;
- ``non-static``: pretrained vectors, fine-tuned;
- ``multichannel``: two copies of the pretrained vectors, one frozen and one fine-tuned; every
  filter sees both (its weight covers ``2 D`` input channels), so the two responses are summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as F
from .. import nn
from ..backend import get_array_module
from ..tensor import Tensor
from ._conv_max import conv_relu_max_over_time

__all__ = ["TextCNN", "VARIANTS", "random_vectors"]

VARIANTS = ("rand", "static", "non-static", "multichannel")

# added before a max over windows so that a window of padding never wins; finite, so no inf * 0
_MASKED = -1e30


def random_vectors(
    vocab_size: int, embed_dim: int, padding_idx: int | None = 0, scale: float = 0.25
) -> np.ndarray:
    """A ``(vocab_size, embed_dim)`` float32 table drawn from U(-scale, scale), padding row zero.

    Kim's initialisation for words without a pretrained vector (and for every word in CNN-rand);
    the draws come from the package generator, so ``cr.manual_seed`` repeats them.
    """
    from ..backend import get_rng

    table = get_rng().uniform(-scale, scale, size=(vocab_size, embed_dim)).astype(np.float32)
    if padding_idx is not None:
        table[padding_idx] = 0.0
    return table


class TextCNN(nn.Module):
    """Kim's sentence CNN: embedding, conv1d 3/4/5 x 100, ReLU, max over time, dropout, linear.

    Args:
        vocab_size: number of token ids; ids must lie in ``[0, vocab_size)``.
        embed_dim: length of each word vector. Default: 300 (Kim's word2vec), or the width of
            ``vectors`` when given.
        num_classes: number of classes (logits out).
        variant: ``"rand"``, ``"static"``, ``"non-static"`` or ``"multichannel"`` (see the module
            docstring).
        vectors: ``(vocab_size, embed_dim)`` pretrained table for the last three variants (e.g.
            ``WordVectors.embedding_matrix(vocab.itos)``). Without it those variants start from
            U(-0.25, 0.25), which is what a checkpoint's weights then overwrite.
        widths: filter widths. Default: ``(3, 4, 5)``.
        num_filters: feature maps per width. Default: 100.
        dropout: dropout probability on the pooled features. Default: 0.5.
        padding_idx: id of the padding token, or None. Default: 0. Its vector is zero (also in
            given ``vectors``) and never trained, and windows made only of padding are not pooled.
        fused: compute the convolutions, ReLU and pooling as one fused op (one GEMM, sparse
            backward). ``False`` runs ``nn.Conv1d``, ``F.relu`` and ``max`` one after another;
            both give the same numbers. Default: True.

    Shape:
        ids ``(N, L)`` int64 -> logits ``(N, num_classes)``. Sentences shorter than the widest
        filter are padded on the right with ``padding_idx``.

    Example:
        >>> import chainrule as cr
        >>> model = TextCNN(vocab_size=100, embed_dim=16, num_classes=3)
        >>> model(cr.tensor(np.ones((4, 9), dtype=np.int64))).shape
        (4, 3)
    """

    def __init__(
        self,
        vocab_size: int = 18000,
        embed_dim: int | None = None,
        num_classes: int = 2,
        variant: str = "rand",
        vectors: Any = None,
        widths: Sequence[int] = (3, 4, 5),
        num_filters: int = 100,
        dropout: float = 0.5,
        padding_idx: int | None = 0,
        fused: bool = True,
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(
                f"TextCNN: unknown variant {variant!r}; available: {', '.join(VARIANTS)}."
            )
        if vectors is not None:
            vectors = np.asarray(vectors.data if isinstance(vectors, Tensor) else vectors)
            if variant == "rand":
                raise ValueError(
                    "TextCNN: variant 'rand' learns its word vectors from scratch; pass vectors "
                    "only with 'static', 'non-static' or 'multichannel'."
                )
            if vectors.ndim != 2 or vectors.shape[0] != vocab_size:
                raise ValueError(
                    f"TextCNN: vectors must have shape (vocab_size={vocab_size}, embed_dim), got "
                    f"{vectors.shape}."
                )
            if embed_dim is not None and vectors.shape[1] != embed_dim:
                raise ValueError(
                    f"TextCNN: embed_dim={embed_dim} but the vectors have {vectors.shape[1]} "
                    "columns."
                )
            embed_dim = int(vectors.shape[1])
        embed_dim = 300 if embed_dim is None else int(embed_dim)
        widths = tuple(int(k) for k in widths)
        if not widths or min(widths) < 1:
            raise ValueError(f"TextCNN: widths must be positive ints, got {widths}.")
        self.vocab_size, self.embed_dim, self.num_classes = int(vocab_size), embed_dim, num_classes
        self.variant, self.widths, self.num_filters = variant, widths, int(num_filters)
        self.padding_idx, self.fused = padding_idx, bool(fused)
        if vectors is None:
            vectors = random_vectors(vocab_size, embed_dim, padding_idx)
        table = np.array(vectors, dtype=np.float32)  # a copy: training never writes the caller's
        if padding_idx is not None:
            table[padding_idx] = 0.0  # padding reads as "no word" in every variant
        frozen = variant == "static"
        self.embedding = nn.Embedding.from_pretrained(table, frozen, padding_idx)
        channels = embed_dim
        if variant == "multichannel":
            self.static_embedding = nn.Embedding.from_pretrained(table.copy(), True, padding_idx)
            channels = 2 * embed_dim
        self.convs = nn.ModuleList([nn.Conv1d(channels, self.num_filters, k) for k in widths])
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(len(widths) * self.num_filters, num_classes)

    def _ids(self, ids: Any) -> Any:
        data = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        if data.ndim != 2:
            raise ValueError(
                f"TextCNN expected token ids of shape (N, L), got {tuple(data.shape)}. Hint: "
                "batch single sentences as ids[None, :]."
            )
        if data.dtype.kind not in "iu":
            raise TypeError(f"TextCNN expected integer token ids (int64), got dtype {data.dtype}.")
        widest = max(self.widths)
        if data.shape[1] < widest:
            if self.padding_idx is None:
                raise ValueError(
                    f"TextCNN: sentences of length {data.shape[1]} are shorter than the widest "
                    f"filter ({widest}) and the model has no padding_idx to pad them with."
                )
            xp = get_array_module(data)
            pad = xp.full((data.shape[0], widest - data.shape[1]), self.padding_idx, data.dtype)
            data = xp.concatenate([data, pad], axis=1)
        return data

    def features(self, ids: Any) -> Tensor:
        """The pooled features ``(N, len(widths) * num_filters)``, before dropout."""
        data = self._ids(ids)
        x = self.embedding(data)
        if self.variant == "multichannel":
            x = F.concatenate([x, self.static_embedding(data)], axis=-1)
        valid = None if self.padding_idx is None else data != self.padding_idx
        if self.fused:
            weights = [conv.weight for conv in self.convs]
            biases = [conv.bias for conv in self.convs]
            return conv_relu_max_over_time(x, weights, biases, valid)
        xt = x.transpose(1, 2)
        pooled = []
        for conv, k in zip(self.convs, self.widths, strict=True):
            y = conv(xt)
            if valid is not None:
                y = y + _window_penalty(valid, k, y.dtype)
            pooled.append(F.relu(y.max(axis=-1)))
        return F.concatenate(pooled, axis=1)

    def forward(self, ids: Any) -> Tensor:
        return self.fc(self.dropout(self.features(ids)))

    def extra_repr(self) -> str:
        return f"variant={self.variant!r}, widths={self.widths}, num_filters={self.num_filters}"


def _window_penalty(valid: Any, k: int, dtype: Any) -> Any:
    """``(N, 1, L - k + 1)``: 0 for windows holding a real token, a huge negative value else."""
    xp = get_array_module(valid)
    count = xp.concatenate([xp.zeros((valid.shape[0], 1)), xp.cumsum(valid, axis=1)], axis=1)
    has_token = (count[:, k:] - count[:, :-k]) > 0
    return xp.where(has_token, 0.0, _MASKED).astype(dtype)[:, None, :]
