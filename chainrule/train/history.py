"""Floor 6: ``History``, the per-epoch record of a ``fit``: plot it, save it as CSV."""

from __future__ import annotations

import csv
import math
import os
from typing import Any

from .callbacks.base import Callback
from .callbacks.csv_logger import scalar_logs

__all__ = ["History"]


class History(Callback):
    """Records the logs of every epoch; ``Trainer.fit`` returns it.

    Attributes:
        history: ``{key: [value per epoch]}`` for every log key (``loss``, ``accuracy``,
            ``val_loss``, ``lr``, ...); a key that first appears late is padded with NaN at the
            front, so every list is as long as ``epoch``.
        epoch: the epoch indices recorded (from 0; from ``initial_epoch`` when resuming).
        params: the run's parameters (``epochs``, ``steps``, ``verbose``, ``initial_epoch``).

    Example:
        >>> h = History()
        >>> h.on_epoch_end(0, {"loss": 0.9, "val_loss": 1.0})
        >>> h.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
        >>> h.history["loss"], h.epoch
        ([0.9, 0.5], [0, 1])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        done = len(self.epoch)
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            column = self.history.setdefault(key, [math.nan] * done)
            column.append(value.copy() if hasattr(value, "copy") else value)
        for column in self.history.values():
            if len(column) == done:  # a key missing this epoch
                column.append(math.nan)

    def __getitem__(self, key: str) -> list[Any]:
        if key not in self.history:
            raise KeyError(
                f"History: no key {key!r}; available: {', '.join(self.history) or '(none)'}."
            )
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def _scalar_keys(self) -> list[str]:
        return [k for k, v in self.history.items() if all(_is_number(x) for x in v)]

    def to_csv(self, path: str | os.PathLike[str]) -> str:
        """Write ``epoch`` (from 1) and every number-valued key, one row per epoch.

        Returns:
            The path written.
        """
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        keys = self._scalar_keys()
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch", *keys])
            for i, epoch in enumerate(self.epoch):
                writer.writerow([epoch + 1, *(repr(float(self.history[k][i])) for k in keys)])
        return path

    def plot(
        self,
        path: str | os.PathLike[str],
        metrics: list[str] | None = None,
        title: str | None = None,
        dpi: int = 100,
    ) -> str:
        """Draw one panel per metric (training solid, validation dashed) and save a PNG.

        Needs matplotlib (the ``plot`` extra: ``pip install 'chainrule[plot]'``); it is
        imported here, draws on its own figure (pyplot's global state is left alone).

        Args:
            path: the PNG file to write (its folder is created if needed).
            metrics: base names to draw (``["loss", "accuracy"]``); default: every number-valued
                key, with ``val_<name>`` drawn on the panel of ``<name>``.
            title: a title over the figure. Default: None.
            dpi: resolution. Default: 100.

        Returns:
            The path written.

        Raises:
            ImportError: matplotlib is not installed.
            ValueError: nothing recorded yet, or an unknown metric name.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        except ImportError as err:
            raise ImportError(
                "History.plot needs matplotlib: pip install 'chainrule[plot]' (or matplotlib)."
            ) from err
        if not self.epoch:
            raise ValueError("History.plot: nothing recorded yet; run Trainer.fit first.")
        keys = self._scalar_keys()
        bases = list(dict.fromkeys(k[4:] if k.startswith("val_") else k for k in keys))
        if metrics is not None:
            unknown = [m for m in metrics if m not in bases]
            if unknown:
                raise ValueError(
                    f"History.plot: unknown metric {unknown[0]!r}; available: {', '.join(bases)}."
                )
            bases = list(metrics)
        cols = min(3, len(bases))
        rows = -(-len(bases) // cols)
        fig = Figure(figsize=(4.2 * cols, 3.4 * rows), dpi=dpi)
        FigureCanvasAgg(fig)
        x = [e + 1 for e in self.epoch]
        for i, base in enumerate(bases):
            ax = fig.add_subplot(rows, cols, i + 1)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            for key, style, label in ((base, "-", "train"), (f"val_{base}", "--", "validation")):
                if key in self.history:
                    ax.plot(
                        x,
                        [float(v) for v in self.history[key]],
                        style,
                        marker="o",
                        markersize=3,
                        label=label if base != "lr" else key,
                    )
            ax.set_xlabel("epoch")
            ax.set_title(base)
            if base == "lr" and all(float(v) > 0 for v in self.history.get("lr", [])):
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(path, format="png")
        return path


def _is_number(value: Any) -> bool:
    return scalar_logs({"v": value}) != {}
