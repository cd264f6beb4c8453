"""Queries on a table of word vectors: cosine neighbours, similarity, analogies (3CosAdd).

`VectorQueries` is a mixin for any class with ``vectors`` (``(V, dim)`` float array) and ``vocab``
(a `chainrule.data.text.Vocabulary` whose ``itos`` names the rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ...data.readers.vectors import WordVectors
from ...data.text import Vocabulary

__all__ = ["VectorQueries", "vocabulary_of"]


def vocabulary_of(words: list[str]) -> Vocabulary:
    """A vocabulary with exactly ``words`` in this order, no special tokens, no unknown token."""
    return Vocabulary.from_dict({"itos": list(words), "specials": [], "unk_token": None})


class VectorQueries:
    """Nearest neighbours and analogies by cosine similarity over ``self.vectors``."""

    vectors: np.ndarray
    vocab: Vocabulary
    _unit: np.ndarray | None = None

    @property
    def words(self) -> list[str]:
        """The words, row by row (most frequent first after training)."""
        return self.vocab.itos

    @property
    def dim(self) -> int:
        """Length of each vector."""
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: object) -> bool:
        return word in self.vocab.stoi

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector of ``word`` (a view of its row)."""
        return self.vectors[self.index(word)]

    def index(self, word: str) -> int:
        """Row of ``word``; KeyError naming the vocabulary size when it is unknown."""
        row = self.vocab.stoi.get(word)
        if row is None:
            raise KeyError(
                f"{type(self).__name__}: {word!r} is not in the vocabulary of {len(self)} words "
                "(rare words fall below min_count)."
            )
        return row

    def unit_vectors(self) -> np.ndarray:
        """Every row scaled to length 1 (zero rows stay zero); cached until the vectors change."""
        if self._unit is None or self._unit.shape != self.vectors.shape:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = (self.vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return self._unit

    def _forget_unit(self) -> None:
        self._unit = None

    def _query_vector(self, query: str | np.ndarray) -> np.ndarray:
        if isinstance(query, str):
            return self.unit_vectors()[self.index(query)]
        vec = np.asarray(query, dtype=np.float32).reshape(-1)
        if vec.size != self.dim:
            raise ValueError(
                f"{type(self).__name__}: a query vector must have {self.dim} values, got shape "
                f"{np.shape(query)}."
            )
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    def _ranked(self, vec: np.ndarray, topn: int, skip: set[int]) -> list[tuple[str, float]]:
        if topn < 1:
            raise ValueError(f"{type(self).__name__}: topn must be >= 1, got {topn}.")
        sims = self.unit_vectors() @ vec
        want = min(topn + len(skip), sims.size)
        best = np.argpartition(-sims, want - 1)[:want] if want < sims.size else np.arange(want)
        best = best[np.lexsort((best, -sims[best]))]
        return [(self.vocab.itos[i], float(sims[i])) for i in best if i not in skip][:topn]

    def most_similar(
        self, query: str | np.ndarray, topn: int = 10, exclude: Iterable[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``topn`` words of highest cosine similarity to a word or a vector.

        Args:
            query: a word (left out of the answer) or a vector of length ``dim``.
            topn: how many neighbours.
            exclude: further words to leave out.

        Returns:
            ``[(word, cosine), ...]``, best first (ties by row).
        """
        skip = {self.index(w) for w in exclude if w in self}
        if isinstance(query, str):
            skip.add(self.index(query))
        return self._ranked(self._query_vector(query), topn, skip)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of the vectors of two words."""
        unit = self.unit_vectors()
        return float(unit[self.index(a)] @ unit[self.index(b)])

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """``a`` is to ``b`` as ``c`` is to ...? By 3CosAdd (Mikolov et al. 2013).

        The answer maximises ``cos(x, b - a + c)`` over the unit vectors, leaving out the three
        query words; ``analogy("man", "king", "woman")`` should give ``queen``.

        Returns:
            ``[(word, cosine), ...]`` of length ``topn``, best first.
        """
        unit = self.unit_vectors()
        rows = [self.index(w) for w in (a, b, c)]
        target = unit[rows[1]] - unit[rows[0]] + unit[rows[2]]
        return self._ranked(self._query_vector(target), topn, set(rows))

    def to_word_vectors(self) -> WordVectors:
        """The vectors as a `chainrule.data.WordVectors` table (shares no memory)."""
        return WordVectors(list(self.vocab.itos), self.vectors.copy())

    def to_embedding(self, freeze: bool = True, padding_idx: int | None = None) -> Any:
        """An `nn.Embedding` initialised with a copy of the vectors (row ``i`` = word ``i``).

        Args:
            freeze: keep the table fixed during training. Default: True.
            padding_idx: as in `nn.Embedding`.
        """
        from ... import nn

        return nn.Embedding.from_pretrained(
            self.vectors.copy(), freeze=freeze, padding_idx=padding_idx
        )
