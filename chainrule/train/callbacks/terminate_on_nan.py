"""``TerminateOnNaN``: stop training as soon as the loss is NaN or infinite."""

from __future__ import annotations

import math
from typing import Any

from .base import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stop training after the first step whose running loss is NaN or infinite.

    The epoch ends there (its validation and ``on_epoch_end`` still run) and ``fit`` returns;
    an ``EarlyStopping(restore_best_weights=True)`` then puts back the best epoch's weights.

    Attributes:
        terminated_at: ``(epoch, batch)`` where the loss was first not finite, or None.

    Example:
        >>> cb = TerminateOnNaN()
    """

    def __init__(self) -> None:
        super().__init__()
        self.terminated_at: tuple[int, int] | None = None
        self._epoch = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.terminated_at = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.terminated_at = (self._epoch, batch)
        print(
            f"TerminateOnNaN: the loss is {float(loss)} at epoch {self._epoch + 1}, step "
            f"{batch + 1}; stopping.",
            flush=True,
        )
        self._stop_training()
