"""The `chainrule` command: help texts, the model list, and a short run of the main job."""

import subprocess
import sys

import pytest

from chainrule.cli import build_parser, main


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "predict", "export", "augment", "models"):
        assert command in out


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "export", "augment", "models"])
def test_every_option_is_explained(command):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        if action.dest != "help":
            assert action.help, f"{command} option {action.option_strings} has no help text"


def test_train_help_runs_as_a_command():
    out = subprocess.run(
        [sys.executable, "-m", "chainrule.cli", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--epochs" in out and "--data-dir" in out


def test_models_lists_mlp(capsys):
    assert main(["models"]) == 0
    assert "mlp" in capsys.readouterr().out.split()


def test_short_training_run_learns(capsys):
    code = main(
        [
            "train",
            "--model",
            "mlp",
            "--epochs",
            "2",
            "--limit",
            "3000",
            "--quiet",
            "--sample",
            "--schedule",
            "constant",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "final test accuracy" in out
    accuracy = float(out.split("final test accuracy:")[1].split("%")[0])
    assert accuracy > 75.0  # chance is 10%; the full MLP run reaches about 97%
