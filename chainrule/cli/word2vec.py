"""`chainrule word2vec`: train word vectors on a text corpus and write them to a file."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]

_CORPORA = ("ptb", "tinyshakespeare")
# a sentence end that no whitespace-separated token can equal
_EOS = "\n<eos>\n"


def add_parser(sub: Any) -> None:
    """Register the ``word2vec`` sub-command."""
    cmd = sub.add_parser(
        "word2vec",
        help="train word2vec vectors (skip-gram or CBOW, negative sampling) on a text corpus",
        description=(
            "Train word vectors with skip-gram or CBOW and negative sampling (Mikolov et al. "
            "2013), following the C code: subsampling of frequent words, random reduced "
            "windows, a unigram^0.75 noise table, a linearly falling learning rate. Writes the "
            "vectors in the word2vec text format (or binary with --binary) and prints the "
            "neighbours of the --show words."
        ),
    )
    cmd.add_argument(
        "--data",
        default="ptb",
        help="'ptb' (Penn Treebank train split, one sentence per line), 'tinyshakespeare' "
        "(lines lower-cased and tokenised), or a text FILE (gzip or not: one sentence per line, "
        "tokens separated by whitespace); default ptb",
    )
    cmd.add_argument(
        "--data-dir",
        default=None,
        help="folder holding ptb/ or tinyshakespeare/; default $CHAINRULE_DATA, then the shared "
        "data folder next to the repository",
    )
    cmd.add_argument(
        "--out", default="vectors.txt", help="file to write the vectors to; default %(default)s"
    )
    cmd.add_argument(
        "--binary",
        action="store_true",
        help="write the word2vec binary format; default: the text format",
    )
    cmd.add_argument(
        "--dim", type=int, default=100, help="length of the word vectors; default %(default)s"
    )
    cmd.add_argument(
        "--window",
        type=int,
        default=5,
        help="largest context distance (radius drawn in 1..N); default %(default)s",
    )
    cmd.add_argument(
        "--negative", type=int, default=5, help="noise words per update; default %(default)s"
    )
    cmd.add_argument(
        "--min-count",
        type=int,
        default=5,
        help="ignore words seen fewer times; default %(default)s",
    )
    cmd.add_argument(
        "--epochs", type=int, default=5, help="passes over the corpus; default %(default)s"
    )
    arch = cmd.add_mutually_exclusive_group()
    arch.add_argument(
        "--sg",
        dest="sg",
        action="store_true",
        default=True,
        help="skip-gram architecture (the default)",
    )
    arch.add_argument(
        "--cbow", dest="sg", action="store_false", help="CBOW architecture; default: skip-gram"
    )
    cmd.add_argument(
        "--sample",
        type=float,
        default=1e-3,
        help="subsampling threshold for frequent words (0: off); default %(default)s",
    )
    cmd.add_argument(
        "--lr",
        type=float,
        default=None,
        help="starting learning rate, falling linearly to 1e-4 of it; default 0.025 for "
        "skip-gram, 0.05 for CBOW",
    )
    cmd.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed (reproducible with 1 worker); default %(default)s",
    )
    cmd.add_argument(
        "--workers",
        type=int,
        default=1,
        help="threads; more than 1 is faster, not reproducible; default %(default)s",
    )
    cmd.add_argument(
        "--show",
        nargs="*",
        default=None,
        metavar="WORD",
        help="print the nearest neighbours of these words after training; default: the 11th to "
        "15th most frequent words",
    )
    cmd.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar; default: a tqdm bar with words/s on a terminal",
    )
    cmd.set_defaults(run=run)


def _shared_data() -> Path | None:
    env = os.environ.get("CHAINRULE_SHARED_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    return here if here.is_dir() else None


def _data_root(data_dir: str | None, folder: str) -> Path | None:
    for root in (data_dir, os.environ.get("CHAINRULE_DATA"), _shared_data()):
        if root and (Path(root) / folder).is_dir():
            return Path(root)
    return Path(data_dir) if data_dir else None


def load_sentences(data: str, data_dir: str | None = None) -> list[list[str]]:
    """The corpus named by ``--data`` as a list of tokenised sentences."""
    from ..data.readers import load_ptb, load_tiny_shakespeare, read_corpus
    from ..data.text import tokenize

    if data == "ptb":
        return _split(load_ptb(_data_root(data_dir, "ptb"), "train", eos=_EOS))
    if data == "tinyshakespeare":
        text = load_tiny_shakespeare(_data_root(data_dir, "tinyshakespeare"))
        return [words for words in (tokenize(line) for line in text.splitlines()) if words]
    if not Path(data).is_file():
        raise SystemExit(
            f"chainrule word2vec: --data {data!r} is neither one of {', '.join(_CORPORA)} nor a "
            "file."
        )
    return _split(read_corpus(data, eos=_EOS))


def _split(tokens: list[str]) -> list[list[str]]:
    sentences: list[list[str]] = [[]]
    for token in tokens:
        if token == _EOS:
            sentences.append([])
        else:
            sentences[-1].append(token)
    return [s for s in sentences if s]


def run(args: argparse.Namespace) -> int:
    """Train, save the vectors, report speed and a few neighbours."""
    from ..models.word2vec import Word2Vec

    sentences = load_sentences(args.data, args.data_dir)
    tokens = sum(len(s) for s in sentences)
    print(f"corpus {args.data}: {len(sentences):,} sentences, {tokens:,} tokens")
    model = Word2Vec(
        dim=args.dim, window=args.window, negative=args.negative, min_count=args.min_count,
        epochs=args.epochs, sg=args.sg, sample=args.sample, lr=args.lr, seed=args.seed,
        workers=args.workers, progress=False if args.no_progress else None,
    )  # fmt: skip
    model.build_vocab(sentences)
    print(f"vocabulary: {len(model):,} words seen at least {args.min_count} times")
    begin = time.perf_counter()
    model.train()
    seconds = time.perf_counter() - begin
    for h in model.history:
        print(
            f"epoch {h['epoch']}: loss {h['loss']:.4f}, {h['words_per_sec']:,.0f} words/s, "
            f"{h['seconds']:.1f} s"
        )
    print(f"trained in {seconds:.1f} s ({model.words_per_sec:,.0f} words/s)")
    model.save(args.out, binary=args.binary)
    print(f"wrote {len(model):,} vectors of dim {model.dim} to {args.out}")
    show = args.show if args.show is not None else model.words[10:15]
    for word in show:
        if word not in model:
            print(f"{word}: not in the vocabulary")
            continue
        near = ", ".join(f"{w} {s:.2f}" for w, s in model.most_similar(word, topn=8))
        print(f"{word}: {near}")
    return 0
