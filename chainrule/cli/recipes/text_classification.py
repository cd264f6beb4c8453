"""Sentence classification with Kim's (2014) CNN: `chainrule train --data mr --variant rand`.

Kim's recipe: filters of widths 3/4/5 x 100, ReLU, max over time, dropout 0.5, max-norm 3 on the
output layer's weight rows, Adadelta (rho 0.95, eps 1e-6), batches of 50, 25 epochs, keeping the
epoch that is best on a development set (10% of the training data where the set has none). Sets
without a split (MR, Subj, CR, MPQA) are scored by k-fold cross-validation; SST-1/2 and TREC on
their test sets. Word vectors: GloVe 6B 50-d from the shared data folder (Kim used 300-d
word2vec), a vector file of your own, or none. Pretrained vectors are first multiplied by one
factor that gives their elements the spread of word2vec's (std 0.144, that of Kim's U(-0.25, 0.25)
for unknown words), the scale Kim's other settings were chosen for; ``--vector-std none`` keeps
them as read.

Each sentence is cleaned as in Kim's scripts (lower-cased, except for TREC), truncated to
``--max-len`` tokens and framed by ``widest - 1`` padding tokens on each side, so every word starts
and ends a window of every width; batches are padded to their longest sentence, and the model
ignores windows made only of padding.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["TITLE", "DATA", "add_arguments", "run", "classify_sentence"]

TITLE = "sentence classification, Kim's CNN"
DATA = ("mr", "sst1", "sst2", "subj", "trec", "cr", "mpqa")

_CV_SETS = ("mr", "subj", "cr", "mpqa")  # no standard split: k-fold cross-validation
_DEFAULTS = {"model": "textcnn", "epochs": 25, "batch_size": 50, "lr": 1.0, "optimizer": "adadelta"}
_EVAL_BATCH = 500
# standard deviation of U(-0.25, 0.25): Kim drew unknown words from it to match word2vec's spread
_KIM_STD = 0.25 / 3**0.5
_KIM_STD_TEXT = f"{_KIM_STD:.4f}"


def add_arguments(group: Any) -> None:
    """The recipe's own options of ``chainrule train``."""
    group.add_argument(
        "--variant",
        default="rand",
        choices=["rand", "static", "non-static", "multichannel"],
        help="word vectors: learned from scratch (rand), pretrained and frozen (static), "
        "pretrained and fine-tuned (non-static), or both channels (multichannel); default rand",
    )
    group.add_argument(
        "--vectors",
        default=None,
        help="pretrained vectors for static/non-static/multichannel: 'glove' (GloVe 6B 50-d from "
        "the shared data folder, the default), a GloVe or word2vec file, or 'none' (random)",
    )
    group.add_argument(
        "--vector-std",
        default=_KIM_STD_TEXT,
        help="multiply the pretrained vectors by one factor so that their elements have this "
        "standard deviation (directions and cosine similarities are kept), or 'none' to use "
        f"them as read; default {_KIM_STD_TEXT}, the spread of Kim's U(-0.25, 0.25) and of "
        "word2vec's vectors, for which his settings were chosen",
    )
    group.add_argument(
        "--unknown-scale",
        default="auto",
        help="words without a pretrained vector start from U(-a, a): a number a (Kim: 0.25) "
        "or 'auto', the a that gives them the spread of the (rescaled) pretrained vectors; "
        "default auto (= 0.25 with the default --vector-std)",
    )
    group.add_argument(
        "--folds",
        type=int,
        default=10,
        help="k of the k-fold cross-validation for sets without a test split (mr, subj, cr, "
        "mpqa); default 10",
    )
    group.add_argument(
        "--fold-limit",
        type=int,
        default=None,
        help="run only the first N folds of the cross-validation (default: all)",
    )
    group.add_argument(
        "--max-len",
        type=int,
        default=None,
        help="cut sentences to this many tokens (default: keep every token)",
    )
    group.add_argument(
        "--embed-dim",
        type=int,
        default=300,
        help="word-vector length of the rand variant (Kim: 300); pretrained variants use the "
        "width of their vectors",
    )
    group.add_argument(
        "--patience",
        type=int,
        default=5,
        help="stop after this many epochs without a better development accuracy (the best "
        "epoch's weights are kept); default 5, 0 trains all --epochs",
    )
    group.add_argument(
        "--dev-fraction",
        type=float,
        default=0.1,
        help="share of the training data held out as the development set where the data set "
        "has none; default 0.1",
    )
    group.add_argument(
        "--save-model",
        default=None,
        metavar="DIR",
        help="save the trained model (the last fold's under cross-validation) as a checkpoint "
        "folder that `classify_sentence` and `chainrule predict` read",
    )


