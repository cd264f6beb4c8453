"""``EarlyStopping``: stop when a monitored metric stops improving, and restore the best weights."""

from __future__ import annotations

import math
from typing import Any

from ._monitor import Monitor
from .base import Callback

__all__ = ["EarlyStopping"]


def snapshot(model: Any) -> dict[str, Any]:
    """Copies of every parameter and persistent buffer array of ``model`` (a frozen state dict)."""
    return {key: value.data.copy() for key, value in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop training once ``monitor`` has not improved for ``patience`` epochs.

    After each epoch the monitored value is compared with the best so far; beating it by more
    than ``min_delta`` resets the count of epochs without improvement (and, with a ``baseline``,
    only a value that also beats the baseline does). When the count reaches ``patience``,
    training stops after that epoch.

    With ``restore_best_weights=True`` the model gets back the parameters and buffers it had at
    the end of the best epoch, **however training ends**: by this callback, by reaching
    ``epochs``, by another callback (``TerminateOnNaN``, or one that sets ``stop_training``), or
    by an exception or ``KeyboardInterrupt`` leaving ``fit`` (the restore runs in
    ``on_train_end``, which ``fit`` calls in a ``finally`` block). If no epoch has finished, or
    every monitored value was NaN, nothing is restored.

    Args:
        monitor: the log key to watch. Default: ``"val_loss"``.
        min_delta: the smallest change that counts as an improvement. Default: 0.
        patience: epochs without improvement before stopping. Default: 0 (stop at the first).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``max`` for accuracy-like names, else
            ``min``). Default: ``"auto"``.
        restore_best_weights: restore the best epoch's weights when training ends. Default: False.
        baseline: a value the metric must beat; until it does, epochs count as without
            improvement (so training stops after ``patience`` epochs). Default: None.
        start_from_epoch: epochs to wait before watching at all (warm-up). Default: 0.
        verbose: print a line when stopping and when restoring. Default: 0.

    Attributes:
        best: the best monitored value; ``best_epoch``: its epoch (from 0, or None);
        stopped_epoch: the epoch after which this callback stopped training (or None);
        wait: epochs since the last improvement.

    Example:
        >>> stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        baseline: float | None = None,
        start_from_epoch: int = 0,
        verbose: int = 0,
    ) -> None:
        super().__init__()
        for name, value in (("patience", patience), ("start_from_epoch", start_from_epoch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"EarlyStopping: {name} must be an integer >= 0, got {value!r}.")
        self.monitor = Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience = patience
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = None if baseline is None else float(baseline)
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = self.monitor.worst
        self.best_epoch: int | None = None
        self.best_weights: dict[str, Any] | None = None
        self.stopped_epoch: int | None = None
        self.restored = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch < self.start_from_epoch:
            return
        current = self.monitor.get(logs)
        if current is None:
            return
        if self.restore_best_weights and self.best_weights is None and not math.isnan(current):
            # the first finite value is the best so far even when it beats nothing (a baseline)
            self.best_weights = snapshot(self.model)
            self.best_epoch = epoch
        self.wait += 1
        if self.monitor.improves(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = snapshot(self.model)
            if self.baseline is None or self.monitor.improves(current, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self._stop_training()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch is not None and self.verbose:
            print(f"EarlyStopping: stopped after epoch {self.stopped_epoch + 1}.", flush=True)
        if not self.restore_best_weights or self.best_weights is None or self.model is None:
            return
        self.model.load_state_dict(self.best_weights)
        self.restored = True
        if self.verbose and self.best_epoch is not None:
            print(
                f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1} "
                f"({self.monitor.name} = {self.best:.6g}).",
                flush=True,
            )
