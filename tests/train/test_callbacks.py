"""Callbacks: CSVLogger, ModelCheckpoint, LearningRateScheduler, TerminateOnNaN, LambdaCallback."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from train_helpers import assert_same_weights, weights

import chainrule as cr
from chainrule import functional as F
from chainrule.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from chainrule.train import (
    Callback,
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
    Trainer,
    load_npz,
    save_npz,
)
from chainrule.train.callbacks import CallbackList


def make_trainer(make_model, lr=0.5, optimizer="sgd", **kwargs):
    model = make_model()
    if optimizer == "adam":
        opt = cr.optim.Adam(model.parameters(), lr=0.01)
    else:
        opt = cr.optim.SGD(model.parameters(), lr=lr)
    return model, Trainer(model, opt, "cross_entropy", **kwargs)


class Script(Callback):
    """Puts ``scores[epoch]`` into the logs as ``score`` and snapshots the weights."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.snapshots = scores, {}

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.snapshots[epoch] = weights(self.model)


# ----------------------------------------------------------------------------- CSVLogger
def _read_csv(path, delimiter=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


def test_csv_logger_writes_one_row_per_epoch(blobs, make_model, tmp_path):
    x, y = blobs
    _, trainer = make_trainer(make_model, metrics=["accuracy", "confusion_matrix"])
    path = tmp_path / "logs" / "history.csv"
    history = trainer.fit(
        (x, y), validation=(x, y), epochs=3, callbacks=[CSVLogger(path)], verbose=0
    )
    rows = _read_csv(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    for i, row in enumerate(rows[1:]):
        for key, text in zip(rows[0][1:], row[1:], strict=True):
            assert float(text) == history.history[key][i]


def test_csv_logger_append_and_separator(blobs, make_model, tmp_path):
    path = tmp_path / "h.tsv"
    _, trainer = make_trainer(make_model)
    trainer.fit(blobs, epochs=2, callbacks=[CSVLogger(path, separator="\t")], verbose=0)
    trainer.fit(
        blobs, epochs=4, initial_epoch=2, verbose=0,
        callbacks=[CSVLogger(path, separator="\t", append=True)],
    )  # fmt: skip
    rows = _read_csv(path, "\t")
    assert rows[0] == ["epoch", "accuracy", "loss"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    trainer.fit(blobs, epochs=1, callbacks=[CSVLogger(path, separator="\t")], verbose=0)
    assert len(_read_csv(path, "\t")) == 2  # append=False starts over


def test_csv_logger_keeps_columns_and_leaves_missing_values_empty(blobs, make_model, tmp_path):
    path = tmp_path / "h.csv"
    late = LambdaCallback(on_epoch_end=lambda e, logs: logs.update(extra=1.0) if e == 0 else None)
    _, trainer = make_trainer(make_model, metrics=())
    trainer.fit(blobs, epochs=2, callbacks=[late, CSVLogger(path)], verbose=0)
    rows = _read_csv(path)
    assert rows[0] == ["epoch", "extra", "loss"] and rows[2][1] == ""


# ----------------------------------------------------------------------------- ModelCheckpoint
def test_best_only_saves_only_on_improvement(blobs, make_model, tmp_path):
    model, trainer = make_trainer(make_model)
    script = Script([3.0, 1.0, 2.0, 0.5])
    ckpt = ModelCheckpoint(
        tmp_path / "ckpt-{epoch:02d}-{score:.1f}.npz",
        monitor="score",
        save_best_only=True,
        save_weights_only=True,
    )
    trainer.fit(blobs, epochs=4, callbacks=[script, ckpt], verbose=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ckpt-01-3.0.npz", "ckpt-02-1.0.npz", "ckpt-04-0.5.npz"]
    assert ckpt.best == 0.5 and len(ckpt.saved) == 3
    fresh = make_model(seed=1)
    load_npz(tmp_path / "ckpt-02-1.0.npz", fresh)
    assert_same_weights(fresh, script.snapshots[1])


def test_every_epoch_with_optimizer_state(blobs, make_model, tmp_path):
    model, trainer = make_trainer(make_model, optimizer="adam")
    ckpt = ModelCheckpoint(tmp_path / "last.npz", monitor="loss")
    trainer.fit(blobs, epochs=3, callbacks=[ckpt], verbose=0)
    assert ckpt.saved == [str(tmp_path / "last.npz")] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.npz"]  # no temporary left over
    fresh = make_model(seed=1)
    opt = cr.optim.Adam(fresh.parameters(), lr=0.5)
    extra = load_npz(tmp_path / "last.npz", fresh, opt)
    assert extra["epoch"] == 3 and set(extra["logs"]) == {"loss", "accuracy"}
    assert_same_weights(fresh, weights(model))
    state, saved = opt.state_dict(), trainer.optimizer.state_dict()
    assert state["param_groups"] == saved["param_groups"]
    for i, entries in saved["state"].items():
        for key, value in entries.items():
            np.testing.assert_array_equal(state["state"][i][key], value)


def test_save_fn_is_pluggable_and_save_freq_counts_steps(blobs, make_model, tmp_path):
    calls = []

    def save_fn(path, model, optimizer=None, **extra):
        calls.append((path, optimizer is not None, extra.get("epoch")))

    _, trainer = make_trainer(make_model)
    ckpt = ModelCheckpoint(
        str(tmp_path / "e{epoch}-b{batch}"), save_freq=3, save_fn=save_fn, monitor="loss"
    )
    trainer.fit(blobs, epochs=2, callbacks=[ckpt], verbose=0)  # 4 steps per epoch
    assert [c[0][-5:] for c in calls] == ["e1-b3", "e2-b2"]
    assert all(c[1] for c in calls) and calls[0][2] == 1


def test_checkpoint_template_errors(blobs, make_model, tmp_path):
    _, trainer = make_trainer(make_model)
    ckpt = ModelCheckpoint(tmp_path / "{val_loss:.2f}.npz")
    with pytest.raises(ValueError, match="names 'val_loss', which is not available; available:"):
        trainer.fit(blobs, epochs=1, callbacks=[ckpt], verbose=0)
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or an integer >= 1"):
        ModelCheckpoint("x", save_freq=0)


def test_save_npz_rejects_foreign_files(tmp_path, make_model):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a checkpoint written by save_npz"):
        load_npz(path, make_model())
    save_npz(tmp_path / "m.npz", make_model())
    with pytest.raises(ValueError, match="holds no optimizer state"):
        model = make_model()
        load_npz(tmp_path / "m.npz", model, cr.optim.SGD(model.parameters(), lr=0.1))


# ----------------------------------------------------------------------------- LR schedules
def _lrs_by_epoch(trainer, blobs, cb, epochs, extra=()):
    seen = []
    record = LambdaCallback(  # the lr each step uses
        on_train_batch_begin=lambda b, logs: seen.append(trainer.optimizer.param_groups[0]["lr"])
    )
    history = trainer.fit(blobs, epochs=epochs, callbacks=[*extra, cb, record], verbose=0)
    return seen, history


def test_scheduler_object_steps_per_epoch(blobs, make_model):
    _, trainer = make_trainer(make_model, lr=1.0)
    cb = LearningRateScheduler(StepLR(trainer.optimizer, step_size=2, gamma=0.5))
    seen, history = _lrs_by_epoch(trainer, blobs, cb, 5)
    assert seen == [lr for lr in [1.0, 1.0, 0.5, 0.5, 0.25] for _ in range(4)]
    assert history.history["lr"] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_scheduler_object_steps_per_step(blobs, make_model):
    _, trainer = make_trainer(make_model, lr=1.0)
    cb = LearningRateScheduler(StepLR(trainer.optimizer, step_size=3, gamma=0.5), interval="step")
    seen, _ = _lrs_by_epoch(trainer, blobs, cb, 2)
    assert seen == [0.5 ** (i // 3) for i in range(8)]


@pytest.mark.parametrize(
    "schedule",
    [lambda epoch, lr: lr * 0.1 if epoch == 2 else lr, lambda epoch: [1.0, 1.0, 0.1, 0.1][epoch]],
)
def test_schedule_functions_per_epoch(blobs, make_model, schedule):
    _, trainer = make_trainer(make_model, lr=1.0)
    seen, history = _lrs_by_epoch(trainer, blobs, LearningRateScheduler(schedule), 4)
    assert seen == pytest.approx([lr for lr in [1.0, 1.0, 0.1, 0.1] for _ in range(4)])
    assert history.history["lr"] == pytest.approx([1.0, 1.0, 0.1, 0.1])


def test_schedule_function_per_step(blobs, make_model):
    _, trainer = make_trainer(make_model, lr=1.0)
    cb = LearningRateScheduler(lambda step: 1.0 / (1 + step), interval="step")
    seen, _ = _lrs_by_epoch(trainer, blobs, cb, 2)
    assert seen == pytest.approx([1.0 / (1 + i) for i in range(8)])


def test_reduce_on_plateau_gets_the_monitored_value(blobs, make_model, capsys):
    _, trainer = make_trainer(make_model, lr=1.0)
    plateau = ReduceLROnPlateau(trainer.optimizer, factor=0.5, patience=0)
    cb = LearningRateScheduler(plateau, monitor="score", verbose=1)
    script = Script([1.0, 2.0, 0.5, 0.7, 0.8])
    _, history = _lrs_by_epoch(trainer, blobs, cb, 5, extra=[script])
    assert history.history["lr"] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert trainer.optimizer.param_groups[0]["lr"] == 0.125
    assert "epoch 2: lr 1 -> 0.5" in capsys.readouterr().out


def test_lr_scheduler_checks(make_model):
    _, trainer = make_trainer(make_model)
    with pytest.raises(ValueError, match="interval='epoch'"):
        LearningRateScheduler(ReduceLROnPlateau(trainer.optimizer), interval="step")
    with pytest.raises(ValueError, match="unknown interval 'batch'"):
        LearningRateScheduler(lambda e: 0.1, interval="batch")
    with pytest.raises(TypeError, match="schedule must be"):
        LearningRateScheduler(0.1)
    cb = LearningRateScheduler(lambda e: float("nan"))
    with pytest.raises(ValueError, match="must return a finite number"):
        trainer.fit([(np.zeros((2, 4), np.float32), np.zeros(2, np.int64))], callbacks=[cb])


# ----------------------------------------------------------------------------- TerminateOnNaN
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_terminate_on_nan_stops_at_the_first_bad_step(blobs, make_model, capsys):
    model = make_model()
    count = [0]

    def loss(y_pred, y_true):
        count[0] += 1
        value = F.cross_entropy(y_pred, y_true)
        return value * math.inf if count[0] == 6 else value

    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.1), loss)
    nan = TerminateOnNaN()
    seen = []
    cb = LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    history = trainer.fit(blobs, epochs=4, callbacks=[nan, cb], verbose=0)
    assert nan.terminated_at == (1, 1) and seen == [0, 1, 2, 3, 0, 1]
    assert history.epoch == [0, 1] and not math.isfinite(history.history["loss"][1])
    assert "TerminateOnNaN: the loss is inf at epoch 2, step 2" in capsys.readouterr().out


# ----------------------------------------------------------------------------- plumbing
def test_callback_sees_trainer_model_and_params(blobs, make_model):
    got = {}

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            got.update(trainer=self.trainer, model=self.model, params=self.params)

    model, trainer = make_trainer(make_model)
    trainer.fit(blobs, epochs=2, steps_per_epoch=3, callbacks=[Spy()], verbose=0)
    assert got["trainer"] is trainer and got["model"] is model
    assert got["params"] == {"epochs": 2, "steps": 3, "verbose": 0, "initial_epoch": 0}


def test_hook_order_in_fit_evaluate_predict(blobs, make_model):
    x, y = blobs
    events = []
    names = [
        "on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_test_begin",
        "on_test_end", "on_epoch_end", "on_train_end", "on_predict_begin", "on_predict_end",
    ]  # fmt: skip
    hooks = {name: (lambda *a, name=name: events.append(name)) for name in names}
    cb = LambdaCallback(**hooks)
    _, trainer = make_trainer(make_model)
    trainer.fit((x, y), validation=(x, y), epochs=1, steps_per_epoch=1, callbacks=[cb], verbose=0)
    trainer.evaluate((x, y), callbacks=[cb], verbose=0)
    trainer.predict(x, callbacks=[cb])
    assert events == [
        "on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_test_begin",
        "on_test_end", "on_epoch_end", "on_train_end", "on_test_begin", "on_test_end",
        "on_predict_begin", "on_predict_end",
    ]  # fmt: skip


def test_lambda_callback_and_callback_list_checks():
    with pytest.raises(ValueError, match="unknown hook 'on_step'"):
        LambdaCallback(on_step=print)
    with pytest.raises(TypeError, match="must be callable"):
        LambdaCallback(on_epoch_end=3)
    ended = []
    bad = LambdaCallback(on_train_end=lambda logs: 1 / 0)
    good = LambdaCallback(on_train_end=lambda logs: ended.append(1))
    with pytest.raises(ZeroDivisionError):
        CallbackList([bad, good]).on_train_end({})
    assert ended == [1]
    with pytest.raises(AttributeError):
        CallbackList([]).on_nothing  # noqa: B018
