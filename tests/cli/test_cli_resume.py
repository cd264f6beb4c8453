"""`chainrule train --resume`: a run stopped and continued equals one uninterrupted run."""

import json

import pytest
from cli_helpers import train_run

from chainrule.cli import main


def _weights(run_dir):
    import chainrule as cr

    return cr.io.load(run_dir / "checkpoint", restore_rng=False).model_state


def _assert_identical(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        assert wa[name].tobytes() == wb[name].tobytes(), name


def test_two_epochs_resume_two_epochs_is_bit_identical(tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train_run(straight, "--epochs", "4") == 0
    assert train_run(split, "--epochs", "4", "--stop-after", "2") == 0
    assert "continue with --resume" in capsys.readouterr().out
    assert json.loads((split / "checkpoint" / "state.json").read_text())["epoch"] == 2
    assert main(["train", "--resume", str(split), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "resuming after epoch 2" in out and "epoch 3/4" in out and "epoch 1/4" not in out
    _assert_identical(straight, split)
    # history.csv holds each epoch once, with the same numbers as the straight run
    assert (split / "history.csv").read_text() == (straight / "history.csv").read_text()


def test_resume_extends_a_finished_run(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    constant = ("--schedule", "constant", "--no-augment")
    assert train_run(straight, "--epochs", "3", *constant) == 0
    assert train_run(split, "--epochs", "1", *constant) == 0
    assert main(["train", "--resume", str(split), "--epochs", "3", "--quiet"]) == 0
    _assert_identical(straight, split)
    assert json.loads((split / "config.json").read_text())["epochs"] == 3


def test_resume_refuses_another_model(tmp_path):
    run = tmp_path / "run"
    assert train_run(run, "--epochs", "1") == 0
    with pytest.raises(SystemExit) as err:
        main(["train", "--resume", str(run), "--model", "mnist_cnn"])
    assert "differs from the resumed run's 'mlp'" in str(err.value)


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_resume_from_a_folder_that_is_no_run(tmp_path, make):
    folder = tmp_path / "nothing"
    if make == "empty":
        folder.mkdir()
    with pytest.raises(SystemExit) as err:
        main(["train", "--resume", str(folder)])
    assert str(folder) in str(err.value)
    assert ("does not exist" if make == "missing" else "not a run folder") in str(err.value)


def test_resume_before_the_first_checkpoint(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"data": "mnist", "model": "mlp", "epochs": 2}')
    with pytest.raises(SystemExit) as err:
        main(["train", "--resume", str(run)])
    assert "holds no checkpoint yet" in str(err.value)
