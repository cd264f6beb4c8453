"""`chainrule train --data mr|trec`: Kim's CNN recipe on tiny synthetic data sets (no shared data).

The synthetic sentences are filler words plus one cue word ("good" in every positive sentence,
"bad" in every negative one), so any working variant must score far above chance.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.cli.recipes.text_classification import classify_sentence

FILLERS = "the film movie story actor plot scene was is a and very quite it this of".split()
# words left out of the vector file: they start from U(-a, a) in the pretrained variants
NO_VECTOR = ("plot", "quite")
# small, fast settings; --patience 0 trains every epoch
FAST = ["--epochs", "4", "--batch-size", "10", "--patience", "0", "--quiet", "--seed", "0"]


def _sentences(rng: np.random.Generator, cue: str, n: int) -> list[str]:
    out = []
    for _ in range(n):
        words = list(rng.choice(FILLERS, size=int(rng.integers(4, 9))))
        words.insert(int(rng.integers(0, len(words) + 1)), cue)
        out.append(" ".join(words).capitalize() + " .")
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """A tiny MR (rt-polarity.pos/.neg), a tiny TREC and a tiny GloVe text file."""
    root = tmp_path_factory.mktemp("textdata")
    rng = np.random.default_rng(0)
    (root / "mr").mkdir()
    for cue, name in (("good", "rt-polarity.pos"), ("bad", "rt-polarity.neg")):
        text = "\n".join(_sentences(rng, cue, 60)) + "\n"
        (root / "mr" / name).write_bytes(text.encode("cp1252"))
    (root / "trec").mkdir()
    cues = ("How", "What", "Who")  # TREC keeps case: the cue is the capitalised question word
    for split, n in (("train", 150), ("test", 30)):
        lines = []
        for k in range(n):
            label = k % len(cues)
            rest = " ".join(rng.choice(FILLERS, size=int(rng.integers(3, 7))))
            lines.append(f"{label} {cues[label]} {rest} ?")
        (root / "trec" / f"TREC.{split}.all").write_bytes(("\n".join(lines) + "\n").encode())
    # GloVe text format: "word v1 ... v8"; elements spread like GloVe's (std ~0.7)
    words = [w for w in FILLERS if w not in NO_VECTOR] + ["good", "bad", "unused"]
    table = rng.normal(0.0, 0.7, size=(len(words), 8))
    table[words.index("good")] = np.linspace(1.0, 2.0, 8)
    table[words.index("bad")] = -np.linspace(1.0, 2.0, 8)
    glove = root / "tiny_glove.txt"
    glove.write_text(
        "\n".join(
            w + " " + " ".join(f"{x:.5f}" for x in row) for w, row in zip(words, table, strict=True)
        )
        + "\n"
    )
    return {"root": root, "glove": glove}


def _accuracy(out: str) -> float:
    match = re.search(r"(?:cross-validated|final) test accuracy[^:]*: ([0-9.]+)%", out)
    assert match, out
    return float(match.group(1))


def _train_mr(data: dict[str, Path], *extra: str) -> list[str]:
    return ["train", "--data", "mr", "--data-dir", str(data["root"]), "--folds", "2", *FAST, *extra]


def test_rand_learns_the_cue_word_and_the_model_round_trips(data, tmp_path, capsys):
    saved = tmp_path / "mr-rand"
    args = _train_mr(data, "--variant", "rand", "--embed-dim", "16", "--save-model", str(saved))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "textcnn-rand on mr (2 classes; 16-d vectors learned from scratch)" in out
    assert "(2 of 2 folds)" in out and f"saved the model to {saved}" in out
    assert _accuracy(out) >= 85.0
    label, probs = classify_sentence(saved, "The film was very good .")
    assert label == "positive" and probs["positive"] > 0.5
    assert set(probs) == {"negative", "positive"} and abs(sum(probs.values()) - 1) < 1e-5
    assert classify_sentence(saved, "The film was very bad .")[0] == "negative"


@pytest.mark.parametrize("variant", ["static", "non-static", "multichannel"])
def test_pretrained_variants_learn_from_a_vector_file(data, variant, capsys):
    args = _train_mr(data, "--variant", variant, "--vectors", str(data["glove"]))
    assert main(args) == 0
    out = capsys.readouterr().out
    # 16 of the 18 data words have a vector; the default rescales them to Kim's spread
    assert f"textcnn-{variant} on mr (2 classes; 16 pretrained vectors scaled to" in out
    assert _accuracy(out) >= 85.0


def test_vector_scaling_options(data, capsys):
    base = _train_mr(
        data, "--variant", "static", "--vectors", str(data["glove"]), "--fold-limit", "1"
    )
    assert main([*base, "--vector-std", "none", "--unknown-scale", "0.25"]) == 0
    out = capsys.readouterr().out
    assert "16 pretrained vectors);" in out  # as read, no scaling
    assert main([*base, "--vector-std", "0.5", "--unknown-scale", "auto"]) == 0
    assert "scaled to element std 0.5)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--unknown-scale", "0"),
        ("--unknown-scale", "-1"),
        ("--unknown-scale", "wide"),
        ("--unknown-scale", "inf"),
        ("--vector-std", "0"),
        ("--vector-std", "nan"),
        ("--vector-std", "big"),
    ],
)
def test_bad_scale_values_name_the_option(data, option, value):
    with pytest.raises(SystemExit) as err:
        main(_train_mr(data, "--variant", "static", option, value))
    message = str(err.value)
    assert message.startswith("chainrule train:") and option in message and value in message


def test_rand_refuses_vectors(data):
    with pytest.raises(SystemExit) as err:
        main(_train_mr(data, "--variant", "rand", "--vectors", str(data["glove"])))
    assert "--vectors applies to static, non-static and multichannel, not rand" in str(err.value)


def test_missing_data_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_SHARED_DATA", str(tmp_path))  # not the real MR either
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    with pytest.raises(SystemExit) as err:
        main(["train", "--data", "mr", "--data-dir", str(tmp_path), "--folds", "2", *FAST])
    assert str(err.value).startswith("chainrule train:")


def test_trec_trains_on_its_train_split_and_scores_its_test_split(data, capsys):
    args = ["train", "--data", "trec", "--data-dir", str(data["root"]), "--embed-dim", "16"]
    assert main([*args, *FAST]) == 0
    out = capsys.readouterr().out
    assert "textcnn-rand on trec (6 classes;" in out and "test split: test accuracy" in out
    assert _accuracy(out) >= 80.0  # 3 classes used, chance 33%


def test_rescaling_keeps_directions_and_auto_matches_kims_unknown_scale():
    from chainrule.cli.recipes import text_classification as recipe
    from chainrule.data import WordVectors

    rng = np.random.default_rng(1)
    raw = WordVectors(["a", "b", "c"], rng.normal(0.0, 0.7, size=(3, 50)))
    scaled = recipe._rescale(raw, recipe._KIM_STD_TEXT)
    assert scaled.words == raw.words
    assert abs(float(scaled.vectors.std()) - 0.25 / 3**0.5) < 1e-4
    ratio = scaled.vectors / raw.vectors
    np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-5)  # one factor for every element
    # U(-a, a) has the variance of the rescaled vectors when a is Kim's 0.25
    assert abs(recipe._unknown_scale("auto", scaled) - 0.25) < 1e-3
    assert recipe._unknown_scale("0.1", scaled) == 0.1
    assert recipe._rescale(raw, "none") is raw
