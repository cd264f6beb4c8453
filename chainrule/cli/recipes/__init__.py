"""Training recipes for `chainrule train --data NAME` beyond MNIST (text, language models).

A recipe is a module of this package with:

- ``TITLE``: a short heading for its options in ``chainrule train --help``;
- ``DATA``: the data-set names it trains on (each unique across recipes);
- ``add_arguments(group)``: adds its own options (names prefixed to stay unique across recipes);
- ``run(args) -> int``: trains, prints progress and results, returns the exit status. Options the
  user left unset are ``None``; the recipe fills its own defaults.

To add one, write the module and list its name in ``_MODULES``. Modules must import only light
things at top level: ``chainrule --help`` imports them all.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["all_recipes", "data_names", "for_data"]

_MODULES: tuple[str, ...] = ("text_classification", "language_model")


def all_recipes() -> list[ModuleType]:
    """Every recipe module, in ``_MODULES`` order."""
    return [importlib.import_module(f".{name}", __name__) for name in _MODULES]


def data_names() -> list[str]:
    """All data-set names that some recipe trains on."""
    return [name for recipe in all_recipes() for name in recipe.DATA]


def for_data(name: str) -> ModuleType:
    """The recipe that trains on data set ``name``."""
    for recipe in all_recipes():
        if name in recipe.DATA:
            return recipe
    raise ValueError(f"no training recipe for data {name!r}; available: {', '.join(data_names())}.")
