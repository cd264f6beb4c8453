"""`chainrule train`: train a model of the zoo and report its test accuracy.

Image data (``mnist``, ``cifar10``) train here with ``chainrule.train.Trainer``; other data sets
go to their recipe in ``chainrule.cli.recipes``. Options left unset are ``None`` and resolved in
this order: the command line, then ``--config FILE.toml``, then (with ``--resume``) the run's
``config.json``, then the data set's defaults.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from . import _run_dir, _vision, recipes

__all__ = ["add_parser", "run"]

# The options a vision run records in config.json (and --resume reads back).
_SAVED = (
    "data",
    "model",
    "data_dir",
    "sample",
    "epochs",
    "batch_size",
    "lr",
    "optimizer",
    "schedule",
    "weight_decay",
    "augment",
    "seed",
    "limit",
)
# Options that may differ on --resume without spoiling the exact continuation.
_FREE_ON_RESUME = ("epochs", "data_dir", "sample")


class _SharedGroup:
    """An argument group handed to recipes: an option already defined (``--out``) is shared,
    not defined twice."""

    def __init__(self, group: Any, parser: argparse.ArgumentParser) -> None:
        self._group = group
        self._parser = parser

    def add_argument(self, *names: str, **kwargs: Any) -> Any:
        known = self._parser._option_string_actions
        if names and all(n in known for n in names):
            return known[names[0]]
        return self._group.add_argument(*names, **kwargs)


def add_parser(sub: Any) -> None:
    """Register the ``train`` sub-command."""
    mnist, cifar = _vision.DEFAULTS["mnist"], _vision.DEFAULTS["cifar10"]
    train = sub.add_parser(
        "train",
        help="train a model and report its test accuracy",
        description=(
            "Train a classifier and print per-epoch loss and accuracy and the final test "
            f"accuracy. With no options: {mnist['model']} ({mnist['optimizer']} "
            f"{mnist['lr']:g}, {mnist['schedule']} schedule, light augmentation, "
            f"{mnist['epochs']} epochs) on the MNIST sample shipped inside the package (10,000 "
            "training and 2,000 test images). With --data-dir (or CHAINRULE_DATA) naming a "
            "folder that holds the MNIST IDX files, the full MNIST (60,000 / 10,000) is used. "
            "--data cifar10 reads the PNG-strip CIFAR-10 subset. --out DIR keeps a run folder "
            "(config.json, checkpoint/, history.csv, history.png) that --resume DIR continues "
            "and `chainrule evaluate|predict|export` read."
        ),
    )
    data_choices = [*_vision.VISION_DATA, *recipes.data_names()]
    opt = train.add_argument
    opt(
        "--model",
        default=None,
        help=f"model of the zoo (see `chainrule models`); default {mnist['model']} (mnist), "
        f"{cifar['model']} (cifar10), else the recipe's model",
    )
    opt("--data", default=None, choices=data_choices, help="dataset; default mnist")
    opt(
        "--data-dir",
        default=None,
        help="folder with the data (MNIST IDX files, cifar10_subset/, corpora); default "
        "$CHAINRULE_DATA, else the embedded MNIST sample / the shared data folder",
    )
    opt(
        "--sample",
        action="store_true",
        help="use the embedded MNIST sample even if full MNIST is found; default off",
    )
    opt(
        "--epochs",
        type=int,
        default=None,
        help=f"passes over the training set; default {mnist['epochs']} (mnist), "
        f"{cifar['epochs']} (cifar10)",
    )
    opt(
        "--batch-size",
        type=int,
        default=None,
        help=f"examples per step; default {mnist['batch_size']} (mnist), "
        f"{cifar['batch_size']} (cifar10)",
    )
    opt(
        "--lr",
        type=float,
        default=None,
        help=f"learning rate; default {mnist['lr']:g} (mnist), {cifar['lr']:g} (cifar10)",
    )
    opt(
        "--optimizer",
        default=None,
        choices=["adam", "sgd", "adadelta"],
        help=f"adam, sgd (momentum 0.9) or adadelta; default {mnist['optimizer']} (mnist), "
        f"{cifar['optimizer']} (cifar10)",
    )
    opt(
        "--schedule",
        default=None,
        choices=["cosine", "step", "constant"],
        help="learning-rate schedule over the epochs: cosine (annealed to 0), step (x0.1 at 50%% "
        "and 75%% of the epochs) or constant; default cosine (step: image data only)",
    )
    opt(
        "--weight-decay",
        type=float,
        default=None,
        help=f"L2 penalty added by the optimizer (image data); default {mnist['weight_decay']:g} "
        f"(mnist), {cifar['weight_decay']:g} (cifar10)",
    )
    opt(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random augmentation of the training images: rotation ±5°, shift and zoom ±5%% "
        "(mnist), shift ±4 px and horizontal flip (cifar10); default on",
    )
    opt("--seed", type=int, default=None, help="random seed for weights and shuffling; default 0")
    opt(
        "--limit",
        type=int,
        default=None,
        help="use only the first N training examples; default all",
    )
    opt(
        "--out",
        default=None,
        metavar="DIR",
        help="run folder: config.json, checkpoint/ (saved each epoch), history.csv, history.png "
        "(image data); the trained model (language models, default runs/DATA-MODEL); default: "
        "image runs save nothing",
    )
    opt(
        "--resume",
        default=None,
        metavar="DIR",
        help="continue the run in folder DIR exactly where its last checkpoint left it (its "
        "options, model, optimizer, schedule, random state; a larger --epochs extends it); "
        "image data; default: a new run",
    )
    opt(
        "--stop-after",
        type=int,
        default=None,
        metavar="N",
        help="train at most N epochs in this invocation (the schedule still spans --epochs); "
        "continue later with --resume; default: no limit",
    )
    opt(
        "--config",
        default=None,
        metavar="FILE.toml",
        help="read options from a TOML file (keys are option names, e.g. epochs = 5, "
        "batch-size = 64, augment = false); command-line options override it; default none",
    )
    opt(
        "--quiet",
        action="store_true",
        help="no progress bars, only the per-epoch lines; default: a bar per epoch on a terminal",
    )
    for recipe in recipes.all_recipes():
        group = train.add_argument_group(f"{recipe.TITLE} ({', '.join(recipe.DATA)})")
        recipe.add_arguments(_SharedGroup(group, train))
    train.set_defaults(run=run)


def _train_parser() -> argparse.ArgumentParser:
    """A fresh parser of ``chainrule train`` (to check a --config file against its options)."""
    root = argparse.ArgumentParser(prog="chainrule")
    add_parser(root.add_subparsers())
    return root._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]


def _apply_config(args: argparse.Namespace) -> None:
    """Fill options the command line left at their defaults from ``--config``."""
    parser = _train_parser()
    values = _run_dir.read_toml(args.config, parser, skip=("config", "resume", "stop_after"))
    for dest, value in values.items():
        if getattr(args, dest, None) == parser.get_default(dest):
            setattr(args, dest, value)


def _fill(args: argparse.Namespace, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule train`` with parsed arguments; returns the exit status."""
    if args.config:
        _apply_config(args)
    saved: dict[str, Any] = {}
    if args.resume:
        saved = _run_dir.read_config(args.resume, "train")
        _check_resume(args, saved)
        _fill(args, {k: v for k, v in saved.items() if k in _SAVED})
    _fill(args, {"data": "mnist", "seed": 0})
    if args.data not in _vision.VISION_DATA:
        if args.resume:
            raise SystemExit(f"chainrule train: --resume is for image data, not {args.data}.")
        _fill(args, {"schedule": "cosine"})
        return recipes.for_data(args.data).run(args)
    _fill(args, _vision.DEFAULTS[args.data])
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise SystemExit(f"chainrule train: --{name.replace('_', '-')} must be >= 1.")
    if args.stop_after is not None and args.stop_after < 1:
        raise SystemExit("chainrule train: --stop-after must be >= 1.")
    return _train_images(args)


