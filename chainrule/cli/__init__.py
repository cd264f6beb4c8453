"""The ``chainrule`` command. Each sub-command lives in its own module of this package.

A module registers itself with ``add_parser(subparsers)``, which sets ``run`` as the parser's
default; to add a command, write a module with ``add_parser`` and ``run`` and list it in
``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

__all__ = ["main", "build_parser"]

_COMMANDS = (
    "train",
    "evaluate",
    "predict",
    "export",
    "augment",
    "models",
    "word2vec",
    "summary",
)

_DESCRIPTION = """\
chainrule: a deep-learning framework built from first principles.

Commands:
  train     train a model (default: a small CNN on the embedded MNIST sample), report test
            accuracy; --out DIR keeps a run folder, --resume DIR continues it
  evaluate  print the test loss and accuracy of a trained model (run folder or checkpoint)
  predict   classify an image or a sentence, or generate text, with a trained model
  export    export a trained model, or an untrained zoo model, to ONNX
  augment   save a grid of images and their random augmentations (shift, rotate, shear, zoom, flip)
  models    list the models of the zoo
  summary   print a model's layers, output shapes, parameters and multiply-adds
Run `chainrule COMMAND --help` for the options of each command.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``chainrule`` command (one sub-parser per command)."""
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(f"chainrule {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.run(args) or 0)
