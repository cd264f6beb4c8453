"""`chainrule evaluate`: test loss and accuracy of a trained image classifier."""

from __future__ import annotations

import argparse
from typing import Any

from . import _run_dir, _vision

__all__ = ["add_parser", "run", "load_image_model"]


def add_parser(sub: Any) -> None:
    """Register the ``evaluate`` sub-command."""
    evaluate = sub.add_parser(
        "evaluate",
        help="print the test loss and accuracy of a trained model",
        description="Load a checkpoint written by `chainrule train --out DIR` (give DIR or "
        "DIR/checkpoint) and print its loss and accuracy on the test split of the data it was "
        "trained on (or of --data).",
    )
    evaluate.add_argument(
        "path", metavar="RUN_DIR|CHECKPOINT", help="run folder or checkpoint folder (required)"
    )
    evaluate.add_argument(
        "--data",
        default=None,
        choices=list(_vision.VISION_DATA),
        help="test data; default: the data the model was trained on",
    )
    evaluate.add_argument(
        "--data-dir",
        default=None,
        help="folder with the data; default $CHAINRULE_DATA, else the embedded MNIST sample / "
        "the shared data folder",
    )
    evaluate.add_argument(
        "--sample",
        action="store_true",
        help="use the embedded MNIST sample even if full MNIST is found; default off",
    )
    evaluate.add_argument(
        "--batch-size", type=int, default=500, help="examples per forward pass; default 500"
    )
    evaluate.set_defaults(run=run)


def load_image_model(path: str, command: str) -> tuple[Any, _vision.ImageSpec, Any]:
    """``(model in eval mode, its ImageSpec, the Checkpoint)`` from a run or checkpoint folder.

    Raises:
        SystemExit: no checkpoint there, or it does not hold an image classifier.
    """
    from .. import io

    folder = _run_dir.find_checkpoint(path, command)
    try:
        ckpt = io.load(folder, restore_rng=False)
        model = ckpt.build_model()
    except (io.CheckpointError, ValueError, TypeError) as err:
        raise SystemExit(f"chainrule {command}: {err}") from None
    image = ckpt.extra.get("image")
    if not isinstance(image, dict):
        raise SystemExit(
            f"chainrule {command}: {folder} holds a {ckpt.model_name or ckpt.model_class} "
            "saved without image information; it was not trained by `chainrule train` on image "
            "data."
        )
    model.eval()
    return model, _vision.ImageSpec.from_dict(image), ckpt


def run(args: argparse.Namespace) -> int:
    """Print the test loss and accuracy; returns the exit status."""
    from .. import optim
    from ..train import Trainer

    model, spec, ckpt = load_image_model(args.path, "evaluate")
    data = args.data or ckpt.extra.get("data") or "mnist"
    if _vision.SPECS[data].channels != spec.channels or _vision.SPECS[data].size != spec.size:
        raise SystemExit(
            f"chainrule evaluate: the model takes {spec.channels}x{spec.size}x{spec.size} images; "
            f"--data {data} has {_vision.SPECS[data].channels}x{_vision.SPECS[data].size}x"
            f"{_vision.SPECS[data].size}."
        )
    if args.batch_size < 1:
        raise SystemExit("chainrule evaluate: --batch-size must be >= 1.")
    _, _, x_test, y_test, source = _vision.load_images(data, args.data_dir, args.sample)
    x_test = _vision.normalize(x_test, spec)
    # Trainer.evaluate needs an optimizer object; this one never steps.
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.0), "cross_entropy")
    logs = trainer.evaluate((x_test, y_test), verbose=0, batch_size=args.batch_size)
    print(
        f"{ckpt.model_name} (epoch {ckpt.epoch}) on {source}, {len(x_test):,} test images: "
        f"test loss {logs['loss']:.4f}, test accuracy {100 * logs['accuracy']:.2f}%"
    )
    return 0
