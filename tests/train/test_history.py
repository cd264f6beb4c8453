"""History: the record of fit, its CSV export and its PNG plot."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import History, Trainer


def _history():
    h = History()
    h.on_epoch_end(0, {"loss": 0.9, "val_loss": 1.0, "cm": np.eye(2)})
    h.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7, "lr": 0.1, "cm": np.eye(2)})
    return h


def test_history_records_and_pads_late_keys():
    h = _history()
    assert h.epoch == [0, 1] and len(h) == 2
    assert h.history["loss"] == [0.9, 0.5] and h["val_loss"] == [1.0, 0.7]
    assert math.isnan(h.history["lr"][0]) and h.history["lr"][1] == 0.1
    with pytest.raises(KeyError, match="no key 'acc'; available: loss"):
        h["acc"]
    assert repr(h) == "History(epochs=2, keys=['loss', 'val_loss', 'cm', 'lr'])"


def test_fit_history_params(blobs, make_model):
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    history = trainer.fit(blobs, epochs=2, batch_size=50, verbose=0)
    assert history.params == {"epochs": 2, "steps": 3, "verbose": 0, "initial_epoch": 0}
    assert sorted(history.history) == ["accuracy", "loss"]


def test_to_csv_writes_number_columns(tmp_path):
    path = _history().to_csv(tmp_path / "out" / "history.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "val_loss", "lr"]
    assert rows[1] == ["1", "0.9", "1.0", "nan"] and rows[2] == ["2", "0.5", "0.7", "0.1"]


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = _history().plot(tmp_path / "plots" / "history.png", title="run")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    only = _history().plot(tmp_path / "loss.png", metrics=["loss"])
    assert only.endswith("loss.png")


def test_plot_errors(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="nothing recorded yet"):
        History().plot(tmp_path / "x.png")
    with pytest.raises(ValueError, match="unknown metric 'acc'; available: loss, lr"):
        _history().plot(tmp_path / "x.png", metrics=["acc"])