# ---------------------------------------------------------------------------------- data
def _shared_data() -> Path | None:
    env = os.environ.get("CHAINRULE_SHARED_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
    return here if here.is_dir() else None


def _data_root(args: argparse.Namespace, folder: str) -> Path | None:
    """The folder that holds ``folder/``: --data-dir, $CHAINRULE_DATA or the shared data."""
    candidates = [args.data_dir, os.environ.get("CHAINRULE_DATA"), _shared_data()]
    for root in candidates:
        if root and (Path(root) / folder).is_dir():
            return Path(root)
    return Path(args.data_dir) if args.data_dir else None


def _load_sentences(args: argparse.Namespace) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``({split: (token lists, labels)}, class names)``; CV sets have only ``"all"``."""
    from ...data import CR, MPQA, MR, SST1, SST2, TREC, Subj
    from ...data.text import clean_str, clean_str_sst

    name = args.data
    root = _data_root(args, name)
    if name in ("sst1", "sst2"):
        reader: Any = SST1 if name == "sst1" else SST2
        sets = {split: reader(root, split=split) for split in ("train", "dev", "test")}
        clean = clean_str_sst
    elif name == "trec":
        sets = {split: TREC(root, split=split) for split in ("train", "test")}
        clean = lambda text: clean_str(text, lower=False)  # noqa: E731 - Kim keeps TREC's case
    else:
        reader = {"mr": MR, "subj": Subj, "cr": CR, "mpqa": MPQA}[name]
        sets = {"all": reader(root)}
        clean = clean_str
    out = {}
    for split, ds in sets.items():
        tokens = [clean(s).split()[: args.max_len] for s in ds.sentences]
        out[split] = (tokens, ds.labels)
    classes = next(iter(sets.values())).classes
    return out, classes


def _encode(tokens: list[list[str]], stoi: dict[str, int], unk: int, pad: int) -> list[Any]:
    """Token ids of each sentence framed by ``pad`` padding ids (0) on each side."""
    import numpy as np

    frame = [0] * pad
    return [np.asarray(frame + [stoi.get(t, unk) for t in s] + frame, np.int64) for s in tokens]


class _Batches:
    """Re-iterable ``(ids, labels)`` batches, each padded to its longest sentence."""

    def __init__(self, seqs: list[Any], labels: Any, batch_size: int, shuffle: bool) -> None:
        self.seqs, self.labels = seqs, labels
        self.batch_size, self.shuffle = batch_size, shuffle

    def __len__(self) -> int:
        return -(-len(self.seqs) // self.batch_size)

    def __iter__(self):  # noqa: ANN204
        import numpy as np

        from ...backend import get_rng
        from ...data.text import pad_sequences

        n = len(self.seqs)
        order = get_rng().permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield pad_sequences([self.seqs[i] for i in idx]), self.labels[idx]


def _vectors(args: argparse.Namespace, words: set[str]) -> Any:
    """The pretrained ``WordVectors`` for ``words`` (None for --vectors none)."""
    from ...data import load_glove_6b, load_word_vectors

    choice = args.vectors or "glove"
    wanted = words | {w.lower() for w in words}
    if choice == "none":
        return None
    if choice == "glove":
        root = _data_root(args, "glove6b50d")
        return load_glove_6b(root, dim=50, vocab=wanted)
    return load_word_vectors(choice, vocab=wanted)


def _rescale(vectors: Any, choice: str) -> Any:
    """``vectors`` times one factor that gives their elements the standard deviation ``choice``.

    Kim's settings (unknown words from U(-0.25, 0.25), Adadelta's eps, the filters' initial
    scale) suit vectors whose elements spread like word2vec's (std about 0.14); GloVe's spread
    about five times wider. One common factor keeps every direction and cosine similarity.
    """
    from ...data import WordVectors

    if choice == "none" or len(vectors) == 0:
        return vectors
    std = float(vectors.vectors.std())
    if std == 0.0:
        return vectors
    return WordVectors(vectors.words, vectors.vectors * (float(choice) / std))


def _unknown_scale(choice: str, vectors: Any) -> float:
    """Half-width ``a`` of U(-a, a) for words without a vector: a number, or ``auto``."""
    if choice != "auto":
        return float(choice)
    if len(vectors) == 0:
        return 0.25
    # U(-a, a) has variance a**2 / 3: auto gives unknown words the variance of the known ones
    return float((3.0 * vectors.vectors.var()) ** 0.5)


def _table(vectors: Any, itos: list[str], scale: float) -> tuple[Any, int]:
    """Rows for ``itos``: a word's vector (or its lower-case form's), else U(-scale, scale)."""
    from ...models.textcnn import random_vectors

    table = random_vectors(len(itos), vectors.dim, scale=scale)
    found = 0
    for row, word in enumerate(itos[2:], start=2):  # 0 <pad> stays zero, 1 <unk> random
        key = word if word in vectors else word.lower()
        if key in vectors:
            table[row] = vectors[key]
            found += 1
    return table, found


# ---------------------------------------------------------------------------------- training
def _train_split(
    args: argparse.Namespace,
    train: tuple[list[list[str]], Any],
    dev: tuple[list[list[str]], Any],
    test: tuple[list[list[str]], Any],
    num_classes: int,
    vectors: Any,
) -> dict[str, Any]:
    """Train one model, select its epoch on ``dev``, score it on ``test``."""
    from ... import models, optim
    from ...data.text import Vocabulary
    from ...train import EarlyStopping, Trainer

    pretrained = args.variant != "rand"
    vocab_words = Vocabulary.build(train[0])
    if pretrained and vectors is not None:
        # words of any split that have a pretrained vector are useful without any label
        extra = {w for s in dev[0] + test[0] for w in s}
        extra = {w for w in extra if w in vectors or w.lower() in vectors}
        vocab_words = Vocabulary.build([*train[0], sorted(extra)])
    itos = vocab_words.itos
    kwargs: dict[str, Any] = {
        "vocab_size": len(itos),
        "num_classes": num_classes,
        "variant": args.variant,
        "embed_dim": args.embed_dim if not pretrained or vectors is None else vectors.dim,
    }
    found = 0
    if pretrained and vectors is not None:
        table, found = _table(vectors, itos, _unknown_scale(args.unknown_scale, vectors))
        model = models.build("textcnn", vectors=table, **kwargs)
    else:
        model = models.build("textcnn", **kwargs)
    pad = max(model.widths) - 1
    stoi = vocab_words.stoi
    unk = vocab_words.unk_index
    seqs = {
        name: _encode(part[0], stoi, unk, pad)
        for name, part in (("train", train), ("dev", dev), ("test", test))
    }
    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == "adadelta":
        opt: Any = optim.Adadelta(params, lr=args.lr, rho=0.95, eps=1e-6)
    elif args.optimizer == "adam":
        opt = optim.Adam(params, lr=args.lr)
    else:
        opt = optim.SGD(params, lr=args.lr, momentum=0.9)
    trainer = Trainer(model, opt, "cross_entropy", max_norm={"fc.weight": 3.0})
    patience = args.patience if args.patience > 0 else args.epochs
    stop = EarlyStopping("val_accuracy", patience=patience, restore_best_weights=True)
    wall, cpu = time.perf_counter(), time.process_time()
    history = trainer.fit(
        _Batches(seqs["train"], train[1], args.batch_size, shuffle=True),
        validation=_Batches(seqs["dev"], dev[1], _EVAL_BATCH, shuffle=False),
        epochs=args.epochs,
        callbacks=[stop],
        verbose=2 if args.quiet else 1,
    )
    logs = trainer.evaluate(_Batches(seqs["test"], test[1], _EVAL_BATCH, shuffle=False), verbose=0)
    dev_acc = history.history["val_accuracy"]
    best = int(max(range(len(dev_acc)), key=lambda e: dev_acc[e]))
    return {
        "test_accuracy": float(logs["accuracy"]),
        "dev_accuracy": float(dev_acc[best]),
        "best_epoch": best + 1,
        "epochs_run": len(dev_acc),
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "vocab": vocab_words,
        "found": found,
        "model": model,
        "kwargs": kwargs,
        "pad": pad,
    }


def _dev_split(part: tuple[list[list[str]], Any], fraction: float, rng: Any) -> tuple[Any, Any]:
    """Hold out ``fraction`` of ``part`` (at random) as the development set."""
    tokens, labels = part
    order = rng.permutation(len(tokens))
    n_dev = max(1, int(round(fraction * len(tokens))))
    dev, train = order[:n_dev], order[n_dev:]
    return ([tokens[i] for i in train], labels[train]), ([tokens[i] for i in dev], labels[dev])


def _subset(part: tuple[list[list[str]], Any], index: Any) -> tuple[list[list[str]], Any]:
    return [part[0][i] for i in index], part[1][index]


def _report(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name}: test accuracy {100 * result['test_accuracy']:.2f}%  (dev "
        f"{100 * result['dev_accuracy']:.2f}% at epoch {result['best_epoch']} of "
        f"{result['epochs_run']}; {result['wall_s']:.0f} s wall, {result['cpu_s']:.0f} s CPU)",
        flush=True,
    )


def _positive_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value > 0


def _check_options(args: argparse.Namespace) -> None:
    """Refuse option values the recipe cannot use, naming the option."""
    problems = []
    for name, value, low in (
        ("--folds", args.folds, 2),
        ("--fold-limit", args.fold_limit, 1),
        ("--max-len", args.max_len, 1),
        ("--embed-dim", args.embed_dim, 1),
        ("--patience", args.patience, 0),
        ("--epochs", args.epochs, 1),
        ("--batch-size", args.batch_size, 1),
    ):
        if value is not None and value < low:
            problems.append(f"{name} must be >= {low}, got {value}")
    if args.unknown_scale != "auto" and not _positive_number(args.unknown_scale):
        problems.append(f"--unknown-scale must be a number > 0 or 'auto', got {args.unknown_scale}")
    if args.vector_std != "none" and not _positive_number(args.vector_std):
        problems.append(f"--vector-std must be a number > 0 or 'none', got {args.vector_std}")
    if not 0 < args.dev_fraction < 1:
        problems.append(f"--dev-fraction must lie in (0, 1), got {args.dev_fraction}")
    if args.variant == "rand" and args.vectors not in (None, "none"):
        problems.append("--vectors applies to static, non-static and multichannel, not rand")
    if problems:
        raise SystemExit("chainrule train: " + "; ".join(problems) + ".")


def run(args: argparse.Namespace) -> int:
    """Train Kim's CNN on ``args.data`` and print the test (or cross-validated) accuracy."""
    for name, value in _DEFAULTS.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if args.model != "textcnn":
        raise SystemExit(f"chainrule train: --data {args.data} trains textcnn, not {args.model!r}.")
    _check_options(args)
    import numpy as np

    from ...backend import manual_seed
    from ...data.download import DatasetNotFoundError
    from ...data.readers.sentences import kfold_indices

    manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    try:
        splits, classes = _load_sentences(args)
        vectors = None
        if args.variant != "rand":
            words = {w for tokens, _ in splits.values() for s in tokens for w in s}
            vectors = _vectors(args, words)
            if vectors is not None:
                vectors = _rescale(vectors, args.vector_std)
    except (DatasetNotFoundError, FileNotFoundError) as err:
        raise SystemExit(f"chainrule train: {err}") from err
    vec_note = "random vectors" if vectors is None else f"{len(vectors):,} pretrained vectors"
    if vectors is not None and args.vector_std != "none":
        vec_note += f" scaled to element std {float(args.vector_std):g}"
    if args.variant == "rand":
        vec_note = f"{args.embed_dim}-d vectors learned from scratch"
    print(
        f"textcnn-{args.variant} on {args.data} ({len(classes)} classes; {vec_note}); "
        f"{args.optimizer} lr {args.lr}, batch {args.batch_size}, up to {args.epochs} epochs, "
        f"patience {args.patience}",
        flush=True,
    )
    start, cpu = time.perf_counter(), time.process_time()
    results: list[dict[str, Any]] = []
    if "all" in splits:
        data = splits["all"]
        index = np.arange(len(data[0]))
        if args.limit:
            index = rng.permutation(len(index))[: args.limit]
        folds = list(kfold_indices(len(index), k=args.folds, generator=rng))
        for f, (train_i, test_i) in enumerate(folds[: args.fold_limit]):
            train, dev = _dev_split(_subset(data, index[train_i]), args.dev_fraction, rng)
            result = _train_split(
                args, train, dev, _subset(data, index[test_i]), len(classes), vectors
            )
            _report(f"fold {f + 1}/{args.folds}", result)
            results.append(result)
        accs = 100 * np.asarray([r["test_accuracy"] for r in results])
        done = f"{len(results)} of {args.folds} folds"
        print(
            f"cross-validated test accuracy ({done}): {accs.mean():.2f}% (std {accs.std():.2f})",
            flush=True,
        )
    else:
        train = splits["train"]
        if args.limit:
            train = _subset(train, rng.permutation(len(train[0]))[: args.limit])
        if "dev" in splits:
            dev = splits["dev"]
        else:
            train, dev = _dev_split(train, args.dev_fraction, rng)
        result = _train_split(args, train, dev, splits["test"], len(classes), vectors)
        _report("test split", result)
        results.append(result)
        print(f"final test accuracy: {100 * result['test_accuracy']:.2f}%", flush=True)
    print(
        f"total: {time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU",
        flush=True,
    )
    if args.save_model:
        _save(args, results[-1], classes)
    return 0


