"""Kim's sentence CNN: the fused conv bank, the four variants, padding, max-norm, the recipe."""

import os
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, optim
from chainrule.autograd import gradcheck
from chainrule.backend import config
from chainrule.models._conv_max import conv_relu_max_over_time
from chainrule.models.textcnn import VARIANTS, TextCNN
from chainrule.train import Trainer

V, D, C = 40, 8, 6  # a small vocabulary, vector length and maps per width


def _ids(n=5, length=12, seed=0):
    return np.random.default_rng(seed).integers(1, V, (n, length))


def _valid(n, length):
    valid = np.ones((n, length), dtype=bool)
    valid[1, 7:] = False  # a short sentence
    valid[2, :] = False  # nothing but padding
    valid[3, 3:] = False  # shorter than the widest filter
    return valid


def _bank(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    ws = [cr.tensor(0.3 * rng.standard_normal((C, D, k)), dtype=dtype, requires_grad=True)
          for k in (3, 4, 5)]  # fmt: skip
    bs = [cr.tensor(0.3 * rng.standard_normal(C), dtype=dtype, requires_grad=True) for _ in ws]
    return ws, bs


@pytest.mark.parametrize("use_numba", [True, False])
def test_fused_bank_gradcheck(use_numba, monkeypatch):
    monkeypatch.setattr(config, "use_numba", use_numba)
    x = cr.tensor(np.random.default_rng(1).standard_normal((4, 9, D)), requires_grad=True)
    ws, bs = _bank()
    valid = _valid(4, 9)

    def fn(x, *params):
        return conv_relu_max_over_time(x, list(params[0::2]), list(params[1::2]), valid)

    assert gradcheck(fn, [x, *[p for pair in zip(ws, bs, strict=True) for p in pair]])


@pytest.mark.parametrize("use_numba", [True, False])
def test_fused_bank_matches_torch_with_padding(use_numba, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(config, "use_numba", use_numba)
    n, length = 5, 11
    x_np = np.random.default_rng(2).standard_normal((n, length, D))
    valid = _valid(n, length)
    g_np = np.random.default_rng(3).standard_normal((n, 3 * C))
    ws, bs = _bank()
    x = cr.tensor(x_np, requires_grad=True)
    out = conv_relu_max_over_time(x, ws, bs, valid)
    (out * cr.tensor(g_np)).sum().backward()

    xt = torch.tensor(x_np, requires_grad=True)
    tw = [torch.tensor(w.data, requires_grad=True) for w in ws]
    tb = [torch.tensor(b.data, requires_grad=True) for b in bs]
    pooled = []
    for w, b in zip(tw, tb, strict=True):
        k = w.shape[2]
        y = torch.nn.functional.conv1d(xt.transpose(1, 2), w, b)
        count = np.concatenate([np.zeros((n, 1)), np.cumsum(valid, axis=1)], axis=1)
        has_token = torch.tensor((count[:, k:] - count[:, :-k]) > 0)
        y = y.masked_fill(~has_token[:, None, :], -1e30)
        pooled.append(torch.relu(y.max(dim=2).values))
    ref = torch.cat(pooled, dim=1)
    (ref * torch.tensor(g_np)).sum().backward()
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-12)
    for ours, theirs in zip(ws + bs, tw + tb, strict=True):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), atol=1e-12)
    assert np.all(out.data[2] == 0)  # a row of padding only pools nothing


@pytest.mark.parametrize("variant", VARIANTS)
def test_shapes_and_parameters_per_variant(variant):
    vectors = None if variant == "rand" else np.random.default_rng(0).normal(size=(V, D))
    model = TextCNN(V, D, num_classes=3, variant=variant, vectors=vectors, num_filters=C)
    ids = cr.tensor(_ids())
    assert model(ids).shape == (5, 3)
    assert model.features(ids).shape == (5, 3 * C)
    channels = 2 * D if variant == "multichannel" else D
    conv = sum(C * channels * k + C for k in (3, 4, 5))
    tables = 2 if variant == "multichannel" else 1
    assert sum(p.numel() for p in model.parameters()) == tables * V * D + conv + 3 * C * 3 + 3
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == conv + 3 * C * 3 + 3 + (0 if variant == "static" else V * D)


