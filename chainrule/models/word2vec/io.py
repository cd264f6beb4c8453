"""Word vectors on disk: the word2vec text and binary formats, and GloVe text files.

Parsing and writing are the data readers' (`chainrule.data.readers.vectors`); this module only
chooses among them. The text format writes each float32 value as the shortest decimal that reads
back to the same float32, so both formats round-trip exactly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from ...data.readers.vectors import WordVectors, load_glove, load_word2vec, save_word2vec

__all__ = ["save_vectors", "load_vectors"]

_FORMATS = ("word2vec", "glove", "auto")


def save_vectors(
    path: str | os.PathLike, words: Sequence[str], vectors: np.ndarray, binary: bool = False
) -> None:
    """Write ``words`` and their ``vectors`` in the word2vec text (default) or binary format."""
    bad = [w for w in words if not w or any(ch.isspace() for ch in w)]
    if bad:
        raise ValueError(
            f"save_vectors: the word2vec formats separate words by whitespace, so a word cannot "
            f"be empty or hold spaces; got {bad[:3]!r}."
        )
    save_word2vec(path, WordVectors(list(words), np.asarray(vectors, np.float32)), binary)


def load_vectors(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    format: str = "auto",
    binary: bool | None = None,
    limit: int | None = None,
    vocab: Iterable[str] | None = None,
) -> WordVectors:
    """Read word vectors (gzip or not).

    Args:
        path: the file (GloVe: also a list of files read in order).
        format: ``"word2vec"`` (a ``count dim`` header line), ``"glove"`` (no header), or
            ``"auto"`` (a header line means word2vec).
        binary: word2vec only: the binary format; ``None`` detects it.
        limit: keep at most this many words.
        vocab: keep only these words.
    """
    if format not in _FORMATS:
        raise ValueError(f"load_vectors: unknown format {format!r}; available: glove, word2vec.")
    if format == "auto":
        format = "glove" if not isinstance(path, (str, os.PathLike)) else _sniff(path)
    if format == "glove":
        return load_glove(path, limit, vocab)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError("load_vectors: a word2vec file is one path, not a list of paths.")
    return load_word2vec(path, binary, limit, vocab)


def _sniff(path: str | os.PathLike) -> str:
    import gzip

    with open(path, "rb") as fh:
        head = fh.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        first = fh.readline(4096).split()
    return "word2vec" if len(first) == 2 and all(p.isdigit() for p in first) else "glove"
