"""Floor 6: ``Trainer``, the Keras-style loop: ``fit``, ``evaluate``, ``predict``.

One training step is the loop anyone writes by hand: forward, loss, ``zero_grad``, ``backward``,
optional gradient clipping, ``optimizer.step()``, optional max-norm constraint. Around it the
trainer keeps exact streaming metrics, calls the callbacks' hooks, and reports progress.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn import Module
from ..optim import clip_grad_norm_, clip_grad_value_
from ..tensor import Tensor
from ._constraints import build_constraints
from ._inputs import (
    BatchSource,
    as_batch_source,
    batch_length,
    param_dtype,
    split_batch,
    to_tensors,
)
from .callbacks.base import Callback, CallbackList
from .history import History
from .losses import build_metrics, get_loss, wants_float_targets
from .metrics import ConfusionMatrix, Mean, Metric
from .progress import ProgressBar, format_logs

__all__ = ["Trainer"]


def _check_count(caller: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{caller}: {name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _host(value: Any) -> Any:
    if isinstance(value, Tensor):
        value = value.data
    return value.get() if type(value).__module__.startswith("cupy") else value


class Trainer:
    """Trains ``model`` with ``optimizer`` on ``loss``, Keras style.

    Args:
        model: the module to train.
        optimizer: an optimizer over (some of) the model's parameters.
        loss: a callable ``loss(y_pred, y_true) -> 0-d Tensor`` (``F.cross_entropy``,
            ``nn.CrossEntropyLoss()``, ...) or a name: ``'cross_entropy'``, ``'nll'``, ``'mse'``,
            ``'l1'``, ``'bce'``, ``'bce_with_logits'``. For the regression and binary losses,
            integer targets are cast to the predictions' dtype.
        metrics: metric names (``"accuracy"``, ``"top5"``, ``"perplexity"``,
            ``"confusion_matrix"``, ...), ``Metric`` objects or functions ``(y_pred, y_true) ->
            number``; the loss is always tracked. With a ``bce_with_logits`` loss, ``"accuracy"``
            thresholds the logits at 0. Default (None): ``("accuracy",)``, or no metric besides
            the loss for the regression losses ``mse`` and ``l1``.
        clip_grad_norm: rescale the gradients so their joint L2 norm is at most this, before each
            step. Default: None.
        clip_grad_value: clamp every gradient element into ``[-v, v]`` before each step (applied
            before ``clip_grad_norm`` when both are given). Default: None.
        max_norm: max-norm constraint applied after each step: a number ``c`` for every weight
            matrix and filter (not biases), a dict ``{parameter or submodule name: c}``, an
            ``optim.MaxNorm``, or a callable. Default: None.
        device: ``"cpu"`` or ``"cuda"``: move the model there now and every batch during the
            loops. Default: None (leave the model where it is; batches go to the CPU).

    Attributes:
        history: the ``History`` of the last ``fit``.
        stop_training: set it (or ``model.stop_training``) to True from a callback to end
            ``fit`` after the current step.
        exception: the exception leaving ``fit``, visible to ``on_train_end`` (else None).

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
        >>> y = (x[:, 0] > 0).astype(np.int64)
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        >>> trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
        >>> history = trainer.fit((x, y), epochs=3, batch_size=16, verbose=0)
        >>> len(history.history["loss"]), sorted(trainer.evaluate((x, y), verbose=0))
        (3, ['accuracy', 'loss'])
    """

    def __init__(
        self,
        model: Module,
        optimizer: Any,
        loss: str | Callable[..., Any],
        metrics: Iterable[str | Metric | Callable[..., Any]] | None = None,
        clip_grad_norm: float | None = None,
        clip_grad_value: float | None = None,
        max_norm: Any = None,
        device: str | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be an nn.Module, got {type(model).__name__}.")
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"Trainer: optimizer must be a chainrule.optim optimizer, got "
                f"{type(optimizer).__name__}."
            )
        for name, value in (
            ("clip_grad_norm", clip_grad_norm),
            ("clip_grad_value", clip_grad_value),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0
            ):
                raise ValueError(f"Trainer: {name} must be a number > 0 or None, got {value!r}.")
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.loss_fn = get_loss(loss)
        self.clip_grad_norm = clip_grad_norm
        self.clip_grad_value = clip_grad_value
        self.max_norm = max_norm
        self._constraints = build_constraints(model, max_norm)
        self.device = device
        if device is not None:
            model.to(device)
        self._float_targets = wants_float_targets(self.loss_fn)
        self.metrics = build_metrics(self.loss_fn, metrics)
        self.history: History | None = None
        self.exception: BaseException | None = None
        self._stop_training = False

    # ------------------------------------------------------------------ stopping
    @property
    def stop_training(self) -> bool:
        """Whether a callback asked to stop (through the trainer or ``model.stop_training``)."""
        return self._stop_training or bool(getattr(self.model, "stop_training", False))

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self._stop_training = bool(value)
        self.model.stop_training = bool(value)

    # ------------------------------------------------------------------ one step
    def _forward(self, x: Any) -> Any:
        inputs = to_tensors(x, param_dtype(self.model), self.device)
        if isinstance(inputs, (tuple, list)):
            return self.model(*inputs)
        return self.model(inputs)

    def _loss(self, y_pred: Any, y: Any, caller: str) -> Tensor:
        dtype = getattr(y_pred, "dtype", None)
        target = to_tensors(y, dtype if self._float_targets else None, self.device)
        if self._float_targets and isinstance(target, Tensor) and target.dtype.kind in "iub":
            target = target.astype(dtype)
        loss = self.loss_fn(y_pred, target)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            got = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(
                f"{caller}: the loss must return one number (a 0-d Tensor), got {got}. Use "
                "reduction='mean' (or 'sum')."
            )
        return loss

    def train_step(self, x: Any, y: Any) -> tuple[Any, Tensor]:
        """One update on the batch ``(x, y)``; returns the predictions and the loss."""
        self.optimizer.zero_grad()
        y_pred = self._forward(x)
        loss = self._loss(y_pred, y, "Trainer.fit")
        loss.backward()
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        if self.clip_grad_value is not None:
            clip_grad_value_(params, self.clip_grad_value)
        if self.clip_grad_norm is not None:
            clip_grad_norm_(params, self.clip_grad_norm)
        self.optimizer.step()
        for constraint in self._constraints:
            constraint()
        return y_pred, loss

    # ------------------------------------------------------------------ loops
    def _fresh_metrics(self) -> tuple[Mean, list[Metric]]:
        metrics = [copy.deepcopy(m) for m in self.metrics]
        for m in metrics:
            m.reset()
        return Mean("loss"), metrics

    @staticmethod
    def _logs(loss: Mean, metrics: list[Metric], scalars_only: bool) -> dict[str, Any]:
        logs: dict[str, Any] = {"loss": loss.result()}
        for m in metrics:
            if not (scalars_only and isinstance(m, ConfusionMatrix)):
                logs[m.name] = m.result()
        return logs

    def _run(
        self,
        source: BatchSource,
        steps: int | None,
        cbs: CallbackList,
        training: bool,
    ) -> tuple[dict[str, Any], int]:
        """One pass over ``source`` (training or evaluation); returns its logs and batch count."""
        caller = "Trainer.fit" if training else "Trainer.evaluate"
        kind = "train" if training else "test"
        begin = getattr(cbs, f"on_{kind}_batch_begin")
        end = getattr(cbs, f"on_{kind}_batch_end")
        loss_mean, metrics = self._fresh_metrics()
        batches: Iterator[Any] = source.epoch()
        done = 0
        while steps is None or done < steps:
            try:
                batch = next(batches)
            except StopIteration:
                break
            begin(done, {})
            x, y = split_batch(batch, caller)
            if training:
                y_pred, loss = self.train_step(x, y)
            else:
                y_pred = self._forward(x)
                loss = self._loss(y_pred, y, caller)
            loss_mean.update(loss.item(), batch_length(x, y))
            predictions, targets = _host(y_pred), _host(y)
            for m in metrics:
                m.update(predictions, targets)
            end(done, self._logs(loss_mean, metrics, scalars_only=True))
            done += 1
            if training and self.stop_training:
                break
        return self._logs(loss_mean, metrics, scalars_only=False), done

    def _evaluate_source(
        self, source: BatchSource, cbs: CallbackList, steps: int | None
    ) -> dict[str, Any]:
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                cbs.on_test_begin({})
                logs, done = self._run(source, steps, cbs, training=False)
                if done == 0:
                    raise ValueError(
                        "Trainer.evaluate: the data yielded no batches (an iterator used up by an "
                        "earlier epoch? pass a DataLoader or a list, which restart each time)."
                    )
                cbs.on_test_end(logs)
        finally:
            self.model.train(was_training)
        return logs

    def fit(
        self,
        train: Any,
        validation: Any = None,
        epochs: int = 1,
        callbacks: Iterable[Callback] = (),
        verbose: int = 1,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        validation_batch_size: int | None = None,
    ) -> History:
        """Train for ``epochs - initial_epoch`` epochs; return the ``History``.

        Args:
            train: a ``DataLoader``, any iterable of ``(x, y)`` batches (a list restarts each
                epoch; a generator is drawn from across epochs), a ``Dataset``, or arrays
                ``(x, y)`` batched with ``batch_size`` (shuffled each epoch if ``shuffle``).
            validation: data of the same kinds, evaluated after each epoch; its metrics enter
                the logs with a ``val_`` prefix. Default: None.
            epochs: the index of the last epoch + 1 (as in Keras). Default: 1.
            callbacks: ``Callback`` objects; ``on_train_end`` runs however training ends.
            verbose: 0 silent, 1 a progress bar (plain lines when stdout is not a terminal),
                2 one line per epoch. Default: 1.
            initial_epoch: the epoch to start at (to resume). Default: 0.
            steps_per_epoch: at most this many batches per epoch. Default: all of them.
            batch_size: batch size for arrays and datasets. Default: 32.
            shuffle: shuffle arrays and datasets each epoch. Default: True.
            validation_batch_size: batch size of validation arrays. Default: ``batch_size``.

        Returns:
            The ``History`` (also kept as ``trainer.history``).

        Raises:
            ValueError: bad arguments, or training data that yields no batch at all.
        """
        _check_count("Trainer.fit", "epochs", epochs, 0)
        _check_count("Trainer.fit", "initial_epoch", initial_epoch, 0)
        if verbose not in (0, 1, 2):
            raise ValueError(f"Trainer.fit: verbose must be 0, 1 or 2, got {verbose!r}.")
        if steps_per_epoch is not None:
            _check_count("Trainer.fit", "steps_per_epoch", steps_per_epoch, 1)
        source = as_batch_source(train, batch_size, shuffle, "Trainer.fit")
        val_source = None
        if validation is not None:
            val_size = batch_size if validation_batch_size is None else validation_batch_size
            val_source = as_batch_source(validation, val_size, False, "Trainer.fit (validation)")
        history = History()
        listed = list(callbacks)
        extra: list[Callback] = [ProgressBar(verbose)] if verbose else []
        cbs = CallbackList([*listed, *extra, history])
        steps = source.steps
        if steps_per_epoch is not None:
            steps = steps_per_epoch if steps is None else min(steps, steps_per_epoch)
        params = {
            "epochs": epochs,
            "steps": steps,
            "verbose": verbose,
            "initial_epoch": initial_epoch,
        }
        cbs.set_trainer(self)
        cbs.set_params(params)
        self.history = history
        self.stop_training = False
        self.exception = None
        was_training = self.model.training
        epoch_logs: dict[str, Any] = {}
        try:
            cbs.on_train_begin({})
            for epoch in range(initial_epoch, epochs):
                cbs.on_epoch_begin(epoch, {})
                self.model.train()
                epoch_logs, done = self._run(source, steps_per_epoch, cbs, training=True)
                if done == 0:
                    if epoch == initial_epoch:
                        raise ValueError("Trainer.fit: the training data yielded no batches.")
                    warnings.warn(
                        f"Trainer.fit: the training data ran out at epoch {epoch + 1}; stopping. "
                        "Pass a DataLoader or a list (they restart each epoch), or set "
                        "steps_per_epoch so that a generator lasts for all epochs.",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    break
                if val_source is not None:
                    val_logs = self._evaluate_source(val_source, cbs, None)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        except BaseException as err:
            self.exception = err
            raise
        finally:
            self._end_training(cbs, epoch_logs, was_training)
        return history

    def _end_training(self, cbs: CallbackList, logs: dict[str, Any], was_training: bool) -> None:
        """``on_train_end`` for every callback; its own error never hides the one leaving fit."""
        try:
            cbs.on_train_end(logs)
        except Exception as err:
            if self.exception is None:
                raise
            self.exception.add_note(
                f"While handling it, a callback's on_train_end raised {type(err).__name__}: {err}"
            )
        finally:
            self.model.train(was_training)

    def evaluate(
        self,
        data: Any,
        verbose: int = 1,
        batch_size: int = 32,
        callbacks: Iterable[Callback] = (),
        steps: int | None = None,
    ) -> dict[str, Any]:
        """The loss and metrics over ``data``, in eval mode without recording a graph.

        The loss is the mean of the batch losses weighted by batch size (exact for losses that
        average over examples); metrics are exact over all examples.

        Args:
            data: a ``DataLoader``, an iterable of ``(x, y)`` batches, a ``Dataset``, or arrays
                ``(x, y)``.
            verbose: 0 silent; 1 or 2 print one line of results. Default: 1.
            batch_size: batch size for arrays. Default: 32.
            callbacks: callbacks whose ``on_test_*`` hooks run.
            steps: at most this many batches. Default: all.

        Returns:
            ``{"loss": ..., "<metric>": ...}``.
        """
        if steps is not None:
            _check_count("Trainer.evaluate", "steps", steps, 1)
        source = as_batch_source(data, batch_size, False, "Trainer.evaluate")
        cbs = CallbackList(callbacks)
        cbs.set_trainer(self)
        logs = self._evaluate_source(source, cbs, steps)
        if verbose:
            print(f"evaluate - {format_logs(logs)}", flush=True)
        return logs

    def predict(self, data: Any, batch_size: int = 32, callbacks: Iterable[Callback] = ()) -> Any:
        """The model's outputs over ``data`` as one NumPy array (a tuple for several outputs).

        Args:
            data: an array ``x``, arrays ``(x,)`` or ``(x, y)`` (``y`` ignored), a
                ``DataLoader`` or an iterable of batches (``x`` or ``(x, y)``).
            batch_size: batch size for arrays. Default: 32.
            callbacks: callbacks whose ``on_predict_*`` hooks run.

        Returns:
            The outputs of all batches concatenated along axis 0.
        """
        source = as_batch_source(data, batch_size, False, "Trainer.predict", targets=False)
        cbs = CallbackList(callbacks)
        cbs.set_trainer(self)
        outputs: list[Any] = []
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                cbs.on_predict_begin({})
                for i, batch in enumerate(source.epoch()):
                    cbs.on_predict_batch_begin(i, {})
                    x, _ = split_batch(batch, "Trainer.predict", targets=False)
                    out = self._forward(x)
                    if isinstance(out, (tuple, list)):
                        outputs.append(tuple(np.asarray(_host(o)) for o in out))
                    else:
                        outputs.append(np.asarray(_host(out)))
                    cbs.on_predict_batch_end(i, {"outputs": outputs[-1]})
                cbs.on_predict_end({})
        finally:
            self.model.train(was_training)
        if not outputs:
            raise ValueError("Trainer.predict: the data yielded no batches.")
        if isinstance(outputs[0], tuple):
            return tuple(np.concatenate(parts) for parts in zip(*outputs, strict=True))
        return np.concatenate(outputs)

    def __repr__(self) -> str:
        loss = (
            self.loss if isinstance(self.loss, str) else getattr(self.loss, "__name__", self.loss)
        )
        names = ", ".join(m.name for m in self.metrics)
        return f"Trainer(model={type(self.model).__name__}, loss={loss}, metrics=[{names}])"
