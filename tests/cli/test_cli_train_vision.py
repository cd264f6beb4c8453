"""`chainrule train` on image data: the default model, help, the run folder, the TOML config."""

import json

import pytest
from cli_helpers import QUICK, train_run

from chainrule.cli import build_parser, main

_RECIPE_GROUP_PREFIXES = ("sentence classification", "language models")


def _subparser(command):
    return build_parser()._subparsers._group_actions[0].choices[command]


def _own_actions(command):
    """The options of a command, without those the training recipes add."""
    parser = _subparser(command)
    recipe_dests = {
        a.dest
        for group in parser._action_groups
        if group.title and group.title.startswith(_RECIPE_GROUP_PREFIXES)
        for a in group._group_actions
    }
    return [a for a in parser._actions if a.dest != "help" and a.dest not in recipe_dests]


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "export"])
def test_help_shows_every_default(command, capsys):
    for action in _own_actions(command):
        text = (action.help or "").lower()
        assert "default" in text or "required" in text, f"{command} {action.option_strings}"
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for action in _own_actions(command):
        for name in action.option_strings:
            assert name in out


def test_default_run_is_the_mnist_cnn(monkeypatch):
    from chainrule.cli import _vision
    from chainrule.cli import train as train_command

    seen = []
    monkeypatch.setattr(train_command, "_train_images", lambda args: seen.append(args) or 0)
    assert main(["train"]) == 0
    args = seen[0]
    assert args.data == "mnist" and args.model == "mnist_cnn" and args.seed == 0
    for name, value in _vision.DEFAULTS["mnist"].items():
        assert getattr(args, name) == value
    assert "mnist_cnn" in _subparser("train").description


def test_default_model_trains_and_rebuilds(tmp_path, capsys):
    import chainrule as cr

    out = tmp_path / "cnn"
    args = ["train", "--sample", "--limit", "64", "--batch-size", "32", "--epochs", "1"]
    assert main([*args, "--quiet", "--out", str(out)]) == 0
    assert "training mnist_cnn" in capsys.readouterr().out
    ckpt = cr.io.load(out / "checkpoint", restore_rng=False)
    assert ckpt.model_name == "mnist_cnn" and ckpt.extra["data"] == "mnist"
    assert type(ckpt.build_model()).__name__ == "MNISTCNN"


def test_train_writes_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert train_run(out, "--epochs", "2") == 0
    text = capsys.readouterr().out
    assert "epoch 1/2" in text and "epoch 2/2" in text and "final test accuracy:" in text
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mlp" and config["epochs"] == 2 and config["limit"] == 128
    assert config["optimizer"] == "adam" and config["schedule"] == "cosine"
    assert config["seed"] == 0 and config["augment"] is True
    assert {p.name for p in (out / "checkpoint").iterdir()} == {
        "model.safetensors",
        "state.json",
        "state.safetensors",
    }
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and "val_accuracy" in rows[0] and len(rows) == 3
    pytest.importorskip("matplotlib")
    assert (out / "history.png").stat().st_size > 0


def test_checkpoint_rebuilds_the_model(tmp_path):
    import chainrule as cr

    out = tmp_path / "run"
    assert train_run(out, "--epochs", "1", "--optimizer", "sgd", "--schedule", "step") == 0
    ckpt = cr.io.load(out / "checkpoint", restore_rng=False)
    assert ckpt.epoch == 1 and ckpt.model_name == "mlp"
    assert ckpt.optimizer_class == "SGD" and ckpt.scheduler_class == "MultiStepLR"
    assert ckpt.extra["data"] == "mnist" and ckpt.extra["image"]["size"] == 28
    assert type(ckpt.build_model()).__name__ == "MLP"


def test_toml_config_and_command_line_override(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        'model = "mlp"\nepochs = 3\nbatch-size = 16\naugment = false\nlr = 0.01\n'
        'schedule = "constant"\n'
    )
    out = tmp_path / "run"
    args = ["train", *QUICK, "--config", str(config), "--epochs", "1", "--out", str(out)]
    assert main(args) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["epochs"] == 1  # the command line wins
    assert saved["augment"] is False and saved["lr"] == 0.01 and saved["schedule"] == "constant"
    assert saved["batch_size"] == 32  # QUICK gives --batch-size 32 on the command line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("epoch = 3\n", "unknown option 'epoch'"),
        ('optimizer = "lbfgs"\n', "available: adam, sgd, adadelta"),
        ('epochs = "three"\n', "must be an integer"),
        ("augment = 1\n", "give true or false"),
        ("epochs = [\n", "not valid TOML"),
    ],
)
def test_bad_toml_config_is_explained(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(SystemExit) as err:
        main(["train", *QUICK, "--config", str(config)])
    assert message in str(err.value)


def test_unknown_model_for_images_lists_the_choices():
    with pytest.raises(SystemExit) as err:
        main(["train", *QUICK, "--model", "textcnn"])
    assert "does not train on --data mnist" in str(err.value) and "mnist_cnn" in str(err.value)


def test_cifar10_subset_trains_when_present(tmp_path, capsys):
    from chainrule.cli._vision import shared_data_dir

    shared = shared_data_dir()
    if shared is None or not (shared / "cifar10_subset" / "cifar10_batch_0.png").is_file():
        pytest.skip("the CIFAR-10 subset is not in the shared data folder")
    args = ["train", "--data", "cifar10", "--model", "lenet5", "--limit", "64", "--epochs", "1"]
    assert main([*args, "--batch-size", "32", "--quiet", "--out", str(tmp_path / "c")]) == 0
    assert "final test accuracy" in capsys.readouterr().out


def test_missing_cifar10_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit) as err:
        main(["train", "--data", "cifar10", "--data-dir", str(tmp_path), "--epochs", "1"])
    assert "CIFAR-10 subset" in str(err.value) and str(tmp_path) in str(err.value)
