"""Recipe: language models on tiny-shakespeare (characters) and the Penn Treebank (words).

``chainrule train --data tinyshakespeare`` trains ``char_lstm`` on the first 90% of the text and
reports the validation loss on the last 10% in nats per character; ``--data ptb`` trains
``lstm_lm`` on PTB's training split and reports validation and test perplexity. Both use
truncated backpropagation through time: the text is laid out as ``batch_size`` parallel rows, cut
into windows of ``--bptt`` steps, and the recurrent state flows from one window into the next
detached from the graph. Gradients are clipped by their global norm (``--clip``); the learning
rate follows ``--schedule`` (cosine: annealed to 0 by the end of the run, which ``--max-minutes``
may bring forward).

The trained model is saved in ``--out`` (default ``runs/DATA-MODEL``): ``checkpoint/`` (a
``chainrule.io`` checkpoint with the zoo name and arguments, vocabulary included, so
``chainrule.io.load(path).build_model()`` rebuilds it), ``vocab.json``, ``results.json`` and
``sample.txt``. ``generate_command`` reloads it and generates text.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = [
    "TITLE",
    "DATA",
    "add_arguments",
    "run",
    "train_language_model",
    "evaluate_language_model",
    "load_language_model",
    "generate_command",
]

TITLE = "language models"
DATA = ("tinyshakespeare", "ptb")

# Character model: Karpathy's char-rnn setting (2 x LSTM, windows of 100, Adam 2e-3); 6 epochs
# reach 1.56 nats/char on the validation text (docs/language_models.md).
# Word model: the "small" model of Zaremba et al. 2014 on PTB, trained as PyTorch's word-LM
# example does (mean loss over all positions, SGD with lr 20 and clipping at 0.25).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "tinyshakespeare": {
        "model": "char_lstm",
        "epochs": 6,
        "batch_size": 32,
        "lr": 2e-3,
        "optimizer": "adam",
        "bptt": 100,
        "embedding_size": 64,
        "hidden": 256,
        "layers": 2,
        "clip": 5.0,
        "dropout": 0.0,
        "sample_length": 600,
        "prime": "\n",
    },
    "ptb": {
        "model": "lstm_lm",
        "epochs": 13,
        "batch_size": 20,
        "lr": 20.0,
        "optimizer": "sgd",
        "bptt": 35,
        "embedding_size": 200,
        "hidden": 200,
        "layers": 2,
        "clip": 0.25,
        "dropout": 0.0,
        "sample_length": 60,
        "prime": "the",
    },
}
_EVAL_BATCH = 10  # rows of the validation and test streams (PyTorch's word-LM example)


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """Options of the language-model recipe (unset options are None: ``run`` fills defaults)."""
    group.add_argument(
        "--bptt",
        type=int,
        default=None,
        help="window length of truncated BPTT; 100 chars / 35 words",
    )
    group.add_argument(
        "--embedding-size", type=int, default=None, help="token vector size; 64 chars / 200 words"
    )
    group.add_argument("--hidden", type=int, default=None, help="LSTM state size; 256 / 200")
    group.add_argument("--layers", type=int, default=None, help="stacked LSTM layers; 2")
    group.add_argument("--cell", default=None, choices=["lstm", "gru", "rnn"], help="default lstm")
    group.add_argument(
        "--clip", type=float, default=None, help="max global gradient norm; 5 chars / 0.25 words"
    )
    group.add_argument("--dropout", type=float, default=None, help="dropout probability; 0")
    group.add_argument(
        "--tie-weights", action="store_true", help="share the embedding and decoder matrices"
    )
    group.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop training after this much wall time (the cosine schedule ends there too)",
    )
    group.add_argument(
        "--sample-length", type=int, default=None, help="tokens to generate at the end; 600 / 60"
    )
    group.add_argument("--prime", default=None, help="text the sample starts from")
    group.add_argument(
        "--temperature", type=float, default=None, help="sampling temperature; 0.8 (0 = greedy)"
    )
    group.add_argument("--out", default=None, help="folder for the trained model; runs/DATA-MODEL")


# ----------------------------------------------------------------------------- training loop
def evaluate_language_model(model: Any, data: Any, bptt: int) -> float:
    """Mean cross-entropy (nats per token) over a batchified stream, state carried across windows.

    Args:
        model: an ``RNNLanguageModel``.
        data: ``(rows, steps)`` ids from ``chainrule.data.batchify``.
        bptt: window length.
    """
    from ... import functional as F
    from ...autograd import no_grad
    from ...data.text.lm import BPTTIterator

    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with no_grad():
            for x, y in BPTTIterator(data, bptt):
                logits, state = model(x, state)
                flat = logits.reshape(-1, logits.shape[-1])
                total += float(F.cross_entropy(flat, y.reshape(-1), reduction="sum").item())
                count += y.size
    finally:
        model.train(was_training)
    return total / max(count, 1)


def _cosine(base: float, fraction: float) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * min(max(fraction, 0.0), 1.0)))


class _Run:
    """What one training run carries from step to step (schedule, clock, counters)."""

    def __init__(self, optimizer: Any, total_steps: int, max_seconds: float | None) -> None:
        self.optimizer, self.total_steps, self.max_seconds = optimizer, total_steps, max_seconds
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.start = time.perf_counter()
        self.step, self.stopped = 0, False

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def out_of_time(self) -> bool:
        return self.max_seconds is not None and self.elapsed() >= self.max_seconds

    def anneal(self) -> None:
        """Cosine from the initial rate to 0 over the steps, or the time budget if it ends first."""
        fraction = self.step / self.total_steps
        if self.max_seconds is not None:
            fraction = max(fraction, self.elapsed() / self.max_seconds)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = _cosine(base, fraction)


def _train_epoch(
    model: Any, run: _Run, windows: Any, clip: float | None, schedule: str, bar: Any, log: Any
) -> tuple[float, int, int]:
    """One pass of truncated BPTT; returns (summed loss, tokens, steps)."""
    from ... import functional as F
    from ...models.language_model import detach_state
    from ...optim import clip_grad_norm_

    params = [p for p in model.parameters() if p.requires_grad]
    state, loss_sum, tokens, steps = None, 0.0, 0, 0
    last_line = time.perf_counter()
    try:
        for x, y in bar:
            if run.out_of_time():
                run.stopped = True
                break
            if schedule == "cosine":
                run.anneal()
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            run.optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                clip_grad_norm_(params, clip)
            run.optimizer.step()
            # keep the state's values but cut its graph: the next window's backward stops here
            state = detach_state(state)
            value = float(loss.item())
            if not math.isfinite(value):
                raise RuntimeError(
                    f"train_language_model: the loss became {value} at step {run.step + 1}; "
                    "lower the learning rate or the clipping norm (--lr, --clip)."
                )
            loss_sum, tokens, steps = loss_sum + value * y.size, tokens + y.size, steps + 1
            run.step += 1
            if not bar.disable and steps % 10 == 0:
                bar.set_postfix(loss=f"{loss_sum / tokens:.4f}")
            elif log is not None and bar.disable and time.perf_counter() - last_line > 60:
                last_line = time.perf_counter()
                log(
                    f"  step {steps}/{len(windows)}  train loss {loss_sum / tokens:.4f}  "
                    f"({run.elapsed():.0f} s)"
                )
    except KeyboardInterrupt:
        run.stopped = True
        if log is not None:
            log("interrupted (Ctrl-C): training stops here")
    return loss_sum, tokens, steps


def train_language_model(
    model: Any,
    optimizer: Any,
    train_data: Any,
    val_data: Any,
    *,
    bptt: int,
    epochs: int,
    clip: float | None = 5.0,
    schedule: str = "cosine",
    max_seconds: float | None = None,
    progress: bool = True,
    unit: str = "token",
    log: Any = print,
) -> list[dict[str, float]]:
    """Truncated-BPTT training with per-epoch validation; returns one record per epoch.

    Each epoch walks the ``(rows, steps)`` training stream window by window, carrying the
    recurrent state (detached) from each window into the next, clipping the global gradient norm
    at ``clip`` and stepping the optimizer once per window. Ctrl-C ends training early like the
    time limit does: the epoch cut short is still validated and the caller can save the model.

    Args:
        model: an ``RNNLanguageModel``.
        optimizer: over ``model.parameters()``; its learning rate is the schedule's start.
        train_data, val_data: ``(rows, steps)`` id arrays from ``batchify``.
        bptt: window length.
        epochs: passes over the training stream.
        clip: max global gradient norm, or None for no clipping.
        schedule: ``'cosine'`` (per step, from the optimizer's learning rate down to 0 at the end
            of the last epoch or at ``max_seconds``, whichever comes first) or ``'constant'``.
        max_seconds: stop after this much wall time (checked before every step).
        progress: show a tqdm bar on a terminal (elsewhere, a line every minute).
        unit: the name of a token in the log (``'char'`` or ``'word'``).
        log: where the per-epoch lines go.

    Returns:
        Per epoch: ``epoch``, ``train_loss``, ``val_loss`` (nats per token), ``val_ppl``,
        ``steps``, ``seconds`` and ``lr`` (at the end of the epoch), ``stopped`` (1 if the time
        ran out or Ctrl-C came during it).
    """
    from tqdm.auto import tqdm

    from ...data.text.lm import BPTTIterator

    if schedule not in ("cosine", "constant"):
        raise ValueError(f"train_language_model: unknown schedule {schedule!r}; cosine, constant.")
    windows = BPTTIterator(train_data, bptt)
    run = _Run(optimizer, max(epochs * len(windows), 1), max_seconds)
    interactive = progress and sys.stderr.isatty()
    history: list[dict[str, float]] = []
    for epoch in range(1, epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        bar = tqdm(
            windows, desc=f"epoch {epoch}/{epochs}", disable=not interactive, leave=False,
            unit="step",
        )  # fmt: skip
        try:
            loss_sum, tokens, steps = _train_epoch(
                model, run, windows, clip, schedule, bar, log if progress else None
            )
        finally:
            bar.close()
        if steps == 0:
            break
        val_loss = evaluate_language_model(model, val_data, bptt)
        record = {
            "epoch": epoch,
            "train_loss": loss_sum / tokens,
            "val_loss": val_loss,
            "val_ppl": math.exp(min(val_loss, 700.0)),
            "steps": steps,
            "seconds": time.perf_counter() - epoch_start,
            "lr": optimizer.param_groups[0]["lr"],
            "stopped": int(run.stopped),
        }
        history.append(record)
        log(
            f"epoch {epoch}/{epochs}  train loss {record['train_loss']:.4f}  val loss "
            f"{val_loss:.4f} nats/{unit} ({val_loss / math.log(2):.3f} bits)  val ppl "
            f"{record['val_ppl']:.2f}  lr {record['lr']:.3g}  {steps} steps "
            f"{record['seconds']:.0f} s" + ("  [stopped early]" if run.stopped else ""),
        )
        if run.stopped:
            break
    return history


# ----------------------------------------------------------------------------- data
def _data_root(args: argparse.Namespace) -> str | None:
    return args.data_dir or os.environ.get("CHAINRULE_DATA") or None


def _load_corpus(args: argparse.Namespace) -> tuple[Any, Any, Any, Any, str]:
    """``(vocab, train_ids, val_ids, test_ids or None, description)`` for ``args.data``."""
    import numpy as np

    from ...data import CharVocabulary, Vocabulary, load_ptb, load_tiny_shakespeare

    root = _data_root(args)
    if args.data == "tinyshakespeare":
        text = load_tiny_shakespeare(root)
        if args.limit:
            text = text[: args.limit]
        split = int(0.9 * len(text))
        vocab = CharVocabulary(text)
        train, val = vocab.encode(text[:split]), vocab.encode(text[split:])
        return vocab, train, val, None, f"tiny-shakespeare (90/10 split of {len(text):,} chars)"
    train_tokens = load_ptb(root, "train")
    val_tokens, test_tokens = load_ptb(root, "valid"), load_ptb(root, "test")
    if args.limit:
        train_tokens = train_tokens[: args.limit]
        val_tokens = val_tokens[: max(args.limit // 9, 2 * _EVAL_BATCH)]
        test_tokens = test_tokens[: max(args.limit // 9, 2 * _EVAL_BATCH)]
    vocab = Vocabulary.build([train_tokens], specials=(), unk_token="<unk>")
    ids = [vocab.encode(t) for t in (train_tokens, val_tokens, test_tokens)]
    return vocab, ids[0], ids[1], ids[2].astype(np.int64), "the Penn Treebank (Mikolov)"


def _build_optimizer(args: argparse.Namespace, model: Any) -> Any:
    from ... import optim

    if args.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=args.lr)
    if args.optimizer == "adadelta":
        return optim.Adadelta(model.parameters(), lr=args.lr)
    return optim.SGD(model.parameters(), lr=args.lr)


# ----------------------------------------------------------------------------- saving, sampling
def load_language_model(path: str | os.PathLike) -> Any:
    """Rebuild a model saved by this recipe (the ``--out`` folder or its ``checkpoint/``)."""
    from ... import io

    folder = Path(path)
    if (folder / "checkpoint").is_dir():
        folder = folder / "checkpoint"
    return io.load(folder, restore_rng=False).build_model()


def _render(model: Any, text: Any) -> str:
    if isinstance(text, str) and type(model).__name__ == "WordLSTM":
        return text.replace(" <eos> ", "\n").replace(" <eos>", "\n")
    return str(text)


def generate_command(
    checkpoint_or_model: Any,
    prime: str | None = None,
    length: int | None = None,
    temperature: float = 0.8,
    seed: int | None = None,
) -> str:
    """Text from a trained language model, for ``chainrule predict``.

    Args:
        checkpoint_or_model: a folder written by this recipe (or its ``checkpoint/``), or a
            ``CharLSTM``/``WordLSTM`` built with ``vocab``.
        prime: the text to continue; default a newline (characters) or ``"the"`` (words).
        length: characters or words to add; default 600 (characters) or 60 (words).
        temperature: sampling temperature; 0 is greedy.
        seed: seed for repeatable text; None draws from the package generator.

    Returns:
        The prime and its continuation; for word models ``<eos>`` becomes a line break.

    Raises:
        ValueError: the prime holds tokens outside the vocabulary (they are named), or the model
            is not a language model.
    """
    from ...models.language_model import CharLSTM, RNNLanguageModel

    model = checkpoint_or_model
    if isinstance(model, (str, os.PathLike)):
        model = load_language_model(model)
    if not isinstance(model, RNNLanguageModel):
        raise ValueError(
            f"generate_command: expected a language model (char_lstm, lstm_lm), got "
            f"{type(model).__name__}."
        )
    is_char = isinstance(model, CharLSTM)
    defaults = _DEFAULTS["tinyshakespeare" if is_char else "ptb"]
    prime = defaults["prime"] if prime is None else prime
    length = defaults["sample_length"] if length is None else length
    if is_char:
        text = model.sample(prime, length, temperature, seed)
    else:
        text = model.generate(prime, length, temperature, seed)  # type: ignore[attr-defined]
    return _render(model, text)


def _save(
    out: Path, model: Any, name: str, kwargs: dict[str, Any], vocab: Any, facts: dict[str, Any]
) -> None:
    """The checkpoint (zoo name, arguments, results as extras), vocab.json and results.json."""
    from ... import io

    out.mkdir(parents=True, exist_ok=True)
    io.save(out / "checkpoint", model, model_name=name, model_kwargs=kwargs, results=facts)
    vocab.save(out / "vocab.json")
    (out / "results.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")


# ----------------------------------------------------------------------------- recipe
def _fill(args: argparse.Namespace) -> None:
    for name, value in _DEFAULTS[args.data].items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if args.cell is None:
        args.cell = "lstm"
    if args.temperature is None:
        args.temperature = 0.8
    for name in ("bptt", "hidden", "layers", "embedding_size", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise SystemExit(f"chainrule train: --{name.replace('_', '-')} must be >= 1.")


def run(args: argparse.Namespace) -> int:
    """Train a language model on ``args.data``, report its loss, save it and print a sample."""
    import numpy as np

    from ... import models
    from ...backend import manual_seed
    from ...data import DatasetNotFoundError, batchify
    from ...models.language_model import RNNLanguageModel

    _fill(args)
    manual_seed(args.seed)
    try:
        vocab, train_ids, val_ids, test_ids, source = _load_corpus(args)
    except DatasetNotFoundError as err:
        raise SystemExit(f"chainrule train: {err}") from err
    kwargs = {
        "embedding_dim": args.embedding_size,
        "hidden_size": args.hidden,
        "num_layers": args.layers,
        "dropout": args.dropout,
        "tie_weights": args.tie_weights,
        "cell": args.cell,
        "vocab": list(vocab.itos),
    }
    try:
        model = models.build(args.model, **kwargs)
    except TypeError as err:
        raise SystemExit(
            f"chainrule train: model {args.model!r} is not a language model ({err}); use "
            "char_lstm or lstm_lm."
        ) from err
    if not isinstance(model, RNNLanguageModel):
        raise SystemExit(f"chainrule train: {args.model!r} is not a language model.")
    try:
        train_data = batchify(train_ids, args.batch_size)
        val_data = batchify(val_ids, min(_EVAL_BATCH, max(len(val_ids) // 2, 1)))
        test_data = (
            None if test_ids is None else batchify(test_ids, min(_EVAL_BATCH, len(test_ids) // 2))
        )
    except ValueError as err:
        raise SystemExit(f"chainrule train: the corpus is too small: {err}") from err
    optimizer = _build_optimizer(args, model)
    unit = "char" if args.data == "tinyshakespeare" else "word"
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"training {args.model} ({n_params:,} parameters, {args.layers} x {args.cell} "
        f"{args.hidden}, vocabulary {len(vocab):,}) on {source}: {len(train_ids):,} train / "
        f"{len(val_ids):,} validation {unit}s; batch {args.batch_size}, bptt {args.bptt}, "
        f"{args.optimizer} lr {args.lr} ({args.schedule}), clip {args.clip}, dropout "
        f"{args.dropout}, {args.epochs} epochs"
        + (f", at most {args.max_minutes:g} min" if args.max_minutes else ""),
        flush=True,
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    history = train_language_model(
        model, optimizer, train_data, val_data, bptt=args.bptt, epochs=args.epochs,
        clip=args.clip if args.clip > 0 else None, schedule=args.schedule,
        max_seconds=None if args.max_minutes is None else 60.0 * args.max_minutes,
        progress=not args.quiet, unit=unit, log=lambda line: print(line, flush=True),
    )  # fmt: skip
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    val_loss = (
        history[-1]["val_loss"] if history else evaluate_language_model(model, val_data, args.bptt)
    )
    facts: dict[str, Any] = {
        "options": {k: v for k, v in vars(args).items() if isinstance(v, (str, int, float))},
        "model": args.model,
        "data": args.data,
        "val_loss": val_loss,
        "val_ppl": math.exp(min(val_loss, 700.0)),
        "train_seconds": wall,
        "train_cpu_seconds": cpu,
        "epochs_run": len(history),
        "history": history,
    }
    if test_data is not None:
        facts["test_loss"] = evaluate_language_model(model, test_data, args.bptt)
        facts["test_ppl"] = math.exp(min(facts["test_loss"], 700.0))
    if unit == "char":
        print(
            f"final validation loss: {val_loss:.4f} nats/char ({val_loss / math.log(2):.3f} "
            f"bits/char, perplexity {facts['val_ppl']:.3f})"
        )
    else:
        print(
            f"final validation perplexity: {facts['val_ppl']:.2f} (loss {val_loss:.4f}); test "
            f"perplexity: {facts['test_ppl']:.2f} (loss {facts['test_loss']:.4f})"
        )
    print(f"training time: {wall:.0f} s wall, {cpu:.0f} s CPU ({len(history)} epochs)")
    sample = generate_command(
        model, args.prime, args.sample_length, args.temperature, seed=args.seed
    )
    facts["sample"] = sample
    out = Path(args.out or os.path.join("runs", f"{args.data}-{args.model}"))
    _save(out, model, args.model, kwargs, vocab, facts)
    (out / "sample.txt").write_text(sample, encoding="utf-8")
    print(f"sample (temperature {args.temperature}):\n{sample}\n")
    print(f"saved the model to {out}/checkpoint (vocabulary in {out}/vocab.json)")
    return 0 if np.isfinite(val_loss) else 1