def test_fused_and_unfused_paths_agree():
    model = TextCNN(V, D, num_classes=2, num_filters=C, dropout=0.0)
    ids = _ids()
    ids[1, 6:] = 0
    ids[2, :] = 0
    outputs, grads = [], []
    for fused in (True, False):
        model.fused = fused
        model.zero_grad()
        out = model(ids)
        out.sum().backward()
        outputs.append(out.data)
        grads.append([p.grad.data.copy() for p in model.parameters()])
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_matches_torch_twin_with_copied_weights():
    torch = pytest.importorskip("torch")
    model = TextCNN(V, D, num_classes=2, num_filters=C, variant="multichannel",
                    vectors=np.random.default_rng(0).normal(size=(V, D)))  # fmt: skip
    model.eval()
    ids = _ids(length=9)
    emb = torch.tensor(model.embedding.weight.data)
    static = torch.tensor(model.static_embedding.weight.data)
    x = torch.cat([emb[torch.tensor(ids)], static[torch.tensor(ids)]], dim=-1).transpose(1, 2)
    feats = []
    for conv in model.convs:
        w, b = torch.tensor(conv.weight.data), torch.tensor(conv.bias.data)
        feats.append(torch.relu(torch.nn.functional.conv1d(x, w, b)).max(dim=2).values)
    ref = torch.nn.functional.linear(
        torch.cat(feats, 1), torch.tensor(model.fc.weight.data), torch.tensor(model.fc.bias.data)
    )
    np.testing.assert_allclose(model(ids).data, ref.numpy(), rtol=1e-5, atol=1e-5)


def _train(model, steps=5, lr=1.0, max_norm=3.0):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optim.Adadelta(params, lr=lr, rho=0.95, eps=1e-6)
    trainer = Trainer(model, opt, "cross_entropy", max_norm={"fc.weight": max_norm})
    rng = np.random.default_rng(4)
    model.train()
    for _ in range(steps):
        ids = rng.integers(0, V, (8, 10))
        ids[:, 7:] = 0
        trainer.train_step(ids, rng.integers(0, 2, 8))
    return trainer


def test_static_embedding_stays_frozen():
    vectors = np.random.default_rng(0).normal(size=(V, D)).astype(np.float32)
    model = TextCNN(V, D, variant="static", vectors=vectors, num_filters=C)
    before = model.embedding.weight.data.copy()
    conv_before = model.convs[0].weight.data.copy()
    _train(model)
    np.testing.assert_array_equal(model.embedding.weight.data, before)
    assert not np.allclose(model.convs[0].weight.data, conv_before)
    np.testing.assert_array_equal(vectors[1:], before[1:])  # the caller's table was copied


def test_multichannel_trains_one_channel_only():
    vectors = np.random.default_rng(0).normal(size=(V, D)).astype(np.float32)
    model = TextCNN(V, D, variant="multichannel", vectors=vectors, num_filters=C)
    static_before = model.static_embedding.weight.data.copy()
    tuned_before = model.embedding.weight.data.copy()
    _train(model)
    np.testing.assert_array_equal(model.static_embedding.weight.data, static_before)
    assert not np.allclose(model.embedding.weight.data, tuned_before)
    # the padding vector of both channels stays zero
    assert np.all(model.embedding.weight.data[0] == 0)
    assert np.all(model.static_embedding.weight.data[0] == 0)


def test_max_norm_bounds_output_rows():
    model = TextCNN(V, D, variant="rand", num_filters=C)
    model.fc.weight.data[...] *= 50  # start far outside the ball
    _train(model, steps=3, max_norm=0.5)
    norms = np.linalg.norm(model.fc.weight.data, axis=1)
    assert norms.max() <= 0.5 * (1 + 1e-6)
    assert norms.min() > 0.45  # the rows started at norm ~ 50 x larger and were pulled back
    assert np.linalg.norm(model.convs[0].weight.data.reshape(C, -1), axis=1).max() < 50