# ---------------------------------------------------------------------------------- models on disk
def _save(args: argparse.Namespace, result: dict[str, Any], classes: tuple[str, ...]) -> None:
    from ... import io

    io.save(
        args.save_model,
        result["model"],
        model_name="textcnn",
        model_kwargs=result["kwargs"],
        vocab=result["vocab"].to_dict(),
        classes=list(classes),
        lowercase=args.data != "trec",
        pad=result["pad"],
        max_len=args.max_len,
        data=args.data,
    )
    print(f"saved the model to {args.save_model}", flush=True)


def classify_sentence(model_dir: str | os.PathLike, sentence: str) -> tuple[str, dict[str, float]]:
    """Classify one raw sentence with a model saved by ``chainrule train --save-model DIR``.

    Args:
        model_dir: the checkpoint folder written by ``--save-model``.
        sentence: raw text; it is cleaned and tokenised as the training sentences were.

    Returns:
        ``(predicted class name, {class name: probability})``.

    Example:
        ``classify_sentence("runs/mr", "a gorgeous, witty film")`` might give
        ``("positive", {"negative": 0.08, "positive": 0.92})``.
    """
    import numpy as np

    from ... import functional as F
    from ... import io
    from ...autograd import no_grad
    from ...data.text import Vocabulary, clean_str

    ckpt = io.load(model_dir, restore_rng=False)
    extra = ckpt.extra
    for key in ("vocab", "classes", "pad"):
        if key not in extra:
            raise ValueError(
                f"classify_sentence: {model_dir} was not saved by the text-classification "
                f"recipe (no {key!r} in its extras); train with --save-model DIR."
            )
    model = ckpt.build_model()
    model.eval()
    vocab = Vocabulary.from_dict(extra["vocab"])
    tokens = clean_str(sentence, lower=bool(extra.get("lowercase", True))).split()
    tokens = tokens[: extra.get("max_len")]
    ids = _encode([tokens], vocab.stoi, vocab.unk_index, int(extra["pad"]))[0][None, :]
    with no_grad():
        probs = F.softmax(model(ids), axis=-1).data[0]
    classes = list(extra["classes"])
    scores = {c: float(p) for c, p in zip(classes, probs, strict=True)}
    return classes[int(np.argmax(probs))], scores
