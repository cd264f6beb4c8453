"""Sentence-classification sets of Kim (2014): MR, SST-1, SST-2, Subj, TREC, CR, MPQA.

On-disk layout (the folder names of the shared data folder):

- ``mr/rt-polarity.pos``, ``mr/rt-polarity.neg``: one raw sentence per line, cp1252 bytes; the
  file name is the class (1 positive, 0 negative).
- ``sst1/stsa.fine.{train,dev,test}``, ``sst2/stsa.binary.{train,dev,test}``: ``LABEL text`` per
  line, UTF-8, already tokenised and lower-cased.
- ``subj/subj.all`` (cp1252; 0 subjective, 1 objective), ``cr/custrev.all`` (1 positive),
  ``mpqa/mpqa.all`` (1 positive): ``LABEL text`` per line, no split.
- ``trec/TREC.{train,test}.all``: ``LABEL text`` with 6 coarse classes (cp1252);
  ``trec/raw/TREC.{train,test}``: ``COARSE:fine text`` for the 50 fine classes.

Each dataset yields ``(sentence: str, label: int)``; ``.sentences`` and ``.labels`` hold all.
Sets without a split (MR, Subj, CR, MPQA) were evaluated with 10-fold cross-validation by Kim;
`kfold_indices` gives such folds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from chainrule.backend import get_rng
from chainrule.data.dataset import Dataset, _check_index
from chainrule.data.readers._files import find_file, read_text, resolve_folder

__all__ = [
    "read_labelled_lines",
    "SentenceDataset",
    "MR",
    "SST1",
    "SST2",
    "Subj",
    "TREC",
    "CR",
    "MPQA",
    "kfold_indices",
    "TREC_COARSE_CLASSES",
]

TREC_COARSE_CLASSES = ("DESC", "ENTY", "ABBR", "HUM", "LOC", "NUM")


def read_labelled_lines(
    path: str | os.PathLike, encoding: str = "utf-8"
) -> tuple[list[str], np.ndarray]:
    """Read ``LABEL<space>text`` lines (blank lines skipped).

    Returns:
        ``(sentences, labels int64)``.

    Raises:
        ValueError: naming the file and line whose label is not an integer.
    """
    path = Path(path)
    sentences: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(read_text(path, encoding).split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        head, _, text = line.partition(" ")
        try:
            labels.append(int(head))
        except ValueError as err:
            raise ValueError(
                f"{path}, line {number}: expected 'LABEL text' with an integer label, "
                f"got {line[:40]!r}."
            ) from err
        sentences.append(text.strip())
    return sentences, np.asarray(labels, dtype=np.int64)


def _read_lines(path: Path, encoding: str) -> list[str]:
    return [s.strip() for s in read_text(path, encoding).split("\n") if s.strip()]


class SentenceDataset(Dataset):
    """Sentences with integer labels; item ``i`` is ``(sentences[i], labels[i])``.

    Args:
        sentences: the texts.
        labels: one integer per text.
        classes: class names, indexed by label.
    """

    def __init__(self, sentences: list[str], labels: np.ndarray, classes: tuple[str, ...]) -> None:
        labels = np.asarray(labels, dtype=np.int64)
        if len(sentences) != labels.shape[0]:
            raise ValueError(
                f"{type(self).__name__}: {len(sentences)} sentences but {labels.shape[0]} "
                "labels; expected equal counts."
            )
        self.sentences, self.labels, self.classes = list(sentences), labels, tuple(classes)

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, index: int) -> tuple[str, int]:
        i = _check_index(type(self).__name__, index, len(self))
        return self.sentences[i], int(self.labels[i])

    def __repr__(self) -> str:
        counts = np.bincount(self.labels, minlength=len(self.classes)).tolist()
        return f"{type(self).__name__}(n={len(self)}, classes={len(self.classes)}, counts={counts})"


def _check_split(name: str, split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"{name}: unknown split {split!r}; available: {', '.join(allowed)}.")


class MR(SentenceDataset):
    """Movie-review sentence polarity (Pang & Lee 2005): 5,331 positive + 5,331 negative.

    Args:
        root: ``mr/`` itself or the folder containing it; default ``$CHAINRULE_DATA``.
        download: fetch the files if missing.

    Positive sentences come first (label 1), then negative ones (label 0), as in Kim's scripts.
    The sentences are raw text; clean them with `chainrule.data.text.clean_str`.
    """

    def __init__(self, root: str | os.PathLike | None = None, download: bool = False) -> None:
        folder = resolve_folder("mr", root, ["rt-polarity.pos", "rt-polarity.neg"], download)
        pos = _read_lines(folder / "rt-polarity.pos", "cp1252")
        neg = _read_lines(folder / "rt-polarity.neg", "cp1252")
        labels = np.concatenate([np.ones(len(pos), np.int64), np.zeros(len(neg), np.int64)])
        super().__init__(pos + neg, labels, ("negative", "positive"))


class _SplitFileSet(SentenceDataset):
    _name = ""
    _pattern = ""
    _splits: tuple[str, ...] = ()
    _encoding = "utf-8"
    _classes: tuple[str, ...] = ()

    def __init__(
        self, root: str | os.PathLike | None = None, split: str = "train", download: bool = False
    ) -> None:
        _check_split(type(self).__name__, split, self._splits)
        filename = self._pattern.format(split=split)
        folder = resolve_folder(self._name, root, [filename], download)
        sentences, labels = read_labelled_lines(find_file(folder, filename), self._encoding)
        self.split = split
        super().__init__(sentences, labels, self._classes)


class SST1(_SplitFileSet):
    """Stanford Sentiment Treebank, 5 classes (0 very negative ... 4 very positive), sentences.

    Args:
        root: ``sst1/`` itself or the folder containing it.
        split: ``"train"`` (8,544), ``"dev"`` (1,101) or ``"test"`` (2,210).
        download: fetch the files if missing.
    """

    _name, _pattern, _splits = "sst1", "stsa.fine.{split}", ("train", "dev", "test")
    _classes = ("very negative", "negative", "neutral", "positive", "very positive")


class SST2(_SplitFileSet):
    """Stanford Sentiment Treebank, binary (1 positive), sentences without neutral ones.

    Args:
        root: ``sst2/`` itself or the folder containing it.
        split: ``"train"`` (6,920), ``"dev"`` (872) or ``"test"`` (1,821).
        download: fetch the files if missing.
    """

    _name, _pattern, _splits = "sst2", "stsa.binary.{split}", ("train", "dev", "test")
    _classes = ("negative", "positive")


class Subj(_SplitFileSet):
    """Subjectivity (Pang & Lee 2004): 10,000 sentences, 0 subjective, 1 objective."""

    _name, _pattern, _splits, _encoding = "subj", "subj.{split}", ("all",), "cp1252"
    _classes = ("subjective", "objective")

    def __init__(
        self, root: str | os.PathLike | None = None, split: str = "all", download: bool = False
    ) -> None:
        super().__init__(root, split, download)


class CR(_SplitFileSet):
    """Customer reviews (Hu & Liu 2004): 3,775 sentences, 1 positive, 0 negative."""

    _name, _pattern, _splits, _encoding = "cr", "custrev.{split}", ("all",), "cp1252"
    _classes = ("negative", "positive")

    def __init__(
        self, root: str | os.PathLike | None = None, split: str = "all", download: bool = False
    ) -> None:
        super().__init__(root, split, download)


class MPQA(_SplitFileSet):
    """MPQA opinion polarity (Wiebe et al. 2005): 10,606 phrases, 1 positive, 0 negative."""

    _name, _pattern, _splits, _encoding = "mpqa", "mpqa.{split}", ("all",), "cp1252"
    _classes = ("negative", "positive")

    def __init__(
        self, root: str | os.PathLike | None = None, split: str = "all", download: bool = False
    ) -> None:
        super().__init__(root, split, download)


class TREC(SentenceDataset):
    """TREC question classification (Li & Roth 2002).

    Args:
        root: ``trec/`` itself or the folder containing it.
        split: ``"train"`` (5,452) or ``"test"`` (500).
        fine: use the fine labels of ``raw/TREC.*`` (``"DESC:manner"`` ...); classes are then the
            sorted fine tags found in the raw train and test files (50 with both present), so
            both splits share one numbering. Default: the 6 coarse classes of ``TREC.*.all``.
        download: fetch the files if missing.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        fine: bool = False,
        download: bool = False,
    ) -> None:
        _check_split("TREC", split, ("train", "test"))
        self.split = split
        if not fine:
            name = f"TREC.{split}.all"
            folder = resolve_folder("trec", root, [name], download)
            sentences, labels = read_labelled_lines(find_file(folder, name), "cp1252")
            super().__init__(sentences, labels, TREC_COARSE_CLASSES)
            return
        name = f"raw/TREC.{split}"
        folder = resolve_folder("trec", root, [name], download)
        tags, sentences = _read_trec_raw(folder, name)
        # one label numbering for both splits: the sorted fine tags of every raw file present
        every = set(tags)
        for other in ("raw/TREC.train", "raw/TREC.test"):
            if other != name and find_file(folder, other) is not None:
                every.update(_read_trec_raw(folder, other)[0])
        classes = tuple(sorted(every))
        lookup = {c: k for k, c in enumerate(classes)}
        super().__init__(sentences, np.asarray([lookup[t] for t in tags]), classes)


