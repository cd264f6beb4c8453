"""`chainrule summary MODEL`: print a model's layers, output shapes, parameters, multiply-adds."""

from __future__ import annotations

import argparse
import ast
from typing import Any

__all__ = ["add_parser", "run"]


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"--input-shape wants comma-separated sizes such as 1,28,28; got {text!r}."
        ) from err
    if not shape or any(d <= 0 for d in shape):
        raise argparse.ArgumentTypeError(f"--input-shape wants positive sizes; got {text!r}.")
    return shape


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set wants KEY=VALUE (e.g. shortcut=B); got {text!r}.")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value  # a bare word such as B is taken as a string
    return key, parsed


def add_parser(sub: Any) -> None:
    """Register the ``summary`` sub-command."""
    parser = sub.add_parser(
        "summary",
        help="print a model's layers, output shapes, parameters and multiply-adds",
        description=(
            "Build a model of the zoo, run one forward pass of zeros and print a Keras-style "
            "table: each layer's output shape, parameter count and multiply-adds, then the "
            "totals. Example: `chainrule summary resnet20`, `chainrule summary inception_small "
            "--set reduce=False` (without the 1x1 reductions)."
        ),
    )
    parser.add_argument("model", help="model of the zoo (see `chainrule models`)")
    parser.add_argument(
        "--input-shape",
        type=_parse_shape,
        default=None,
        help="shape of one example without the batch axis, comma-separated (e.g. 1,28,28); "
        "default: the model's natural input (1,28,28 for the MNIST models, 3,32,32 for the "
        "CIFAR ones, token ids for the text models)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help="examples in the forward pass; mult-adds are for the whole batch; default 1",
    )
    parser.add_argument(
        "--dtype",
        default=None,
        choices=["float32", "float64", "int64"],
        help="dtype of the zero inputs (int64 for token ids); default: the model's natural one",
    )
    parser.add_argument(
        "--set",
        dest="options",
        type=_parse_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keyword option for the model's constructor, repeatable (e.g. --set shortcut=B "
        "--set num_classes=100); values are Python literals or plain words",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the model, print its summary; returns the exit status."""
    from ..io.onnx.zoo import example_shape
    from ..models import available, build
    from ..summary import summary

    if args.model not in available():
        raise SystemExit(
            f"chainrule summary: unknown model {args.model!r}; available: {', '.join(available())}"
        )
    model = build(args.model, **dict(args.options))
    natural = example_shape(model, args.model)
    if args.input_shape is None and natural is None:
        raise SystemExit(
            f"chainrule summary: no default input shape for {args.model!r}; "
            "give one with --input-shape (e.g. --input-shape 35 --dtype int64 for token ids)."
        )
    shape = args.input_shape if args.input_shape is not None else natural[0][1:]
    dtype = args.dtype or (natural[1] if natural is not None else "float32")
    if args.batch_size < 1:
        raise SystemExit(f"chainrule summary: --batch-size must be >= 1, got {args.batch_size}.")
    summary(model, shape, batch_size=args.batch_size, dtype=dtype)
    return 0
