"""`chainrule predict`: classify an image or a sentence, or continue a text, with a model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import _run_dir

__all__ = ["add_parser", "run"]

_LANGUAGE_MODELS = ("char_lstm", "lstm_lm")
_TEXT_CLASSIFIERS = ("textcnn",)


def add_parser(sub: Any) -> None:
    """Register the ``predict`` sub-command."""
    predict = sub.add_parser(
        "predict",
        help="classify an image or a sentence, or generate text, with a trained model",
        description="Image models (from `chainrule train --out DIR`): `chainrule predict DIR "
        "IMAGE.png` prints the top classes with their probabilities; MNIST models take a "
        "grayscale image of any size (resized to 28x28), CIFAR-10 models a 32x32 RGB image. "
        "Sentence classifiers (from --save-model DIR): `--text 'a sentence'`. Language models "
        "(from --data tinyshakespeare|ptb --out DIR): `--prime 'ROMEO:' --length 200`.",
    )
    predict.add_argument(
        "path", metavar="RUN_DIR|CHECKPOINT", help="run folder or checkpoint folder (required)"
    )
    predict.add_argument(
        "image", nargs="?", default=None, help="PNG image to classify (image models); default none"
    )
    predict.add_argument("--top", type=int, default=3, help="classes to print; default 3")
    predict.add_argument(
        "--text", default=None, help="sentence to classify (text classifiers); default none"
    )
    predict.add_argument(
        "--prime",
        default=None,
        help="text a language model continues; default a newline (characters) or 'the' (words)",
    )
    predict.add_argument(
        "--length",
        type=int,
        default=None,
        help="characters or words to generate; default 600 (characters) or 60 (words)",
    )
    predict.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="sampling temperature, 0 = greedy; default 0.8",
    )
    predict.add_argument(
        "--seed", type=int, default=None, help="seed for repeatable text; default random"
    )
    predict.set_defaults(run=run)


def _not_available(name: str, what: str) -> SystemExit:
    return SystemExit(f"chainrule predict: {what} is not available for this model ({name}).")


def _predict_text(args: argparse.Namespace, folder: Path, name: str) -> int:
    try:
        from .recipes.text_classification import classify_sentence
    except ImportError:
        raise _not_available(name, "sentence classification") from None
    try:
        label, scores = classify_sentence(folder, args.text)
    except ValueError as err:
        raise SystemExit(f"chainrule predict: {err}") from None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])[: max(args.top, 1)]
    print(f"predicted: {label}")
    for cls, p in ranked:
        print(f"  {cls:>12s}  {100 * p:6.2f}%")
    return 0


def _generate(args: argparse.Namespace, folder: Path, name: str) -> int:
    try:
        from .recipes.language_model import generate_command
    except ImportError:
        raise _not_available(name, "text generation") from None
    if args.length is not None and args.length < 0:
        raise SystemExit("chainrule predict: --length must be >= 0.")
    try:
        text = generate_command(folder, args.prime, args.length, args.temperature, args.seed)
    except ValueError as err:
        raise SystemExit(f"chainrule predict: {err}") from None
    print(text)
    return 0


def _predict_image(args: argparse.Namespace) -> int:
    from .. import functional as F
    from ..autograd import no_grad
    from ..data.readers.png import read_png
    from ._vision import prepare_image
    from .evaluate import load_image_model

    model, spec, _ = load_image_model(args.path, "predict")
    path = Path(args.image)
    if not path.is_file():
        raise SystemExit(f"chainrule predict: image {path} does not exist.")
    try:
        pixels = read_png(path)
        x, note = prepare_image(pixels, spec, str(path))
    except ValueError as err:
        raise SystemExit(f"chainrule predict: {err}") from None
    with no_grad():
        probs = F.softmax(model(x), axis=-1).data[0]
    order = probs.argsort()[::-1][: max(1, min(args.top, len(probs)))]
    print(f"{path.name}" + (f" ({note})" if note else "") + ":")
    for i in order:
        name = spec.classes[i] if i < len(spec.classes) else str(i)
        print(f"  {name:>12s}  {100 * float(probs[i]):6.2f}%")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``chainrule predict``; returns the exit status."""
    from .. import io

    folder = _run_dir.find_checkpoint(args.path, "predict")
    try:
        name = io.load(folder, restore_rng=False).model_name or "unnamed model"
    except io.CheckpointError as err:
        raise SystemExit(f"chainrule predict: {err}") from None
    if name in _LANGUAGE_MODELS:
        if args.text is not None or args.image is not None:
            raise SystemExit(
                f"chainrule predict: {name} is a language model; give --prime TEXT (and "
                "--length N), not an image or --text."
            )
        return _generate(args, Path(args.path), name)
    if name in _TEXT_CLASSIFIERS:
        if args.text is None:
            raise SystemExit(
                f"chainrule predict: {name} classifies sentences; give --text 'a sentence'."
            )
        return _predict_text(args, folder, name)
    if args.text is not None:
        raise _not_available(name, "--text (sentence classification)")
    if args.prime is not None or args.length is not None:
        raise _not_available(name, "--prime/--length (text generation)")
    if args.image is None:
        raise SystemExit(
            f"chainrule predict: give an image to classify: chainrule predict {args.path} IMAGE.png"
        )
    return _predict_image(args)
