"""`chainrule evaluate` and `chainrule predict` on a tiny trained MLP run."""

import numpy as np
import pytest
from cli_helpers import train_run, write_png

from chainrule.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert train_run(out, "--epochs", "1", "--no-augment") == 0
    return out


def test_evaluate_prints_test_loss_and_accuracy(run_dir, capsys):
    assert main(["evaluate", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "test loss" in out and "test accuracy" in out and "2,000 test images" in out
    # the checkpoint folder itself works too, and agrees
    assert main(["evaluate", str(run_dir / "checkpoint")]) == 0
    assert capsys.readouterr().out.split(":")[1] == out.split(":")[1]


def test_evaluate_accuracy_matches_training(run_dir, capsys):
    last = (run_dir / "history.csv").read_text().splitlines()
    header, row = last[0].split(","), last[-1].split(",")
    trained = float(row[header.index("val_accuracy")])
    main(["evaluate", str(run_dir)])
    printed = float(capsys.readouterr().out.split("test accuracy ")[1].split("%")[0])
    assert printed == pytest.approx(100 * trained, abs=0.01)


def test_predict_an_image_prints_top3(run_dir, tmp_path, capsys):
    from chainrule.data import load_mnist_sample

    _, _, x_test, _ = load_mnist_sample()
    image = write_png(tmp_path / "digit.png", x_test[0])
    assert main(["predict", str(run_dir), str(image)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "digit.png:" and len(lines) == 4
    probs = [float(line.split()[-1].rstrip("%")) for line in lines[1:]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 100.01


def test_predict_resizes_and_inverts_a_large_dark_on_light_image(run_dir, tmp_path, capsys):
    pixels = np.full((56, 70, 3), 255, np.uint8)
    pixels[10:46, 30:38] = 0  # a dark stroke: a "1"
    image = write_png(tmp_path / "one.png", pixels)
    assert main(["predict", str(run_dir), str(image), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "converted to gray" in out and "inverted" in out and "resized from 70x56" in out
    assert len(out.strip().splitlines()) == 3


def test_predict_errors_are_clear(run_dir, tmp_path):
    with pytest.raises(SystemExit) as err:
        main(["predict", str(run_dir), str(tmp_path / "missing.png")])
    assert "does not exist" in str(err.value)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(SystemExit) as err:
        main(["predict", str(run_dir), str(bad)])
    assert "not a PNG file" in str(err.value)
    with pytest.raises(SystemExit) as err:
        main(["predict", str(run_dir)])
    assert "give an image" in str(err.value)
    with pytest.raises(SystemExit) as err:
        main(["predict", str(run_dir), "--text", "a fine film"])
    assert "not available for this model (mlp)" in str(err.value)


def test_colour_model_refuses_a_wrong_image_size(tmp_path):
    from chainrule.cli._vision import SPECS, prepare_image

    with pytest.raises(ValueError, match="is 28x28 pixels; this model takes 32x32 RGB"):
        prepare_image(np.zeros((28, 28, 3), np.uint8), SPECS["cifar10"], "cat.png")
    x, _ = prepare_image(np.zeros((32, 32, 3), np.uint8), SPECS["cifar10"], "cat.png")
    assert x.shape == (1, 3, 32, 32) and x.dtype == np.float32


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_missing_checkpoint_folder(tmp_path, command):
    with pytest.raises(SystemExit) as err:
        main([command, str(tmp_path / "nowhere")])
    assert "does not exist" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as err:
        main([command, str(tmp_path / "empty")])
    assert "neither a run folder" in str(err.value)


def test_corrupted_checkpoint_names_the_file(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    weights = copy / "checkpoint" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(SystemExit) as err:
        main(["evaluate", str(copy)])
    assert "model.safetensors" in str(err.value)
