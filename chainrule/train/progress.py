"""Floor 6: progress output of ``fit``: a tqdm bar per epoch, or one plain line per epoch.

``verbose=1`` draws a bar when the stream is a terminal and falls back to lines otherwise (logs
piped to a file, CI, notebooks captured as text); ``verbose=2`` always writes lines; ``verbose=0``
writes nothing. A line reads ``epoch 3/10 - 1.2s - loss: 0.4210 - accuracy: 0.8750 - val_loss:
0.5012 - ...``.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from .callbacks.base import Callback
from .callbacks.csv_logger import scalar_logs

__all__ = ["ProgressBar", "format_logs"]


def _format_value(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.4e}"


def format_logs(logs: dict[str, Any] | None, separator: str = " - ") -> str:
    """``"loss: 0.4210 - accuracy: 0.8750"`` for the number-valued entries of ``logs``."""
    return separator.join(f"{k}: {_format_value(v)}" for k, v in scalar_logs(logs).items())


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressBar(Callback):
    """Reports each epoch of ``fit``; ``Trainer.fit`` adds one unless ``verbose=0``.

    Args:
        verbose: 1 for a tqdm bar on a terminal (lines otherwise), 2 for lines. Default: 1.
        stream: where to write; default: ``sys.stdout`` as it is when training starts.
    """

    def __init__(self, verbose: int = 1, stream: IO[str] | None = None) -> None:
        super().__init__()
        if verbose not in (0, 1, 2):
            raise ValueError(f"ProgressBar: verbose must be 0, 1 or 2, got {verbose!r}.")
        self.verbose = verbose
        self.stream = stream
        self._out: Any = None
        self._bar: Any = None
        self._use_bar = False
        self._start = 0.0
        self._epochs: int | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._out = self.stream if self.stream is not None else sys.stdout
        self._use_bar = self.verbose == 1 and _isatty(self._out)
        self._epochs = self.params.get("epochs")

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()
        if not self._use_bar:
            return
        from tqdm import tqdm

        self._close_bar()
        self._bar = tqdm(
            total=self.params.get("steps"),
            desc=f"epoch {epoch + 1}/{self._epochs}",
            file=self._out,
            leave=True,
            unit="step",
            dynamic_ncols=True,
        )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs, ", "), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.verbose == 0:
            return
        seconds = time.perf_counter() - self._start
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs, ", "), refresh=True)
            self._close_bar()
            return
        line = f"epoch {epoch + 1}/{self._epochs} - {seconds:.1f}s"
        text = format_logs(logs)
        if text:
            line += " - " + text
        print(line, file=self._out, flush=True)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
