"""``CSVLogger``: one CSV row of metrics per epoch."""

from __future__ import annotations

import csv
import math
import os
from typing import IO, Any

from .base import Callback

__all__ = ["CSVLogger"]


def _scalar(value: Any) -> float | None:
    """``value`` as a float if it is a number (or a 0-d array), else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if getattr(value, "ndim", None) == 0:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None


def scalar_logs(logs: dict[str, Any] | None) -> dict[str, float]:
    """The number-valued entries of ``logs`` (a confusion matrix and the like left out)."""
    out = {}
    for key, value in (logs or {}).items():
        number = _scalar(value)
        if number is not None:
            out[key] = number
    return out


class CSVLogger(Callback):
    """Write each epoch's metrics as a row of a CSV file: ``epoch`` (from 1), then the log keys.

    The columns are fixed by the first row written (sorted log keys); a key missing later is
    written as empty. Rows are flushed as they are written, so the file can be read while
    training runs. With ``append=True`` an existing file keeps its rows (and its header's column
    order, e.g. when resuming).

    Args:
        filename: the CSV file (its folder is created if needed).
        separator: the field separator. Default: ``","``.
        append: add to an existing file instead of overwriting it. Default: False.

    Example:
        >>> logger = CSVLogger("runs/history.csv")
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._columns: list[str] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self._columns = None
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        if self.append and exists:
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            if header and header[0] == "epoch":
                self._columns = header[1:]
        mode = "a" if self.append else "w"
        self._file = open(self.filename, mode, newline="")  # closed in on_train_end
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._file is None:
            return
        values = scalar_logs(logs)
        if self._columns is None:
            self._columns = sorted(values)
            self._writer.writerow(["epoch", *self._columns])
        row: list[Any] = [epoch + 1]
        for key in self._columns:
            value = values.get(key)
            row.append("" if value is None else _format(value))
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None


def _format(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return repr(value)
