"""``Word2Vec``: skip-gram and CBOW with negative sampling (Mikolov et al. 2013), trained by the
hand-written SGD kernel of `chainrule.kernels.word2vec`.

Training follows Mikolov's C code: the vocabulary keeps words seen at least ``min_count`` times
(most frequent first); frequent words are subsampled with threshold ``sample``; each position
draws a reduced window radius in ``1..window``; each update draws ``negative`` noise words from
the unigram distribution raised to 0.75; the learning rate falls linearly from ``lr`` to
``lr * min_lr_ratio`` over the run. Input vectors start uniform in ``(-0.5/dim, 0.5/dim)``,
output vectors at zero.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...backend import get_rng
from ...data.readers.vectors import WordVectors
from ...data.text import Vocabulary
from ...kernels import word2vec as kernel
from .corpus import count_words, encode_corpus
from .io import load_vectors, save_vectors
from .vectors import VectorQueries, vocabulary_of

__all__ = ["Word2Vec"]

# words per kernel call: the progress bar and the reported loss move this often
_CHUNK_WORDS = 50_000


class Word2Vec(VectorQueries):
    """Word vectors trained with skip-gram or CBOW and negative sampling.

    Args:
        sentences: a corpus to build the vocabulary from and train on at once: an iterable of
            sentences (sequences of tokens) or one flat list of tokens. Default: none (call
            `build_vocab` and `train`).
        dim: length of the vectors. Default: 100.
        window: largest distance between a word and its context; each position draws a radius
            uniformly in ``1..window``. Default: 5.
        negative: noise words per update. Default: 5.
        min_count: ignore words seen fewer times. Default: 5.
        epochs: passes over the corpus. Default: 5.
        sg: skip-gram (True) or CBOW (False). Default: True.
        sample: subsampling threshold; words more frequent than about ``sample`` are dropped
            at random; 0 keeps all. Default: 1e-3.
        lr: starting learning rate. Default: 0.025 for skip-gram, 0.05 for CBOW.
        min_lr_ratio: the learning rate stops falling at ``lr * min_lr_ratio``. Default: 1e-4.
        seed: seed of the initial vectors and of the sampling; default: drawn from the package
            generator (`chainrule.manual_seed` makes it reproducible).
        workers: threads; 1 is reproducible, more run lock-free (Hogwild) and are not.
            Default: 1.
        max_sentence_length: longer sentences are split. Default: 1000.
        noise_table_size: most slots of the negative-sampling table (a vocabulary of ``V``
            words uses ``min(noise_table_size, 1000 V)``). Default: 10,000,000.
        progress: a tqdm bar with words/s: True, False, or None (only on a terminal).

    Attributes:
        vectors: the word vectors ``(len(vocab), dim)`` float32 (the input table).
        syn1neg: the output table used by negative sampling (None for loaded vectors).
        vocab: a `Vocabulary` (no special tokens) whose ``itos`` names the rows.
        counts: corpus count of each word (None for loaded vectors).
        history: one dict per trained epoch: ``epoch``, ``loss``, ``lr``, ``words``,
            ``seconds``, ``words_per_sec``.

    Example:
        >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
        >>> w2v = Word2Vec(corpus, dim=8, min_count=1, epochs=1, seed=0, progress=False)
        >>> w2v.vectors.shape, w2v.most_similar("cat", topn=1)[0][0] in w2v
        ((4, 8), True)
    """

    def __init__(
        self,
        sentences: Any = None,
        *,
        dim: int = 100,
        window: int = 5,
        negative: int = 5,
        min_count: int = 5,
        epochs: int = 5,
        sg: bool = True,
        sample: float = 1e-3,
        lr: float | None = None,
        min_lr_ratio: float = 1e-4,
        seed: int | None = None,
        workers: int = 1,
        max_sentence_length: int = 1000,
        noise_table_size: int = 10_000_000,
        progress: bool | None = None,
    ) -> None:
        for name, value, low in (
            ("dim", dim, 1), ("window", window, 1), ("negative", negative, 1),
            ("min_count", min_count, 1), ("epochs", epochs, 1), ("workers", workers, 1),
            ("max_sentence_length", max_sentence_length, 1),
            ("noise_table_size", noise_table_size, 1),
        ):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"Word2Vec: {name} must be an integer >= {low}, got {value!r}.")
        lr = (0.025 if sg else 0.05) if lr is None else lr
        if not lr > 0 or not 0 <= min_lr_ratio <= 1 or not sample >= 0:
            raise ValueError(
                f"Word2Vec: expected lr > 0, 0 <= min_lr_ratio <= 1 and sample >= 0, got "
                f"lr={lr}, min_lr_ratio={min_lr_ratio}, sample={sample}."
            )
        self.window, self.negative = int(window), int(negative)
        self.min_count, self.epochs, self.sg = int(min_count), int(epochs), bool(sg)
        self.sample, self.lr, self.min_lr_ratio = float(sample), float(lr), float(min_lr_ratio)
        self.seed = int(get_rng().integers(2**31)) if seed is None else int(seed)
        self.workers, self.max_sentence_length = int(workers), int(max_sentence_length)
        self.noise_table_size, self.progress = int(noise_table_size), progress
        self.vocab = vocabulary_of([])
        self.vectors = np.zeros((0, int(dim)), np.float32)
        self.syn1neg: np.ndarray | None = None
        self.counts: np.ndarray | None = None
        self.history: list[dict[str, float]] = []
        self._corpus: tuple[np.ndarray, np.ndarray] | None = None
        self._states = kernel.lcg_seed(self.seed, self.workers)
        if sentences is not None:
            self.build_vocab(sentences)
            self.train()

    # ------------------------------------------------------------------------------ training
    def build_vocab(self, sentences: Any) -> Word2Vec:
        """Count the words of ``sentences``, keep the frequent ones and initialise the tables.

        The encoded corpus is kept, so `train` with no argument trains on it.
        """
        counts = count_words(sentences, self.max_sentence_length)
        self.vocab = Vocabulary(counts, self.min_count, specials=(), unk_token=None)
        if len(self.vocab) == 0:
            raise ValueError(
                f"Word2Vec: no word occurs min_count={self.min_count} times in a corpus of "
                f"{sum(counts.values())} tokens ({len(counts)} distinct); lower min_count."
            )
        self.counts = np.array([counts[w] for w in self.vocab.itos], dtype=np.int64)
        rng = np.random.default_rng(self.seed)
        shape = (len(self.vocab), self.dim)
        self.vectors = ((rng.random(shape) - 0.5) / self.dim).astype(np.float32)
        self.syn1neg = np.zeros(shape, np.float32)
        size = min(self.noise_table_size, 1000 * len(self.vocab))
        self._table = kernel.noise_table(self.counts, 0.75, size)
        self._keep = kernel.keep_probabilities(self.counts, self.sample)
        self._states = kernel.lcg_seed(self.seed, self.workers)
        self._corpus = encode_corpus(sentences, self.vocab.stoi, self.max_sentence_length)
        self.history = []
        self._forget_unit()
        return self

    def train(self, sentences: Any = None, epochs: int | None = None) -> Word2Vec:
        """Train for ``epochs`` passes (default: the constructor's) with a falling learning rate.

        Args:
            sentences: the corpus; default: the one given to `build_vocab`. Words outside the
                vocabulary are skipped.
            epochs: passes over the corpus.

        Returns:
            self, with one entry per epoch appended to ``history``.
        """
        if self.syn1neg is None or self.counts is None:
            raise RuntimeError(
                "Word2Vec: these vectors were loaded without the output table and word counts "
                "that training needs (or build_vocab was not called); train a new model with "
                "Word2Vec(sentences, ...)."
            )
        epochs = self.epochs if epochs is None else int(epochs)
        if epochs < 1:
            raise ValueError(f"Word2Vec.train: epochs must be >= 1, got {epochs}.")
        if sentences is None:
            if self._corpus is None:
                raise RuntimeError("Word2Vec.train: no corpus; pass sentences or build_vocab.")
            ids, starts = self._corpus
        else:
            ids, starts = encode_corpus(sentences, self.vocab.stoi, self.max_sentence_length)
        if ids.size == 0:
            raise ValueError("Word2Vec.train: the corpus holds no word of the vocabulary.")
        self._run(ids, starts, epochs)
        self._forget_unit()
        return self

    def _run(self, ids: np.ndarray, starts: np.ndarray, epochs: int) -> None:
        sentences = starts.size - 1
        marks = np.searchsorted(starts, np.arange(0, ids.size, _CHUNK_WORDS), side="left")
        bounds = np.unique(np.append(marks, sentences))
        total = epochs * ids.size
        bar = self._bar(total)
        try:
            for epoch in range(epochs):
                begin = time.perf_counter()
                sums = np.zeros(4)
                for first, last in zip(bounds[:-1], bounds[1:], strict=True):
                    sums += kernel.word2vec_train(
                        self.vectors, self.syn1neg, ids, starts, int(first), int(last),
                        self._keep, self._table, self._states, sg=self.sg, window=self.window,
                        negative=self.negative, lr=self.lr, min_lr=self.lr * self.min_lr_ratio,
                        offset=epoch * ids.size, total=total, sample=self.sample > 0,
                    )  # fmt: skip
                    if bar is not None:
                        bar.update(int(starts[last] - starts[first]))
                        loss = sums[0] / max(sums[3], 1)
                        bar.set_postfix(epoch=epoch + 1, loss=f"{loss:.4f}", refresh=False)
                seconds = time.perf_counter() - begin
                self.history.append(
                    {
                        "epoch": len(self.history) + 1,
                        "loss": float(sums[0] / max(sums[3], 1)),
                        "lr": self.lr * max(1 - (epoch + 1) / epochs, self.min_lr_ratio),
                        "words": int(ids.size),
                        "updates": int(sums[1]),
                        "seconds": seconds,
                        "words_per_sec": ids.size / max(seconds, 1e-9),
                    }
                )
        finally:
            if bar is not None:
                bar.close()

    def _bar(self, total: int) -> Any:
        if self.progress is False:
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=total,
            unit="word",
            unit_scale=True,
            desc="word2vec " + ("skip-gram" if self.sg else "cbow"),
            disable=None if self.progress is None else False,
            dynamic_ncols=True,
        )

    @property
    def words_per_sec(self) -> float:
        """Training speed over all epochs so far (corpus words per second)."""
        seconds = sum(h["seconds"] for h in self.history)
        return sum(h["words"] for h in self.history) / seconds if seconds else 0.0

    # ---------------------------------------------------------------------------------- I/O
    def save(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the vectors in the word2vec text format, or the binary one with ``binary``."""
        save_vectors(path, self.vocab.itos, self.vectors, binary)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike | Sequence[str | os.PathLike],
        format: str = "auto",
        binary: bool | None = None,
        limit: int | None = None,
        vocab: Iterable[str] | None = None,
    ) -> Word2Vec:
        """Vectors from a word2vec (text or binary) or GloVe file, ready for queries.

        Args:
            path: the file (or, for GloVe, files read in order); gzip or not.
            format: ``"word2vec"``, ``"glove"`` or ``"auto"`` (a ``count dim`` header means
                word2vec).
            binary: word2vec only; ``None`` detects it.
            limit: keep at most this many words.
            vocab: keep only these words.
        """
        return cls.from_word_vectors(load_vectors(path, format, binary, limit, vocab))

    @classmethod
    def load_glove(
        cls,
        path: str | os.PathLike | Sequence[str | os.PathLike],
        limit: int | None = None,
        vocab: Iterable[str] | None = None,
    ) -> Word2Vec:
        """Vectors from GloVe text files (e.g. ``glove.6B.50d.txt``)."""
        return cls.load(path, "glove", None, limit, vocab)

    @classmethod
    def from_word_vectors(cls, table: WordVectors) -> Word2Vec:
        """Wrap a `chainrule.data.WordVectors` table (copied) for queries and export."""
        model = cls(dim=max(table.dim, 1), progress=False, seed=0)
        model.vocab = vocabulary_of(table.words)
        model.vectors = np.array(table.vectors, dtype=np.float32)
        return model

    def __repr__(self) -> str:
        if self.syn1neg is None:
            return f"Word2Vec(words={len(self)}, dim={self.dim}, loaded vectors)"
        kind = "skip-gram" if self.sg else "cbow"
        return (
            f"Word2Vec(words={len(self)}, dim={self.dim}, {kind}, window={self.window}, "
            f"negative={self.negative}, trained_epochs={len(self.history)})"
        )
