"""Language models: shapes, sampling, truncated BPTT training, the CLI recipe, saving, bad input."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import io, models, optim
from chainrule.cli import main
from chainrule.cli.recipes import data_names, for_data
from chainrule.cli.recipes.language_model import (
    evaluate_language_model,
    generate_command,
    load_language_model,
    train_language_model,
)
from chainrule.data import CharVocabulary, batchify
from chainrule.models import CharLSTM, RNNLanguageModel, WordLSTM
from chainrule.models.language_model import _pick

_SHARED = Path(
    os.environ.get("CHAINRULE_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
)

_VERSE = (
    "ROMEO:\nBut soft, what light through yonder window breaks?\n\n"
    "JULIET:\nO Romeo, Romeo, wherefore art thou Romeo?\n\n"
)


def _tiny_char_model(**kwargs) -> CharLSTM:
    vocab = CharVocabulary(_VERSE).itos
    return CharLSTM(vocab=vocab, embedding_dim=8, hidden_size=16, **kwargs)


# ----------------------------------------------------------------------------- shapes
def test_word_model_matches_the_benchmark_shape():
    model = models.build("lstm_lm")
    assert isinstance(model, WordLSTM)
    assert model.encoder.weight.shape == (10000, 200)
    assert (model.rnn.hidden_size, model.rnn.num_layers) == (200, 2)
    assert model.decoder.weight.shape == (10000, 200)
    lstm = 2 * (4 * 200 * (200 + 200) + 2 * 4 * 200)
    assert model.num_parameters() == 10000 * 200 + lstm + 200 * 10000 + 10000


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_forward_shapes_and_state(cell):
    model = RNNLanguageModel(30, embedding_dim=6, hidden_size=10, num_layers=2, cell=cell)
    logits, state = model(cr.randint(0, 30, (4, 7)))
    assert logits.shape == (4, 7, 30)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 4, 10)
    again, _ = model(np.zeros((4, 3), dtype=np.int64), state)  # a carried state is accepted
    assert again.shape == (4, 3, 30)


def test_char_model_defaults_and_zoo_name():
    model = models.build("char_lstm")
    assert isinstance(model, CharLSTM) and model.vocab_size == 65
    assert model.rnn.hidden_size == 256 and model.rnn.num_layers == 2


def test_tied_weights_share_one_matrix():
    untied = WordLSTM(vocab_size=50, embedding_dim=12, hidden_size=12)
    tied = WordLSTM(vocab_size=50, embedding_dim=12, hidden_size=12, tie_weights=True)
    assert tied.decoder.weight is tied.encoder.weight
    assert untied.num_parameters() - tied.num_parameters() == 50 * 12
    logits, _ = tied(cr.randint(0, 50, (2, 5)))
    logits.sum().backward()
    assert tied.encoder.weight.grad is not None  # gradients of both uses land in one tensor
    with pytest.raises(ValueError, match="embedding_dim == hidden_size"):
        WordLSTM(vocab_size=50, embedding_dim=8, hidden_size=12, tie_weights=True)


def test_dropout_acts_in_training_only():
    model = _tiny_char_model(dropout=0.5)
    ids = np.tile(np.arange(6), (2, 1))
    model.train()
    a, _ = model(ids)
    b, _ = model(ids)
    assert not np.allclose(a.numpy(), b.numpy())
    model.eval()
    c, _ = model(ids)
    d, _ = model(ids)
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_forward_matches_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    model = RNNLanguageModel(20, embedding_dim=6, hidden_size=8, num_layers=2)
    emb = torch.nn.Embedding(20, 6)
    lstm = torch.nn.LSTM(6, 8, 2, batch_first=True)
    dec = torch.nn.Linear(8, 20)
    state = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    emb.load_state_dict({"weight": state["encoder.weight"]})
    lstm.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("rnn.")})
    dec.load_state_dict({"weight": state["decoder.weight"], "bias": state["decoder.bias"]})
    ids = np.random.default_rng(0).integers(0, 20, (3, 9))
    ours, (h, c) = model(ids)
    out, (th, tc) = lstm(emb(torch.tensor(ids)))
    theirs = dec(out)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(h.numpy(), th.detach().numpy(), atol=1e-5)


# ----------------------------------------------------------------------------- sampling
def test_sample_is_repeatable_with_a_seed():
    model = _tiny_char_model()
    first = model.sample("ROMEO:", 40, temperature=1.0, seed=7)
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 40
    assert model.sample("ROMEO:", 40, temperature=1.0, seed=7) == first
    assert model.sample("ROMEO:", 40, temperature=1.0, seed=8) != first


def test_sample_with_a_seed_leaves_the_package_generator_alone():
    model = _tiny_char_model()
    before = cr.get_rng_state()
    model.sample("O", 10, seed=3)
    assert cr.get_rng_state() == before
    cr.manual_seed(5)
    a = model.sample("O", 20)
    cr.manual_seed(5)
    assert model.sample("O", 20) == a  # without a seed, cr.manual_seed repeats it


def test_temperature_zero_is_greedy_and_keeps_the_mode():
    model = _tiny_char_model()
    model.train()
    greedy = model.sample("JULIET", 25, temperature=0)
    assert greedy == model.sample("JULIET", 25, temperature=0, seed=123)
    assert model.training  # sampling runs in eval mode and restores the mode
    ids = list(model.encode("JULIET"))
    for _ in range(5):  # greedy = arg-max of the model's own next-token logits, step by step
        logits, _ = model(np.asarray([ids]))
        ids.append(int(np.argmax(logits.numpy()[0, -1])))
    assert greedy[:11] == "".join(model.decode(ids))


def test_temperature_scales_the_softmax():
    logits = np.array([2.0, 1.0, 0.0, 0.0, -1.0])
    rng = np.random.default_rng(0)
    top = {}
    for t in (0.5, 1.0, 2.0):
        draws = np.array([_pick(logits, t, rng) for _ in range(4000)])
        top[t] = float(np.mean(draws == 0))
    p = np.exp(logits) / np.exp(logits).sum()
    assert abs(top[1.0] - p[0]) < 0.03  # temperature 1 samples the softmax itself
    assert top[0.5] > top[1.0] + 0.1 > top[2.0] + 0.2
    assert _pick(logits, 0.0, rng) == 0


def test_lower_temperature_concentrates_the_model_choices():
    model = WordLSTM(vocab_size=5, embedding_dim=4, hidden_size=4)
    with cr.no_grad():
        model.decoder.weight.data[:] = 0  # next-token distribution fixed by the bias alone
        model.decoder.bias.data[:] = np.array([2.0, 1.0, 0.0, 0.0, -1.0])
    cold = model.generate_ids([0], 150, temperature=0.25, seed=0)
    hot = model.generate_ids([0], 150, temperature=4.0, seed=0)
    assert np.mean(cold == 0) > 0.9 and np.mean(hot == 0) < 0.5
    assert np.all(model.generate_ids([1], 20, temperature=0) == 0)


def test_word_model_generates_words_and_maps_unknown_words():
    vocab = ["<unk>", "<eos>", "the", "cat", "sat"]
    model = WordLSTM(vocab=vocab, embedding_dim=4, hidden_size=4)
    text = model.generate("the dog", 6, seed=0)
    words = text.split()
    assert words[:2] == ["the", "dog"] and len(words) == 8
    assert set(words[2:]) <= set(vocab)
    assert model.encode(["the", "dog"]).tolist() == [2, 0]  # unknown words become <unk>
    ids = model.generate([2, 3], 4, seed=0)
    assert ids.shape == (6,) and ids[:2].tolist() == [2, 3]


# ----------------------------------------------------------------------------- bad input
def test_prime_with_unknown_characters_names_them():
    model = _tiny_char_model()
    with pytest.raises(ValueError, match=r"2 character\(s\) not in the vocabulary.*'#', 'é'"):
        model.sample("Romé#o", 5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prime": ""}, "at least one"),
        ({"prime": "O", "temperature": -1.0}, "temperature"),
        ({"prime": "O", "temperature": float("nan")}, "temperature"),
        ({"prime": "O", "length": -2}, "length"),
        ({"prime": [0, 99]}, r"prime ids \[99\] lie outside the vocabulary \[0, "),
    ],
)
def test_bad_sampling_arguments(kwargs, message):
    model = _tiny_char_model()
    kwargs.setdefault("length", 3)
    with pytest.raises(ValueError, match=message):
        model.sample(**kwargs)


def test_other_bad_input_is_explained():
    with pytest.raises(ValueError, match="without vocab"):
        CharLSTM(hidden_size=8).sample("abc", 3)
    with pytest.raises(ValueError, match=r"word\(s\) not in the vocabulary.*'dog'"):
        WordLSTM(vocab=["the", "cat"], embedding_dim=4, hidden_size=4).generate("the dog", 2)
    with pytest.raises(ValueError, match=r"expected token ids of shape \(B, T\)"):
        _tiny_char_model()(np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match="token id 70 is out of range for a vocabulary of 65"):
        CharLSTM(hidden_size=8)(np.array([[1, 70]]))
    with pytest.raises(ValueError, match="unknown cell 'lstn'; available: lstm, gru, rnn"):
        RNNLanguageModel(10, cell="lstn")
    with pytest.raises(ValueError, match="vocab_size=3 differs from the 2 tokens"):
        WordLSTM(vocab_size=3, vocab=["a", "b"])


# ----------------------------------------------------------------------------- training loop
def test_truncated_bptt_training_reduces_the_loss():
    text = _VERSE * 12
    vocab = CharVocabulary(text)
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train, val = batchify(ids[:split], 4), batchify(ids[split:], 2)
    model = CharLSTM(vocab=vocab.itos, embedding_dim=8, hidden_size=32, num_layers=1)
    before = evaluate_language_model(model, val, bptt=16)
    assert abs(before - math.log(len(vocab))) < 0.3  # an untrained model is close to uniform
    opt = optim.Adam(model.parameters(), lr=1e-2)
    lines: list[str] = []
    history = train_language_model(
        model, opt, train, val, bptt=16, epochs=6, clip=1.0, progress=False, log=lines.append
    )
    assert [h["epoch"] for h in history] == list(range(1, 7)) and len(lines) == 6
    assert history[-1]["val_loss"] < 0.6 * before
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["lr"] < 1e-4  # cosine annealing reaches ~0 at the last step
    assert "nats/token" in lines[-1] and "val ppl" in lines[-1]


def test_time_limit_and_ctrl_c_stop_training():
    ids = CharVocabulary(_VERSE).encode(_VERSE * 4)
    data = batchify(ids, 2)
    model = _tiny_char_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = train_language_model(
        model, opt, data, data, bptt=8, epochs=3, max_seconds=0.0, progress=False, log=print
    )
    assert history == []  # no step fits into no time
    calls = {"n": 0}
    step = opt.step

    def interrupted_step():
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        step()

    opt.step = interrupted_step
    history = train_language_model(model, opt, data, data, bptt=8, epochs=3, log=lambda s: None)
    assert len(history) == 1 and history[0]["stopped"] == 1  # Ctrl-C: the cut epoch is validated
    assert history[0]["steps"] == 2 and math.isfinite(history[0]["val_loss"])
    with pytest.raises(ValueError, match="unknown schedule"):
        train_language_model(model, opt, data, data, bptt=8, epochs=1, schedule="linear")


# ----------------------------------------------------------------------------- recipe and CLI
def test_recipe_is_registered():
    assert {"tinyshakespeare", "ptb"} <= set(data_names())
    assert for_data("ptb").DATA == ("tinyshakespeare", "ptb")


def _write_tiny_corpora(root: Path) -> None:
    (root / "tinyshakespeare").mkdir(parents=True)
    (root / "tinyshakespeare" / "input.txt").write_text(_VERSE * 40, encoding="utf-8")
    (root / "ptb").mkdir()
    sentences = ["the cat sat on the mat", "a dog sat on the log", "the <unk> ran N miles"]
    for split, n in (("train", 120), ("valid", 30), ("test", 30)):
        lines = [" " + sentences[i % 3] + " " for i in range(n)]
        (root / "ptb" / f"ptb.{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_cli_trains_saves_and_reloads_the_char_model(tmp_path, capsys):
    _write_tiny_corpora(tmp_path / "data")
    out = tmp_path / "run"
    argv = ["train", "--data", "tinyshakespeare", "--data-dir", str(tmp_path / "data"),
            "--epochs", "2", "--batch-size", "4", "--bptt", "16", "--hidden", "24",
            "--embedding-size", "8", "--lr", "0.01", "--sample-length", "30", "--seed", "3",
            "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "final validation loss:" in printed and "nats/char" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["epochs_run"] == 2 and results["val_loss"] < math.log(23)
    assert (out / "sample.txt").read_text() == results["sample"]
    vocab = CharVocabulary.load(out / "vocab.json")
    model = load_language_model(out)
    assert isinstance(model, CharLSTM) and model.vocab == vocab.itos
    assert model.rnn.hidden_size == 24
    # the reloaded model is the trained one: same loss, same text for the same seed
    data = batchify(vocab.encode(_VERSE * 4), 2)
    ckpt = io.load(out / "checkpoint", restore_rng=False)
    assert ckpt.model_name == "char_lstm" and ckpt.extra["results"]["epochs_run"] == 2
    text = generate_command(out, prime="ROMEO:", length=40, temperature=0.5, seed=1)
    assert text == generate_command(model, prime="ROMEO:", length=40, temperature=0.5, seed=1)
    again = load_language_model(out / "checkpoint")
    assert evaluate_language_model(again, data, 16) == evaluate_language_model(model, data, 16)


def test_cli_word_model_reports_perplexity(tmp_path, capsys):
    _write_tiny_corpora(tmp_path / "data")
    out = tmp_path / "ptb-run"
    argv = ["train", "--data", "ptb", "--data-dir", str(tmp_path / "data"), "--epochs", "3",
            "--batch-size", "4", "--bptt", "8", "--hidden", "16", "--embedding-size", "16",
            "--tie-weights", "--optimizer", "adam", "--lr", "0.01", "--quiet",
            "--sample-length", "12", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "final validation perplexity" in printed and "test perplexity" in printed
    results = json.loads((out / "results.json").read_text())
    assert results["test_ppl"] < 12  # 12 words in the vocabulary: better than uniform
    model = load_language_model(out)
    assert isinstance(model, WordLSTM) and model.tie_weights
    assert model.decoder.weight is model.encoder.weight  # still tied after loading
    text = generate_command(model, prime="the cat", length=10, temperature=0, seed=0)
    assert text.startswith("the cat") and "<eos>" not in text  # <eos> is shown as a line break


def test_cli_errors_are_clear(tmp_path):
    with pytest.raises(SystemExit, match="tinyshakespeare: missing input.txt"):
        main(["train", "--data", "tinyshakespeare", "--data-dir", str(tmp_path)])
    _write_tiny_corpora(tmp_path / "data")
    with pytest.raises(SystemExit, match="not a language model"):
        main(["train", "--data", "ptb", "--data-dir", str(tmp_path / "data"), "--model", "mlp"])
    with pytest.raises(SystemExit, match="too small"):
        main(["train", "--data", "ptb", "--data-dir", str(tmp_path / "data"),
              "--batch-size", "5000", "--epochs", "1"])  # fmt: skip
    with pytest.raises(ValueError, match="expected a language model"):
        generate_command(models.build("mlp"))


@pytest.mark.skipif(not (_SHARED / "tinyshakespeare").is_dir(), reason="shared data absent")
def test_cli_on_a_slice_of_real_tiny_shakespeare(tmp_path, capsys):
    argv = ["train", "--data", "tinyshakespeare", "--data-dir", str(_SHARED), "--limit", "6000",
            "--epochs", "1", "--batch-size", "8", "--bptt", "25", "--hidden", "16",
            "--embedding-size", "8", "--quiet", "--sample-length", "20",
            "--out", str(tmp_path / "ts")]  # fmt: skip
    assert main(argv) == 0
    assert "90/10 split of 6,000 chars" in capsys.readouterr().out
