"""A word2vec training corpus: sentences of tokens counted, then encoded as one array of word ids.

Sentences are the unit of context: a window never crosses from one sentence into the next. A flat
token stream (a list of strings) is cut into pieces of ``max_sentence_length`` tokens, as the C
code does with text that has no line breaks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["iter_sentences", "count_words", "encode_corpus"]


def iter_sentences(corpus: Any, max_sentence_length: int = 1000) -> Iterator[Sequence[str]]:
    """The sentences of ``corpus``: sentences as they are, or a token stream cut into pieces.

    Args:
        corpus: an iterable of sentences (each a sequence of tokens), or one flat sequence of
            tokens (a list of strings).
        max_sentence_length: the length of the pieces a flat stream is cut into.

    Example:
        >>> [list(s) for s in iter_sentences(["a", "b", "c"], max_sentence_length=2)]
        [['a', 'b'], ['c']]
    """
    if isinstance(corpus, (str, bytes)):
        raise TypeError(
            "word2vec: expected sentences (lists of tokens) or a list of tokens, got one string; "
            "split it first, e.g. [line.split() for line in text.splitlines()]."
        )
    if max_sentence_length < 1:
        raise ValueError(f"word2vec: max_sentence_length must be >= 1, got {max_sentence_length}.")
    if isinstance(corpus, Sequence) and len(corpus) and isinstance(corpus[0], str):
        for start in range(0, len(corpus), max_sentence_length):
            yield corpus[start : start + max_sentence_length]
        return
    for number, sentence in enumerate(corpus):
        if isinstance(sentence, str):
            raise TypeError(
                f"word2vec: sentence {number} is a string ({sentence[:30]!r}); every sentence "
                "must be a sequence of tokens."
            )
        yield sentence


def count_words(corpus: Any, max_sentence_length: int = 1000) -> Counter:
    """How often each token occurs in ``corpus``."""
    counts: Counter = Counter()
    for sentence in iter_sentences(corpus, max_sentence_length):
        counts.update(sentence)
    return counts


def encode_corpus(
    corpus: Any, stoi: Mapping[str, int], max_sentence_length: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Word ids of the tokens in the vocabulary, with sentence boundaries.

    Tokens outside ``stoi`` are dropped before windows are formed (as in the C code); sentences
    longer than ``max_sentence_length`` kept tokens are split; empty sentences vanish.

    Returns:
        ``(ids int32, starts int64)``: sentence ``s`` is ``ids[starts[s]:starts[s + 1]]``.

    Example:
        >>> ids, starts = encode_corpus([["a", "x", "b"], ["x"], ["b"]], {"a": 0, "b": 1})
        >>> ids.tolist(), starts.tolist()
        ([0, 1, 1], [0, 2, 3])
    """
    pieces: list[np.ndarray] = []
    lengths: list[int] = []
    for sentence in iter_sentences(corpus, max_sentence_length):
        ids = np.fromiter(_known(sentence, stoi), dtype=np.int32)
        for start in range(0, ids.size, max_sentence_length):
            piece = ids[start : start + max_sentence_length]
            pieces.append(piece)
            lengths.append(piece.size)
    ids = np.concatenate(pieces) if pieces else np.zeros(0, np.int32)
    starts = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    return ids, starts


def _known(sentence: Iterable[str], stoi: Mapping[str, int]) -> Iterator[int]:
    for token in sentence:
        index = stoi.get(token)
        if index is not None:
            yield index
