"""Vocabularies: token <-> index tables built from counts, for words and for characters."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Vocabulary", "CharVocabulary"]


class Vocabulary:
    """A token <-> index table: special tokens first, then tokens by falling frequency.

    Args:
        counts: token frequencies (a ``Counter`` or any mapping).
        min_freq: drop tokens seen fewer times. Default: 1.
        max_size: at most this many entries, special tokens included. Default: no limit.
        specials: tokens placed first, in order. Default: ``("<pad>", "<unk>")``, so the
            padding index is 0 and the unknown index is 1.
        unk_token: the token that stands for unknown ones, or ``None`` to make unknown tokens
            an error.

    Ties in frequency are ordered alphabetically, so the table does not depend on the order
    in which the text was read.

    Example:
        >>> v = Vocabulary.build([["a", "b", "a"], ["c", "a", "b"]], min_freq=2)
        >>> v.itos, v.encode(["a", "zzz"]).tolist()
        (['<pad>', '<unk>', 'a', 'b'], [2, 1])
    """

    def __init__(
        self,
        counts: Counter | dict[str, int] | None = None,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = ("<pad>", "<unk>"),
        unk_token: str | None = "<unk>",
    ) -> None:
        if min_freq < 1:
            raise ValueError(f"Vocabulary: min_freq must be >= 1, got {min_freq}.")
        specials = list(dict.fromkeys(specials))
        if unk_token is not None and unk_token not in specials:
            specials.append(unk_token)
        if max_size is not None and max_size < len(specials):
            raise ValueError(
                f"Vocabulary: max_size={max_size} is smaller than the {len(specials)} special "
                f"tokens {specials}."
            )
        self.freqs = Counter(counts or {})
        kept = [t for t, c in self.freqs.items() if c >= min_freq and t not in specials]
        kept.sort(key=lambda t: (-self.freqs[t], t))
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        self.specials = tuple(specials)
        self.unk_token = unk_token
        self.min_freq, self.max_size = min_freq, max_size
        self.itos: list[str] = [*specials, *kept]
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(
        cls,
        sequences: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = ("<pad>", "<unk>"),
        unk_token: str | None = "<unk>",
    ) -> Vocabulary:
        """Count the tokens of ``sequences`` (e.g. tokenised sentences) and build the table."""
        counts: Counter = Counter()
        for seq in sequences:
            if isinstance(seq, str):
                raise TypeError(
                    "Vocabulary.build: expected sequences of tokens (e.g. lists of words), got a "
                    "string; tokenise it first, or use CharVocabulary for characters."
                )
            counts.update(seq)
        return cls(counts, min_freq, max_size, specials, unk_token)

    @property
    def pad_index(self) -> int | None:
        """Index of ``<pad>`` (0 by default), or None without it."""
        return self.stoi.get("<pad>")

    @property
    def unk_index(self) -> int | None:
        """Index of the unknown token, or None when unknown tokens are errors."""
        return None if self.unk_token is None else self.stoi[self.unk_token]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        index = self.stoi.get(token)
        if index is not None:
            return index
        if self.unk_token is None:
            raise KeyError(
                f"{type(self).__name__}: token {token!r} is not in the vocabulary of "
                f"{len(self)} entries and there is no unknown token."
            )
        return self.stoi[self.unk_token]

    def lookup_token(self, index: int) -> str:
        """The token at ``index``."""
        if not 0 <= int(index) < len(self.itos):
            raise IndexError(
                f"{type(self).__name__}: index {index} is out of range for {len(self)} entries."
            )
        return self.itos[int(index)]

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Indices (int64) of ``tokens``; unknown tokens map to the unknown index."""
        return np.fromiter((self[t] for t in tokens), dtype=np.int64)

    def decode(self, indices: Iterable[int], skip_specials: bool = False) -> list[str]:
        """Tokens at ``indices``; optionally without the special tokens."""
        out = [self.lookup_token(int(i)) for i in np.asarray(indices).reshape(-1)]
        if skip_specials:
            out = [t for t in out if t not in self.specials]
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (tokens in order and their counts)."""
        return {
            "kind": type(self).__name__,
            "itos": self.itos,
            "specials": list(self.specials),
            "unk_token": self.unk_token,
            "freqs": {t: self.freqs[t] for t in self.itos if t in self.freqs},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        """Rebuild a vocabulary saved by `to_dict`, with exactly the saved order."""
        try:
            itos, specials, unk = list(data["itos"]), list(data["specials"]), data["unk_token"]
        except KeyError as err:
            raise ValueError(f"{cls.__name__}.from_dict: missing field {err} in the data.") from err
        vocab = cls.__new__(cls)
        vocab.freqs = Counter(data.get("freqs", {}))
        vocab.specials, vocab.unk_token = tuple(specials), unk
        vocab.min_freq, vocab.max_size = 1, None
        vocab.itos = itos
        vocab.stoi = {t: i for i, t in enumerate(itos)}
        if len(vocab.stoi) != len(itos):
            raise ValueError(f"{cls.__name__}.from_dict: the saved tokens contain duplicates.")
        return vocab

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as UTF-8 JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Read a vocabulary written by `save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{cls.__name__}.load: {path} is not valid JSON ({err}).") from err
        return cls.from_dict(data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:6])
        return (
            f"{type(self).__name__}(size={len(self)}, [{head}{', ...' if len(self) > 6 else ''}])"
        )


class CharVocabulary(Vocabulary):
    """A vocabulary of characters, sorted by code point after the special tokens.

    Args:
        text: the text (or several texts) whose characters form the vocabulary.
        specials: tokens placed first. Default: none (a character-level language model
            usually needs no padding).
        unk_token: stand-in for unseen characters, or ``None`` (default) to make them an error.

    Example:
        >>> v = CharVocabulary("hello")
        >>> v.itos, v.encode("hole").tolist()
        (['e', 'h', 'l', 'o'], [1, 3, 2, 0])
    """

    def __init__(
        self,
        text: str | Iterable[str] = "",
        specials: Sequence[str] = (),
        unk_token: str | None = None,
    ) -> None:
        counts: Counter = Counter()
        for piece in [text] if isinstance(text, str) else text:
            counts.update(piece)
        super().__init__(Counter(), 1, None, specials, unk_token)
        self.freqs = counts
        chars = sorted(c for c in counts if c not in self.specials)
        self.itos = [*self.specials, *chars]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    def encode_text(self, text: str) -> np.ndarray:
        """Indices of the characters of ``text``."""
        return self.encode(text)
