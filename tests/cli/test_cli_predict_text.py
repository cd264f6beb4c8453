"""`chainrule predict` on text models: a language model generates, other uses are refused."""

import pytest

import chainrule as cr
from chainrule.cli import main


@pytest.fixture
def char_model_dir(tmp_path):
    kwargs = {
        "vocab": list("\n ABCDEMORabcdemor:"),
        "embedding_dim": 4,
        "hidden_size": 8,
        "num_layers": 1,
    }
    model = cr.models.build("char_lstm", **kwargs)
    cr.io.save(tmp_path / "lm" / "checkpoint", model, model_name="char_lstm", model_kwargs=kwargs)
    return tmp_path / "lm"


def test_predict_generates_from_a_language_model(char_model_dir, capsys):
    args = ["predict", str(char_model_dir), "--prime", "ROMEO:", "--length", "20", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first.rstrip("\n")) >= len("ROMEO:")
    assert main(args) == 0
    assert capsys.readouterr().out == first  # the seed repeats the text


def test_language_model_refuses_an_image(char_model_dir):
    with pytest.raises(SystemExit) as err:
        main(["predict", str(char_model_dir), "digit.png"])
    assert "is a language model; give --prime" in str(err.value)


def test_prime_outside_the_vocabulary_is_explained(char_model_dir):
    with pytest.raises(SystemExit) as err:
        main(["predict", str(char_model_dir), "--prime", "xyz", "--length", "5"])
    assert str(err.value).startswith("chainrule predict:")
