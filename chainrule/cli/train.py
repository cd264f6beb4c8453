"""`chainrule train`: train a model of the zoo and report its test accuracy."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from . import recipes

__all__ = ["add_parser", "run"]


def _fill_defaults(args: argparse.Namespace, **defaults: Any) -> None:
    """Give every option the user left unset (None) its default for this data set."""
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def add_parser(sub: Any) -> None:
    """Register the ``train`` sub-command."""
    train = sub.add_parser(
        "train",
        help="train a model and report its test accuracy",
        description=(
            "Train a classifier and print per-epoch loss and accuracy and the final test "
            "accuracy. With no options: an MLP (784-512-512-10, ReLU, Adam, cosine schedule, "
            "light augmentation) on the MNIST sample shipped inside the package (10,000 training "
            "and 2,000 test images). With --data-dir (or CHAINRULE_DATA) naming a folder that "
            "holds the MNIST IDX files, the full MNIST (60,000 / 10,000) is used instead."
        ),
    )
    data_choices = ["mnist", *recipes.data_names()]
    train.add_argument(
        "--model",
        default=None,
        help="model of the zoo (see `chainrule models`); default mlp for mnist, else the "
        "recipe's model",
    )
    train.add_argument(
        "--data", default="mnist", choices=data_choices, help="dataset; default mnist"
    )
    train.add_argument(
        "--data-dir",
        default=None,
        help="folder with the full MNIST IDX files (default: $CHAINRULE_DATA if it has them, "
        "else the embedded sample)",
    )
    train.add_argument(
        "--sample", action="store_true", help="use the embedded sample even if full data exist"
    )
    train.add_argument(
        "--epochs", type=int, default=None, help="passes over the training set; default 15 (mnist)"
    )
    train.add_argument(
        "--batch-size", type=int, default=None, help="examples per step; default 64 (mnist)"
    )
    train.add_argument("--lr", type=float, default=None, help="learning rate; default 1e-3 (mnist)")
    train.add_argument(
        "--optimizer",
        default=None,
        choices=["adam", "sgd", "adadelta"],
        help="adam, sgd (momentum 0.9) or adadelta; default adam (mnist)",
    )
    train.add_argument(
        "--no-augment",
        action="store_true",
        help="train on the images as they are (default: random rotation ±10°, shift ±10%%, "
        "zoom ±10%%)",
    )
    train.add_argument(
        "--schedule",
        default="cosine",
        choices=["cosine", "constant"],
        help="learning-rate schedule over the epochs; default cosine (annealed to 0)",
    )
    train.add_argument(
        "--seed", type=int, default=0, help="random seed for weights and shuffling; default 0"
    )
    train.add_argument(
        "--limit", type=int, default=None, help="use only the first N training examples"
    )
    train.add_argument(
        "--quiet", action="store_true", help="no progress bars, only the per-epoch lines"
    )
    for recipe in recipes.all_recipes():
        recipe.add_arguments(train.add_argument_group(f"{recipe.TITLE} ({', '.join(recipe.DATA)})"))
    train.set_defaults(run=run)


def _load_mnist(args: argparse.Namespace):  # noqa: ANN202
    from ..data import load_mnist, load_mnist_sample

    root = args.data_dir or os.environ.get("CHAINRULE_DATA")
    if root and not args.sample:
        try:
            x_train, y_train = load_mnist(root, train=True)
            x_test, y_test = load_mnist(root, train=False)
            return x_train, y_train, x_test, y_test, f"MNIST from {root}"
        except (FileNotFoundError, OSError) as err:
            if args.data_dir:
                raise SystemExit(f"chainrule train: {err}") from err
    x_train, y_train, x_test, y_test = load_mnist_sample()
    return x_train, y_train, x_test, y_test, "the embedded MNIST sample"


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule train`` with parsed arguments; returns the exit status."""
    if args.data != "mnist":
        return recipes.for_data(args.data).run(args)
    _fill_defaults(args, model="mlp", epochs=15, batch_size=64, lr=1e-3, optimizer="adam")
    import numpy as np

    from .. import models, optim
    from ..backend import manual_seed
    from ..data.transforms import ImageAugmenter
    from ..train.simple import fit_classifier

    manual_seed(args.seed)
    x_train, y_train, x_test, y_test, source = _load_mnist(args)
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    mean, std = 0.1307, 0.3081  # MNIST pixel statistics
    x_train = ((x_train.astype(np.float32) / 255 - mean) / std)[:, None]
    x_test = ((x_test.astype(np.float32) / 255 - mean) / std)[:, None]
    model = models.build(args.model)
    if args.optimizer == "adam":
        opt = optim.Adam(model.parameters(), lr=args.lr)
    elif args.optimizer == "adadelta":
        opt = optim.Adadelta(model.parameters(), lr=args.lr)
    else:
        opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = None
    if args.schedule == "cosine":
        scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    augment = None
    if not args.no_augment:
        background = (
            -mean / std
        )  # the normalised value of a black pixel fills what the warp uncovers
        augment = ImageAugmenter(
            rotation_range=10,
            width_shift_range=0.1,
            height_shift_range=0.1,
            zoom_range=0.1,
            fill_mode="constant",
            cval=background,
        )
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"training {args.model} ({n_params:,} parameters) on {source}: {len(x_train):,} train / "
        f"{len(x_test):,} test images, {args.epochs} epochs, batch {args.batch_size}, "
        f"{args.optimizer} lr {args.lr} ({args.schedule}), "
        f"augmentation {'off' if args.no_augment else 'on'}"
    )
    start = time.perf_counter()
    test_acc = fit_classifier(
        model,
        opt,
        (x_train, y_train),
        (x_test, y_test),
        epochs=args.epochs,
        batch_size=args.batch_size,
        progress=not args.quiet,
        transform=augment,
        scheduler=scheduler,
    )
    print(f"final test accuracy: {100 * test_acc:.2f}%  ({time.perf_counter() - start:.1f} s)")
    return 0
