"""`chainrule augment`: save a grid of images and their random augmentations."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register the ``augment`` sub-command."""
    augment = sub.add_parser(
        "augment",
        help="save a grid of originals and their random augmentations",
        description="Apply the random affine augmenter (rotation, shift, shear, zoom, flip) to a "
        "few images and save originals and augmented copies side by side as a PNG (needs "
        "matplotlib).",
    )
    augment.add_argument(
        "--data", default="mnist", choices=["mnist", "cifar10"], help="dataset; default mnist"
    )
    augment.add_argument(
        "--out", default="augment.png", help="output PNG path; default augment.png"
    )
    augment.add_argument("--n", type=int, default=8, help="number of images; default 8")
    augment.add_argument("--seed", type=int, default=0, help="random seed; default 0")
    augment.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule augment``; returns the exit status."""
    from ..data.transforms.grid import augment_command

    augment_command(data=args.data, out=args.out, n=args.n, seed=args.seed)
    print(f"wrote {args.out}")
    return 0
