"""The ``Callback`` base with Keras's hook names, the list that dispatches to many, and lambdas.

A callback sees the run through hooks that ``Trainer`` calls at fixed points. ``logs`` is a dict
of floats: the running training metrics in batch hooks, the epoch's training and ``val_``
metrics in ``on_epoch_end``. A callback may add keys (``LearningRateScheduler`` adds ``lr``) that
the callbacks after it (and ``History``) then see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...nn import Module
    from ..trainer import Trainer

__all__ = ["Callback", "CallbackList", "LambdaCallback"]

Logs = dict[str, Any]

_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class of callbacks: override the hooks you need; the others do nothing.

    ``on_train_end`` always runs once ``on_train_begin`` did: when ``epochs`` are exhausted, when
    a callback stops training, and when an exception (``KeyboardInterrupt`` included) leaves
    ``fit``. In the last case ``trainer.exception`` holds the exception while the hook runs.

    Attributes:
        trainer: the ``Trainer`` running (set by ``set_trainer`` before ``on_train_begin``).
        model: the trained module.
        params: ``{"epochs", "steps", "verbose", "initial_epoch"}`` of the current ``fit``.

    Example:
        >>> class PrintEpoch(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, sorted(logs))
    """

    def __init__(self) -> None:
        self.trainer: Trainer | None = None
        self.model: Module | None = None
        self.params: dict[str, Any] = {}

    def set_trainer(self, trainer: Trainer) -> None:
        """Attach the trainer (and its model) this callback serves."""
        self.trainer = trainer
        self.model = trainer.model

    def set_params(self, params: dict[str, Any]) -> None:
        """Receive the run's parameters (epochs, steps per epoch, verbosity)."""
        self.params = dict(params)

    def _stop_training(self) -> None:
        """Ask the trainer to stop after the current batch (or epoch)."""
        if self.trainer is not None:
            self.trainer.stop_training = True
        elif self.model is not None:
            self.model.stop_training = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once when ``fit`` starts."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once when ``fit`` ends, however it ends; ``logs`` are the last epoch's."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of epoch ``epoch`` (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called after each epoch's training and validation, with all its metrics."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each training step (``batch`` counts from 0 in each epoch)."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each training step with the epoch's running metrics."""

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called when ``evaluate`` (or the validation of an epoch) starts."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called when ``evaluate`` ends, with its results."""

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each evaluation batch with the running metrics."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called when ``predict`` starts."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called when ``predict`` ends."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each prediction batch."""


class CallbackList:
    """Calls each hook on every callback, in order.

    ``on_train_end`` reaches every callback even if one of them raises; the first error is raised
    again afterwards, so that, say, a failing log file never keeps ``EarlyStopping`` from
    restoring the best weights.
    """

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)
        for i, cb in enumerate(self.callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"Trainer: callback {i} must be a chainrule.train.callbacks.Callback, got "
                    f"{type(cb).__name__}. Wrap a function in LambdaCallback(on_epoch_end=fn)."
                )

    def set_trainer(self, trainer: Trainer) -> None:
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def set_params(self, params: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.set_params(params)

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name not in _HOOKS:
            raise AttributeError(f"'CallbackList' object has no attribute '{name}'")

        def dispatch(*args: Any) -> None:
            for cb in self.callbacks:
                getattr(cb, name)(*args)

        return dispatch

    def on_train_end(self, logs: Logs | None = None) -> None:
        first: BaseException | None = None
        for cb in self.callbacks:
            try:
                cb.on_train_end(logs)
            except BaseException as err:  # noqa: BLE001  (run the others, then raise it)
                if first is None:
                    first = err
        if first is not None:
            raise first


class LambdaCallback(Callback):
    """A callback made of functions, one per hook, given by hook name.

    Args:
        **hooks: ``on_epoch_end=lambda epoch, logs: ...`` and so on; the arguments are those of
            the hook.

    Example:
        >>> seen = []
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> cb.on_epoch_end(0, {})
        >>> seen
        [0]
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise ValueError(
                    f"LambdaCallback: unknown hook {name!r}; available: {', '.join(_HOOKS)}."
                )
            if not callable(fn):
                raise TypeError(
                    f"LambdaCallback: {name} must be callable, got {type(fn).__name__}."
                )
            setattr(self, name, fn)