def _check_resume(args: argparse.Namespace, saved: dict[str, Any]) -> None:
    """Refuse a different model or data; warn about options that break exactness."""
    for name in ("data", "model"):
        given = getattr(args, name)
        if given is not None and given != saved.get(name):
            raise SystemExit(
                f"chainrule train: --{name} {given} differs from the resumed run's "
                f"{saved.get(name)!r}; start a new run instead."
            )
    for name in _SAVED:
        given = getattr(args, name, None)
        if name in _FREE_ON_RESUME or given is None or name not in saved:
            continue
        if given != saved[name]:
            print(
                f"note: --{name.replace('_', '-')} {given} replaces the run's {saved[name]!r}; "
                "the continuation is no longer the same as one uninterrupted run.",
                flush=True,
            )


def _train_images(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import io, models
    from ..backend import manual_seed
    from ..data import DataLoader, TensorDataset
    from ..train import CSVLogger, LearningRateScheduler, ModelCheckpoint, Trainer

    spec = _vision.SPECS[args.data]
    kwargs = _vision.model_kwargs(args.data, args.model)
    manual_seed(args.seed)
    x_train, y_train, x_test, y_test, source = _vision.load_images(
        args.data, args.data_dir, args.sample
    )
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_train, x_test = _vision.normalize(x_train, spec), _vision.normalize(x_test, spec)
    model = models.build(args.model, **kwargs)
    optimizer = _vision.build_optimizer(
        args.optimizer, model.parameters(), args.lr, args.weight_decay
    )
    scheduler = _vision.build_scheduler(args.schedule, optimizer, args.epochs)
    out = Path(args.resume or args.out) if (args.resume or args.out) else None
    initial_epoch = 0
    if args.resume:
        if not (Path(args.resume) / _run_dir.CHECKPOINT_DIR).is_dir():
            raise SystemExit(
                f"chainrule train: {args.resume} holds no checkpoint yet (stopped before its "
                f"first epoch ended?); start it again with --out {args.resume}."
            )
        ckpt_dir = _run_dir.find_checkpoint(args.resume, "train")
        ckpt = io.load(ckpt_dir, model, optimizer, scheduler)  # also restores the RNG state
        initial_epoch = int(ckpt.epoch or 0)
        _run_dir.trim_history(out, initial_epoch)  # type: ignore[arg-type]
    end = args.epochs
    if args.stop_after is not None:
        end = min(end, initial_epoch + args.stop_after)
    augment = _vision.build_augmenter(args.data) if args.augment else None
    loader = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=args.batch_size,
        shuffle=True,
        batch_transform=augment,
    )
    callbacks: list[Any] = []
    if scheduler is not None:
        callbacks.append(LearningRateScheduler(scheduler))
    if out is not None:
        options = {name: getattr(args, name) for name in _SAVED}
        _run_dir.write_config(out, options)
        callbacks.append(
            ModelCheckpoint(
                out / _run_dir.CHECKPOINT_DIR,
                save_fn=_saver(args, kwargs, spec, scheduler, len(loader)),
            )
        )
        callbacks.append(CSVLogger(out / _run_dir.HISTORY_CSV, append=initial_epoch > 0))
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"training {args.model} ({n_params:,} parameters) on {source}: {len(x_train):,} train / "
        f"{len(x_test):,} test images (val_ = test split), {args.epochs} epochs, batch "
        f"{args.batch_size}, {args.optimizer} lr {args.lr:g} ({args.schedule}), weight decay "
        f"{args.weight_decay:g}, augmentation {'on' if args.augment else 'off'}, seed {args.seed}"
        + (f"; resuming after epoch {initial_epoch}" if args.resume else ""),
        flush=True,
    )
    trainer = Trainer(model, optimizer, "cross_entropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = trainer.fit(
        loader,
        validation=(x_test, y_test),
        epochs=end,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        verbose=2 if args.quiet else 1,
        validation_batch_size=500,
    )
    seconds = time.perf_counter() - start
    if history.history.get("val_accuracy"):
        test_acc = float(history.history["val_accuracy"][-1])
    else:
        test_acc = float(trainer.evaluate((x_test, y_test), verbose=0, batch_size=500)["accuracy"])
    print(f"final test accuracy: {100 * test_acc:.2f}%  ({seconds:.1f} s)", flush=True)
    if out is not None:
        png = _run_dir.plot_history(out)
        print(f"run folder: {out}" + ("" if png else " (no history.png: matplotlib missing)"))
        if end < args.epochs:
            print(f"stopped after epoch {end} of {args.epochs}; continue with --resume {out}")
    return 0 if np.isfinite(test_acc) else 1


def _saver(
    args: argparse.Namespace,
    kwargs: dict[str, Any],
    spec: _vision.ImageSpec,
    scheduler: Any,
    steps_per_epoch: int,
) -> Any:
    """The ``save_fn`` of ``ModelCheckpoint``: the model with its zoo name and arguments, the
    optimizer, the scheduler, the epoch and what ``predict`` needs to prepare an image."""
    from .. import io

    def save(path: Any, model: Any, optimizer: Any = None, epoch: Any = None, logs: Any = None):  # noqa: ANN202
        return io.save(
            path,
            model,
            optimizer,
            scheduler,
            epoch=epoch,
            step=None if epoch is None else epoch * steps_per_epoch,
            model_name=args.model,
            model_kwargs=kwargs,
            data=args.data,
            image=spec.to_dict(),
            logs=dict(logs or {}),
        )

    return save
