"""Plain-text corpora for language models: tiny-shakespeare and the Penn Treebank (Mikolov).

- ``tinyshakespeare/input.txt``: 1,115,394 characters of ASCII text (character-level models).
- ``ptb/ptb.{train,valid,test}.txt`` (or ``.txt.gz``): one sentence per line, words separated by
  spaces, rare words already ``<unk>``; the usual token stream appends ``<eos>`` to every line
  (Zaremba et al. 2014), giving 929,589 / 73,760 / 82,430 tokens.

Turn text into ids with `chainrule.data.text.Vocabulary` (words) or `CharVocabulary`
(characters), then `batchify` and `bptt_batches`.
"""

from __future__ import annotations

import os

from chainrule.data.readers._files import find_file, read_text, resolve_folder

__all__ = [
    "read_corpus",
    "load_tiny_shakespeare",
    "load_ptb",
    "TinyShakespeare",
    "PennTreebank",
]


def read_corpus(
    path: str | os.PathLike, encoding: str = "utf-8", eos: str | None = "<eos>"
) -> list[str]:
    """Whitespace tokens of a text file (gzip or not), with ``eos`` after every non-empty line.

    Args:
        path: the file.
        encoding: its text encoding.
        eos: end-of-sentence token appended per line; ``None`` appends nothing.
    """
    tokens: list[str] = []
    for line in read_text(path, encoding).split("\n"):
        words = line.split()
        if not words:
            continue
        tokens.extend(words)
        if eos is not None:
            tokens.append(eos)
    return tokens


def load_tiny_shakespeare(root: str | os.PathLike | None = None, download: bool = False) -> str:
    """The tiny-shakespeare text (``tinyshakespeare/input.txt``) as one string."""
    folder = resolve_folder("tinyshakespeare", root, ["input.txt"], download)
    return read_text(find_file(folder, "input.txt"), "utf-8")


def load_ptb(
    root: str | os.PathLike | None = None,
    split: str = "train",
    eos: str | None = "<eos>",
    download: bool = False,
) -> list[str]:
    """The Penn Treebank token stream of ``split`` (``train``, ``valid`` or ``test``)."""
    if split not in ("train", "valid", "test"):
        raise ValueError(f"load_ptb: unknown split {split!r}; available: train, valid, test.")
    name = f"ptb.{split}.txt"
    folder = resolve_folder("ptb", root, [name], download)
    return read_corpus(find_file(folder, name), "utf-8", eos)


class TinyShakespeare:
    """tiny-shakespeare (Karpathy's char-rnn data).

    Args:
        root: ``tinyshakespeare/`` itself or the folder containing it; default
            ``$CHAINRULE_DATA``.
        download: fetch ``input.txt`` if missing.

    Attributes:
        text: the whole corpus as one string.
    """

    def __init__(self, root: str | os.PathLike | None = None, download: bool = False) -> None:
        self.text = load_tiny_shakespeare(root, download)

    def __len__(self) -> int:
        return len(self.text)

    def __repr__(self) -> str:
        return f"TinyShakespeare(chars={len(self.text)}, distinct={len(set(self.text))})"


class PennTreebank:
    """The Penn Treebank language-modelling split of Mikolov et al.

    Args:
        root: ``ptb/`` itself or the folder containing it.
        split: ``"train"``, ``"valid"`` or ``"test"``.
        eos: token appended to every sentence (``None`` for none).
        download: fetch the files if missing.

    Attributes:
        tokens: the token stream.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        eos: str | None = "<eos>",
        download: bool = False,
    ) -> None:
        self.split = split
        self.tokens = load_ptb(root, split, eos, download)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"PennTreebank(split={self.split}, tokens={len(self.tokens)})"