def _read_trec_raw(folder: Path, name: str) -> tuple[list[str], list[str]]:
    """Fine tags and questions of a raw TREC file (``COARSE:fine question`` per line)."""
    tags, sentences = [], []
    for number, line in enumerate(_read_lines(find_file(folder, name), "cp1252"), start=1):
        tag, _, text = line.partition(" ")
        if ":" not in tag:
            raise ValueError(
                f"{folder / name}, line {number}: expected 'COARSE:fine question', "
                f"got {line[:40]!r}."
            )
        tags.append(tag)
        sentences.append(text.strip())
    return tags, sentences


def kfold_indices(
    n: int, k: int = 10, generator: np.random.Generator | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, test) index pairs of a shuffled k-fold cross-validation over ``n`` items.

    Example:
        >>> folds = list(kfold_indices(10, k=5, generator=np.random.default_rng(0)))
        >>> len(folds), len(folds[0][0]), len(folds[0][1])
        (5, 8, 2)
    """
    if k < 2 or k > n:
        raise ValueError(f"kfold_indices: k must be in [2, n={n}], got {k}.")
    order = (generator if generator is not None else get_rng()).permutation(n)
    folds = np.array_split(order, k)
    for f in range(k):
        train = np.concatenate([folds[j] for j in range(k) if j != f])
        yield train, folds[f]