def test_padding_does_not_change_the_result():
    model = TextCNN(V, D, num_filters=C)
    model.eval()
    # sentences framed by widest - 1 = 4 padding ids on each side, as the recipe encodes them
    ids = np.pad(_ids(n=3, length=8), ((0, 0), (4, 4)))
    ids[1, 8:] = 0  # a shorter sentence in the same batch
    longer = np.concatenate([ids, np.zeros((3, 9), dtype=ids.dtype)], axis=1)
    np.testing.assert_allclose(model(ids).data, model(longer).data, rtol=1e-6)
    alone = model(ids[1:2, :12]).data  # the short one padded only to its own frame
    np.testing.assert_allclose(model(ids).data[1:2], alone, rtol=1e-6)
    # sentences shorter than the widest filter are padded, not refused
    assert model(ids[:, :2]).shape == (3, 2)
    only_padding = np.zeros((1, 6), dtype=np.int64)
    assert np.all(model.features(only_padding).data == 0)


def test_out_of_vocabulary_id_is_named():
    model = TextCNN(V, D, num_filters=C)
    ids = _ids()
    ids[2, 3] = V + 7
    with pytest.raises(ValueError, match=rf"token id {V + 7}.*vocabulary of {V}"):
        model(ids)


def test_bad_inputs_and_arguments():
    model = TextCNN(V, D, num_filters=C)
    with pytest.raises(ValueError, match=r"shape \(N, L\)"):
        model(np.arange(6))
    with pytest.raises(TypeError, match="integer token ids"):
        model(np.ones((2, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="unknown variant 'dynamic'; available: rand"):
        TextCNN(V, D, variant="dynamic")
    with pytest.raises(ValueError, match="learns its word vectors from scratch"):
        TextCNN(V, D, vectors=np.zeros((V, D)))
    with pytest.raises(ValueError, match=r"vectors must have shape \(vocab_size=40"):
        TextCNN(V, D, variant="static", vectors=np.zeros((V + 1, D)))


def test_zoo_builds_textcnn():
    assert "textcnn" in models.available()
    assert isinstance(models.build("textcnn", vocab_size=V, embed_dim=D), TextCNN)


# ------------------------------------------------------------------------------ the recipe
def _shared_data() -> Path:
    env = os.environ.get("CHAINRULE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


needs_data = pytest.mark.skipif(
    not (_shared_data() / "mr").is_dir(), reason="the shared MR data are not available"
)


@needs_data
def test_recipe_cross_validates_and_saves_a_classifier(tmp_path, capsys):
    from chainrule.cli import main
    from chainrule.cli.recipes.text_classification import classify_sentence

    saved = tmp_path / "mr_model"
    code = main(["train", "--data", "mr", "--data-dir", str(_shared_data()), "--limit", "400",
                 "--folds", "4", "--fold-limit", "1", "--epochs", "2", "--embed-dim", "16",
                 "--quiet", "--save-model", str(saved)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "fold 1/4: test accuracy" in out and "(1 of 4 folds)" in out
    label, probs = classify_sentence(saved, "A gorgeous, witty, seductive movie.")
    assert label in ("negative", "positive")
    assert set(probs) == {"negative", "positive"}
    assert abs(sum(probs.values()) - 1) < 1e-5


@needs_data
def test_recipe_trains_static_variant_on_a_test_split(tmp_path, capsys):
    from chainrule.cli import main

    words = "what how who is the a of city country name".split()
    rng = np.random.default_rng(0)
    lines = [f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=4)) for w in words]
    vec_file = tmp_path / "tiny.txt"
    vec_file.write_text("\n".join(lines) + "\n")
    code = main(["train", "--data", "trec", "--data-dir", str(_shared_data()), "--limit", "300",
                 "--variant", "static", "--vectors", str(vec_file), "--epochs", "1",
                 "--quiet"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "textcnn-static on trec (6 classes" in out
    assert "final test accuracy:" in out
