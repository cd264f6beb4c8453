"""Progress output: silent, plain lines, or a tqdm bar on a terminal."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import ProgressBar, Trainer
from chainrule.train.progress import format_logs

LINE = re.compile(
    r"^epoch (\d)/3 - \d+\.\ds - loss: \d\.\d{4} - accuracy: \d\.\d{4}"
    r" - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fit(make_model, blobs, **kwargs):
    model = make_model()
    trainer = Trainer(model, cr.optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    return trainer, trainer.fit(blobs, validation=blobs, epochs=3, **kwargs)


def test_verbose_0_is_silent(make_model, blobs, capsys):
    fit(make_model, blobs, verbose=0)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("verbose", [1, 2])
def test_plain_lines_when_not_a_terminal_or_verbose_2(make_model, blobs, capsys, verbose):
    fit(make_model, blobs, verbose=verbose)  # captured stdout is not a terminal
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [LINE.match(line).group(1) for line in lines] == ["1", "2", "3"]
    assert err == ""


def test_a_bar_per_epoch_on_a_terminal(make_model, blobs, capsys):
    screen = Terminal()
    fit(make_model, blobs, verbose=0, callbacks=[ProgressBar(1, stream=screen)])
    text = screen.getvalue()
    for epoch in (1, 2, 3):
        assert f"epoch {epoch}/3: 100%" in text
    assert "4/4" in text and "loss: " in text and "val_accuracy: " in text
    assert text.count("\n") == 3  # each finished bar stays on its own line
    assert capsys.readouterr() == ("", "")


def test_verbose_2_writes_lines_even_on_a_terminal(make_model, blobs):
    screen = Terminal()
    fit(make_model, blobs, verbose=0, callbacks=[ProgressBar(2, stream=screen)])
    assert all(LINE.match(line) for line in screen.getvalue().splitlines())


def test_bar_is_closed_when_fit_fails(make_model, blobs):
    screen = Terminal()
    bar = ProgressBar(1, stream=screen)

    class Boom(cr.train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        fit(make_model, blobs, verbose=0, callbacks=[bar, Boom()])
    assert bar._bar is None and screen.getvalue().endswith("\n")


def test_evaluate_prints_one_line(make_model, blobs, capsys):
    trainer, _ = fit(make_model, blobs, verbose=0)
    trainer.evaluate(blobs)
    assert re.fullmatch(
        r"evaluate - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n", capsys.readouterr().out
    )
    trainer.evaluate(blobs, verbose=0)
    assert capsys.readouterr().out == ""


def test_format_logs_skips_matrices_and_uses_exponents_for_tiny_values():
    logs = {"loss": 0.5, "lr": 1e-5, "cm": np.eye(2), "n": np.float32(2.0)}
    assert format_logs(logs) == "loss: 0.5000 - lr: 1.0000e-05 - n: 2.0000"
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        ProgressBar(5)
