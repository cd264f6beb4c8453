"""The run folder of ``chainrule train --out DIR`` and the files around it.

A run folder holds::

    config.json      every resolved option of the run (what --resume reads back)
    checkpoint/      a chainrule.io checkpoint, replaced after each epoch
    history.csv      one row of metrics per epoch (appended to when resuming)
    history.png      the curves of history.csv (when matplotlib is installed)

Also here: reading a ``--config`` TOML file against the options of a parser, and finding the
checkpoint folder behind a path that names a run folder or a checkpoint.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import tomllib
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIG_FILE",
    "CHECKPOINT_DIR",
    "HISTORY_CSV",
    "HISTORY_PNG",
    "write_config",
    "read_config",
    "read_toml",
    "find_checkpoint",
    "trim_history",
    "plot_history",
]

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoint"
HISTORY_CSV = "history.csv"
HISTORY_PNG = "history.png"


def write_config(run_dir: Path, options: dict[str, Any]) -> Path:
    """Write ``config.json`` (through a temporary file and a rename)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CONFIG_FILE
    tmp = run_dir / f".{CONFIG_FILE}.tmp"
    tmp.write_text(json.dumps(options, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_config(run_dir: str | os.PathLike[str], command: str) -> dict[str, Any]:
    """The options saved in a run folder's ``config.json``.

    Raises:
        SystemExit: the folder or the file is missing or unreadable (the message says which).
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise SystemExit(f"chainrule {command}: no run folder {folder} (it does not exist).")
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise SystemExit(
            f"chainrule {command}: {folder} is not a run folder of `chainrule train --out` "
            f"(no {CONFIG_FILE})."
        )
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise SystemExit(f"chainrule {command}: {path} is not valid JSON ({err}).") from None
    if not isinstance(options, dict):
        raise SystemExit(f"chainrule {command}: {path} must hold a JSON object of options.")
    return options


def _convert(action: argparse.Action, key: str, value: Any, source: Path) -> Any:
    """``value`` from the TOML file checked against the option's type and choices."""
    option = action.option_strings[-1] if action.option_strings else key
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):
        if not isinstance(value, bool):
            raise SystemExit(
                f"chainrule: {source}: {key} = {value!r}; {option} is a switch, give true or false."
            )
        if isinstance(action, argparse._StoreFalseAction):
            return not value
        return value
    if isinstance(value, (dict, list)):
        raise SystemExit(f"chainrule: {source}: {key} must be a single value, got {value!r}.")
    if action.type is not None:
        if action.type is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise SystemExit(f"chainrule: {source}: {key} must be an integer, got {value!r}.")
        try:
            value = action.type(value)
        except (TypeError, ValueError) as err:
            raise SystemExit(f"chainrule: {source}: {key} = {value!r}: {err}.") from None
    elif not isinstance(value, str):
        value = str(value)
    if action.choices is not None and value not in action.choices:
        raise SystemExit(
            f"chainrule: {source}: {key} = {value!r}; available: "
            f"{', '.join(str(c) for c in action.choices)}."
        )
    return value


def read_toml(
    path: str | os.PathLike[str], parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Options from a TOML file whose keys are the parser's option names.

    ``batch-size`` and ``batch_size`` both name ``--batch-size``. Values are checked like
    command-line values (type, choices; switches take true/false).

    Returns:
        ``{dest: value}``.

    Raises:
        SystemExit: the file is missing or not TOML, or a key or value is wrong (the message
            names it and lists the valid keys).
    """
    source = Path(path)
    try:
        with open(source, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise SystemExit(f"chainrule: config file {source} does not exist.") from None
    except tomllib.TOMLDecodeError as err:
        raise SystemExit(f"chainrule: {source} is not valid TOML ({err}).") from None
    actions = {
        a.dest: a
        for a in parser._actions
        if a.option_strings and a.dest not in ("help", *skip) and a.dest != argparse.SUPPRESS
    }
    out: dict[str, Any] = {}
    for key, value in doc.items():
        dest = key.replace("-", "_")
        if dest not in actions:
            names = ", ".join(sorted(d.replace("_", "-") for d in actions))
            raise SystemExit(f"chainrule: {source}: unknown option {key!r}; available: {names}.")
        out[dest] = _convert(actions[dest], key, value, source)
    return out


def find_checkpoint(path: str | os.PathLike[str], command: str) -> Path:
    """The checkpoint folder named by ``path``: a run folder (its ``checkpoint/``) or a
    checkpoint folder itself.

    Raises:
        SystemExit: nothing there, or neither kind of folder.
    """
    folder = Path(path)
    if not folder.exists():
        raise SystemExit(f"chainrule {command}: {folder} does not exist.")
    if (folder / CHECKPOINT_DIR / "state.json").is_file():
        return folder / CHECKPOINT_DIR
    if (folder / "state.json").is_file():
        return folder
    raise SystemExit(
        f"chainrule {command}: {folder} is neither a run folder (holding {CHECKPOINT_DIR}/) nor a "
        "checkpoint folder (holding state.json, model.safetensors, state.safetensors)."
    )


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return [], []
    return rows[0], rows[1:]


def trim_history(run_dir: Path, epochs_done: int) -> None:
    """Drop rows of ``history.csv`` past the checkpoint's epoch (written after the last save of
    an interrupted run), so that resuming appends each epoch once."""
    path = run_dir / HISTORY_CSV
    if not path.is_file():
        return
    header, rows = _read_rows(path)
    kept = [r for r in rows if r and int(r[0]) <= epochs_done]
    if len(kept) == len(rows):
        return
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(kept)


def plot_history(run_dir: Path) -> Path | None:
    """Draw ``history.csv`` (all epochs, resumed ones too) into ``history.png``.

    Returns:
        The PNG's path, or None when matplotlib is missing or there is nothing to draw.
    """
    from ..train import History

    path = run_dir / HISTORY_CSV
    if not path.is_file():
        return None
    header, rows = _read_rows(path)
    if len(header) < 2 or not rows:
        return None
    history = History()
    for row in rows:
        logs = {k: float(v) if v else math.nan for k, v in zip(header[1:], row[1:], strict=False)}
        history.on_epoch_end(int(row[0]) - 1, logs)
    try:
        history.plot(run_dir / HISTORY_PNG, title=run_dir.name)
    except ImportError:
        return None
    return run_dir / HISTORY_PNG
