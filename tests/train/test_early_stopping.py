"""EarlyStopping: patience, baseline, modes, and the best weights restored however training ends.

A scripted callback writes a chosen value ``score`` into each epoch's logs and keeps a copy of
the weights at that moment, so the best epoch is known in advance and the restored parameters
can be compared bit for bit with that epoch's snapshot.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from train_helpers import assert_same_weights, differ, weights

import chainrule as cr
from chainrule import functional as F
from chainrule.train import Callback, EarlyStopping, LambdaCallback, TerminateOnNaN, Trainer


class Script(Callback):
    """Puts ``scores[epoch]`` into the logs as ``score`` and snapshots the weights."""

    def __init__(self, scores):
        super().__init__()
        self.scores = scores
        self.snapshots = {}

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.snapshots[epoch] = weights(self.model)


def run(blobs, make_model, scores, epochs, extra=(), loss="cross_entropy", **stopper):
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), loss)
    script = Script(scores)
    stop = EarlyStopping(monitor="score", restore_best_weights=True, **stopper)
    history = trainer.fit(blobs, epochs=epochs, callbacks=[script, *extra, stop], verbose=0)
    return model, script, stop, history


def test_restores_the_best_epoch_when_epochs_run_out(blobs, make_model):
    model, script, stop, history = run(blobs, make_model, [3.0, 1.0, 2.0, 2.5], 4, patience=10)
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch is None
    assert differ(script.snapshots[3], script.snapshots[1])  # training moved on ...
    assert_same_weights(model, script.snapshots[1])  # ... and the best epoch came back
    assert stop.best == 1.0 and stop.best_epoch == 1 and stop.restored


def test_restores_the_best_epoch_when_patience_runs_out(blobs, make_model):
    scores = [3.0, 1.0, 2.0, 2.5, 0.5, 0.1]
    model, script, stop, history = run(blobs, make_model, scores, 6, patience=2)
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3
    assert_same_weights(model, script.snapshots[1])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_restores_the_best_epoch_after_terminate_on_nan(blobs, make_model):
    steps = [0]

    def blows_up(y_pred, y_true):  # the loss turns NaN at the 2nd step of epoch 3
        steps[0] += 1
        loss = F.cross_entropy(y_pred, y_true)
        return loss * math.nan if steps[0] == 4 * 2 + 2 else loss

    nan = TerminateOnNaN()
    model, script, stop, history = run(
        blobs, make_model, [2.0, 1.0, 1.5, 9.0, 0.0], 5, extra=[nan], loss=blows_up, patience=5
    )
    assert nan.terminated_at == (2, 1) and history.epoch == [0, 1, 2]
    assert math.isnan(history.history["loss"][-1])
    assert any(np.isnan(w).any() for w in script.snapshots[2].values())
    assert_same_weights(model, script.snapshots[1])


@pytest.mark.parametrize("via", ["trainer", "model"])
def test_restores_the_best_epoch_when_another_callback_stops(blobs, make_model, via):
    def halt(epoch, logs):
        if epoch == 2:
            target = cb.trainer if via == "trainer" else cb.model
            target.stop_training = True

    cb = LambdaCallback(on_epoch_end=halt)
    model, script, stop, history = run(
        blobs, make_model, [2.0, 1.0, 1.5, 0.1], 4, extra=[cb], patience=5
    )
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch is None
    assert_same_weights(model, script.snapshots[1])


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_restores_the_best_epoch_when_an_exception_leaves_fit(blobs, make_model, error):
    epoch_now = [0]

    def track(epoch, logs):
        epoch_now[0] = epoch

    def explode(batch, logs):
        if epoch_now[0] == 3 and batch == 2:  # two updates into epoch 3
            raise error("interrupted")

    cb = LambdaCallback(on_epoch_begin=track, on_train_batch_begin=explode)
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    script = Script([2.0, 1.0, 1.5, 0.0])
    stop = EarlyStopping(monitor="score", patience=5, restore_best_weights=True)
    with pytest.raises(error, match="interrupted"):
        trainer.fit(blobs, epochs=4, callbacks=[script, cb, stop], verbose=0)
    assert sorted(script.snapshots) == [0, 1, 2]
    assert_same_weights(model, script.snapshots[1])


def test_nothing_is_restored_before_the_first_epoch_ends(blobs, make_model):
    model = make_model()
    before = weights(model)
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    boom = LambdaCallback(on_train_batch_begin=lambda b, logs: 1 / 0 if b == 2 else None)
    stop = EarlyStopping(monitor="loss", restore_best_weights=True)
    with pytest.raises(ZeroDivisionError):
        trainer.fit(blobs, epochs=3, callbacks=[boom, stop], verbose=0)
    assert differ(weights(model), before) and not stop.restored


def test_without_restore_the_last_weights_stay(blobs, make_model):
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    script = Script([3.0, 1.0, 2.0])
    stop = EarlyStopping(monitor="score", patience=5)
    trainer.fit(blobs, epochs=3, callbacks=[script, stop], verbose=0)
    assert_same_weights(model, script.snapshots[2])


def test_patience_counts_epochs_without_improvement(blobs, make_model):
    _, _, stop, history = run(blobs, make_model, [1.0, 1.0, 1.0, 1.0], 4, patience=2)
    assert history.epoch == [0, 1, 2] and stop.wait == 2
    _, _, stop, history = run(blobs, make_model, [1.0, 0.99, 0.98, 0.97], 4, min_delta=0.05)
    assert history.epoch == [0, 1] and stop.best == 1.0


def test_baseline_must_be_beaten(blobs, make_model):
    # improvements that stay above the baseline do not reset the count
    _, script, stop, history = run(
        blobs, make_model, [3.0, 2.5, 2.0, 1.0], 4, patience=2, baseline=1.5
    )
    assert history.epoch == [0, 1] and stop.best == 2.5


def test_mode_auto_maximizes_accuracy_like_names(blobs, make_model):
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    script = Script([0.5, 0.9, 0.7, 0.6])
    inject = LambdaCallback(on_epoch_end=lambda e, logs: logs.update(val_accuracy=logs["score"]))
    stop = EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
    history = trainer.fit(blobs, epochs=4, callbacks=[script, inject, stop], verbose=0)
    assert stop.monitor.mode == "max" and history.epoch == [0, 1, 2, 3]
    assert_same_weights(model, script.snapshots[1])
    assert EarlyStopping(monitor="val_loss").monitor.mode == "min"
    assert EarlyStopping(monitor="val_loss", mode="max").monitor.mode == "max"


def test_start_from_epoch_ignores_warm_up(blobs, make_model):
    _, _, stop, history = run(
        blobs, make_model, [0.1, 5.0, 4.0, 4.5, 4.6], 5, patience=1, start_from_epoch=2
    )
    assert history.epoch == [0, 1, 2, 3] and stop.best == 4.0 and stop.best_epoch == 2


def test_restores_real_validation_loss_minimum(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=2.0), "cross_entropy")
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    history = trainer.fit(
        (x, y), validation=(x[:40], y[:40]), epochs=8, callbacks=[stop], verbose=0
    )
    best = min(history.history["val_loss"])
    assert trainer.evaluate((x[:40], y[:40]), verbose=0)["loss"] == pytest.approx(best, rel=1e-6)


def test_missing_monitor_warns_and_never_stops(blobs, make_model):
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    stop = EarlyStopping(monitor="val_loss", restore_best_weights=True)
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs; available: accuracy"):
        history = trainer.fit(blobs, epochs=2, callbacks=[stop], verbose=0)
    assert history.epoch == [0, 1] and not stop.restored


def test_verbose_messages(blobs, make_model, capsys):
    run(blobs, make_model, [1.0, 2.0, 3.0], 3, patience=1, verbose=1)
    out = capsys.readouterr().out
    assert "EarlyStopping: stopped after epoch 2." in out
    assert "restored the weights of epoch 1 (score = 1)" in out


def test_argument_checks():
    with pytest.raises(ValueError, match="patience must be an integer >= 0"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="unknown mode 'best'; available: auto, min, max"):
        EarlyStopping(mode="best")
