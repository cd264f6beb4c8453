"""``LearningRateScheduler``: set the optimizer's learning rate per epoch or per step."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

from ...optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from ._monitor import Monitor
from .base import Callback

__all__ = ["LearningRateScheduler"]


def _arity(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` takes (2 when it takes ``*args``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    count = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return 2
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class LearningRateScheduler(Callback):
    """Drive the learning rate of ``trainer.optimizer`` from a scheduler or a schedule function.

    - An ``optim.lr_scheduler`` object (``StepLR``, ``CosineAnnealingLR``, ...) is stepped after
      each epoch (``interval="epoch"``, as PyTorch's loops do) or after each training step
      (``interval="step"``).
    - ``ReduceLROnPlateau`` is stepped after each epoch with ``logs[monitor]``.
    - A function ``schedule(epoch, lr) -> lr`` or ``schedule(epoch) -> lr`` (Keras style) is
      called before each epoch with the epoch index (from 0) and sets the lr of every parameter
      group; with ``interval="step"`` it is called before each step with the global step index.

    The lr of the first parameter group is added to the epoch's logs as ``"lr"``.

    Args:
        schedule: a scheduler object or a schedule function.
        interval: ``"epoch"`` or ``"step"``. Default: ``"epoch"``.
        monitor: the log key given to ``ReduceLROnPlateau``. Default: ``"val_loss"``.
        verbose: print the lr whenever it changes. Default: 0.

    Example:
        >>> cb = LearningRateScheduler(lambda epoch, lr: lr * 0.9 if epoch >= 2 else lr)
    """

    def __init__(
        self,
        schedule: LRScheduler | ReduceLROnPlateau | Callable[..., float],
        interval: str = "epoch",
        monitor: str = "val_loss",
        verbose: int = 0,
    ) -> None:
        super().__init__()
        if interval not in ("epoch", "step"):
            raise ValueError(
                f"LearningRateScheduler: unknown interval {interval!r}; available: epoch, step."
            )
        if isinstance(schedule, ReduceLROnPlateau) and interval != "epoch":
            raise ValueError(
                "LearningRateScheduler: ReduceLROnPlateau watches an epoch metric; use "
                "interval='epoch'."
            )
        is_scheduler = isinstance(schedule, (LRScheduler, ReduceLROnPlateau))
        if not is_scheduler and not callable(schedule):
            raise TypeError(
                "LearningRateScheduler: schedule must be an optim.lr_scheduler object or a "
                f"function (epoch, lr) -> lr, got {type(schedule).__name__}."
            )
        self.schedule = schedule
        self.interval = interval
        self.monitor = Monitor("LearningRateScheduler", monitor)
        self.verbose = verbose
        self._takes_lr = not is_scheduler and _arity(schedule) >= 2
        self._global_step = 0

    # ------------------------------------------------------------------ helpers
    def _groups(self) -> list[dict[str, Any]]:
        if isinstance(self.schedule, (LRScheduler, ReduceLROnPlateau)):
            return self.schedule.optimizer.param_groups
        optimizer = getattr(self.trainer, "optimizer", None)
        if optimizer is None:
            raise RuntimeError(
                "LearningRateScheduler: no optimizer; use the callback inside Trainer.fit."
            )
        return optimizer.param_groups

    def _apply_function(self, index: int) -> None:
        groups = self._groups()
        old = float(groups[0]["lr"])
        fn = self.schedule
        new = fn(index, old) if self._takes_lr else fn(index)  # type: ignore[operator]
        if isinstance(new, bool) or not isinstance(new, numbers.Real) or not math.isfinite(new):
            raise ValueError(
                f"LearningRateScheduler: the schedule returned {new!r} for {self.interval} "
                f"{index}; it must return a finite number."
            )
        for group in groups:
            group["lr"] = float(new)
        self._report(old, index)

    def _report(self, old: float, index: int) -> None:
        new = float(self._groups()[0]["lr"])
        if self.verbose and new != old:
            print(f"LearningRateScheduler: {self.interval} {index + 1}: lr {old:.6g} -> {new:.6g}.")

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._global_step = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.interval == "epoch" and not self._is_scheduler():
            self._apply_function(epoch)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.interval == "step" and not self._is_scheduler():
            self._apply_function(self._global_step)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.interval == "step" and self._is_scheduler():
            old = float(self._groups()[0]["lr"])
            self.schedule.step()  # type: ignore[union-attr]
            self._report(old, self._global_step)
        self._global_step += 1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        # the lr this epoch trained with, before the scheduler moves it for the next one
        logs["lr"] = float(self._groups()[0]["lr"])
        if self.interval != "epoch" or not self._is_scheduler():
            return
        old = logs["lr"]
        if isinstance(self.schedule, ReduceLROnPlateau):
            current = self.monitor.get(logs)
            if current is None:
                return
            self.schedule.step(current)
        else:
            self.schedule.step()  # type: ignore[union-attr]
        self._report(old, epoch)

    def _is_scheduler(self) -> bool:
        return isinstance(self.schedule, (LRScheduler, ReduceLROnPlateau))
