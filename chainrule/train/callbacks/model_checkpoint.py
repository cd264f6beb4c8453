"""``ModelCheckpoint``: save the model every epoch (or every N steps), or only when it improves."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..npz_checkpoint import save_npz
from ._monitor import Monitor
from .base import Callback

__all__ = ["ModelCheckpoint"]

SaveFn = Callable[..., Any]


class ModelCheckpoint(Callback):
    """Save checkpoints during ``fit`` through a pluggable save function.

    The path is a template filled with ``str.format``: ``{epoch}`` is the epoch number counted
    from 1 (as printed), ``{batch}`` the step within the epoch (with ``save_freq=N``), and every
    log key is available by name, e.g. ``"ckpt/epoch{epoch:02d}-{val_loss:.3f}.npz"``. A fixed
    path is overwritten each time.

    Saving calls ``save_fn(path, model)`` with ``save_weights_only=True``, else
    ``save_fn(path, model, optimizer=trainer.optimizer, epoch=..., logs=...)``. The default,
    ``chainrule.train.npz_checkpoint.save_npz``, writes a temporary file and renames it, so an
    interrupted save never leaves a half-written checkpoint; ``chainrule.io.checkpoint.save``
    has the same signature.

    Args:
        filepath: the path template.
        monitor: the log key compared when ``save_best_only``. Default: ``"val_loss"``.
        save_best_only: save only when ``monitor`` improves on the best so far. Default: False.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (see ``EarlyStopping``). Default: ``"auto"``.
        save_weights_only: save only the model's state dict, not the optimizer. Default: False.
        save_freq: ``"epoch"`` (after each epoch) or an integer N (after every N training
            steps, counted across epochs, with the running metrics). Default: ``"epoch"``.
        min_delta: the smallest change of ``monitor`` that counts as an improvement. Default: 0.
        save_fn: the function that writes a checkpoint. Default: ``save_npz``.
        verbose: print a line for each save. Default: 0.

    Attributes:
        best: the best monitored value so far; ``saved``: the paths written, in order.

    Example:
        >>> ckpt = ModelCheckpoint("runs/best.npz", monitor="val_accuracy", save_best_only=True)
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_weights_only: bool = False,
        save_freq: str | int = "epoch",
        min_delta: float = 0.0,
        save_fn: SaveFn | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__()
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(
                f"ModelCheckpoint: save_freq must be 'epoch' or an integer >= 1, got {save_freq!r}."
            )
        if save_fn is not None and not callable(save_fn):
            raise TypeError(f"ModelCheckpoint: save_fn must be callable, got {save_fn!r}.")
        self.filepath = os.fspath(filepath)
        self.monitor = Monitor("ModelCheckpoint", monitor, mode, min_delta)
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        self.save_fn: SaveFn = save_fn if save_fn is not None else save_npz
        self.verbose = verbose
        self.best = self.monitor.worst
        self.saved: list[str] = []
        self._steps = 0
        self._epoch = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._steps = 0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._steps += 1
        if self._steps % int(self.save_freq) == 0:
            self._maybe_save(self._epoch, batch, logs or {})

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.save_freq == "epoch":
            self._maybe_save(epoch, None, logs or {})

    def _maybe_save(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        if self.save_best_only:
            current = self.monitor.get(logs)
            if current is None or not self.monitor.improves(current, self.best):
                return
            if self.verbose:
                print(
                    f"ModelCheckpoint: {self.monitor.name} improved from {self.best:.6g} to "
                    f"{current:.6g}.",
                    flush=True,
                )
            self.best = current
        path = self._format(epoch, batch, logs)
        self._save(path, epoch, logs)

    def _format(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            raise ValueError(
                f"ModelCheckpoint: the path template {self.filepath!r} names {err.args[0]!r}, "
                f"which is not available; available: {', '.join(sorted(fields))}."
            ) from err

    def _save(self, path: str, epoch: int, logs: dict[str, Any]) -> None:
        if self.model is None:
            raise RuntimeError("ModelCheckpoint: no model; use the callback inside Trainer.fit.")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.save_fn(path, self.model)
        else:
            optimizer = getattr(self.trainer, "optimizer", None)
            scalars = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float))}
            self.save_fn(path, self.model, optimizer=optimizer, epoch=epoch + 1, logs=scalars)
        self.saved.append(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}.", flush=True)
