"""``TensorBoard``: log the metrics as TensorBoard event files (no TensorFlow needed)."""

from __future__ import annotations

import os
from typing import Any

from ..event_file import EventFileWriter
from .base import Callback
from .csv_logger import scalar_logs

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Write the training metrics to ``log_dir/train`` and the ``val_`` metrics to
    ``log_dir/validation``, so TensorBoard draws both on one chart per metric.

    Tags are ``epoch_<metric>`` at step = epoch (from 0), as Keras writes them; with
    ``update_freq=N`` the running training metrics are also written every N steps as
    ``batch_<metric>`` at the global step. The event files are written by
    ``chainrule.train.event_file`` (TFRecord framing and the few protobuf fields by hand), so
    neither ``tensorboard`` nor ``tensorboardX`` is needed to write them; view them with
    ``tensorboard --logdir LOG_DIR`` wherever TensorBoard is installed.

    Args:
        log_dir: the run folder. Default: ``"logs"``.
        update_freq: ``"epoch"``, or an integer N to also log every N training steps.
            Default: ``"epoch"``.

    Example:
        >>> cb = TensorBoard("runs/mnist")
    """

    def __init__(
        self, log_dir: str | os.PathLike[str] = "logs", update_freq: str | int = "epoch"
    ) -> None:
        super().__init__()
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch' or an integer >= 1, got {update_freq!r}."
            )
        self.log_dir = os.fspath(log_dir)
        self.update_freq = update_freq
        self._writers: dict[str, EventFileWriter] = {}
        self._global_step = 0

    def _writer(self, run: str) -> EventFileWriter:
        if run not in self._writers:
            self._writers[run] = EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._global_step = 0
        self._writer("train")

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._global_step += 1
        if self.update_freq == "epoch" or self._global_step % int(self.update_freq):
            return
        values = {f"batch_{k}": v for k, v in scalar_logs(logs).items()}
        if values:
            self._writer("train").add_scalars(values, self._global_step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        train: dict[str, float] = {}
        validation: dict[str, float] = {}
        for key, value in scalar_logs(logs).items():
            if key.startswith("val_"):
                validation[f"epoch_{key[4:]}"] = value
            else:
                train[f"epoch_{key}"] = value
        for run, values in (("train", train), ("validation", validation)):
            if values:
                writer = self._writer(run)
                writer.add_scalars(values, epoch)
                writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
