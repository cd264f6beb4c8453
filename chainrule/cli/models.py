"""`chainrule models`: list the models of the zoo."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register the ``models`` sub-command."""
    models = sub.add_parser(
        "models", help="list the models of the zoo", description="List the zoo's model names."
    )
    models.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one model name per line."""
    from ..models import available

    print("\n".join(available()))
    return 0
