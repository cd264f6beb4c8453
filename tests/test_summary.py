"""`summary`: rows from forward hooks, parameter and mult-add totals, side-effect freedom, CLI."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, nn
from chainrule.cli import main
from chainrule.summary import count_mult_adds, summarize, summary


def test_mnist_cnn_rows_and_totals():
    result = summarize(models.build("mnist_cnn"), (1, 28, 28))
    rows = {r.name: r for r in result.rows}
    assert rows["layers.0"].output_shape == (1, 32, 26, 26)
    assert rows["layers.0"].mult_adds == 26 * 26 * 32 * 9
    assert rows["layers.2"].mult_adds == 24 * 24 * 64 * 32 * 9
    assert rows["layers.4"].output_shape == (1, 64, 12, 12) and rows["layers.4"].params == 0
    assert rows["layers.6"].params == 9216 * 128 + 128
    assert result.total_params == result.trainable_params == 1_199_882
    assert result.total_mult_adds == 194_688 + 10_616_832 + 1_179_648 + 1_280
    assert result.param_bytes == 4 * 1_199_882


def test_resnet20_totals_match_the_paper():
    result = summarize(models.build("resnet20"), (3, 32, 32))
    assert result.total_params == 269_722 and result.non_trainable_params == 0
    convs = sum(r.mult_adds for r in result.rows if r.kind == "Conv2d")
    # stem; 6 convs at 32x32; a strided and 5 convs at 16x16; the same at 8x8: about 41M
    each = 16 * 16 * 9 * 32 * 32
    assert convs == 3 * 16 * 9 * 32 * 32 + 6 * each + 2 * (each // 2 + 5 * each) == 40_550_400
    bn_values = sum(r.mult_adds for r in result.rows if r.kind == "BatchNorm2d")
    assert result.total_mult_adds == convs + bn_values + 640
    # running mean and variance of 19 batch norms plus their step counters
    assert result.buffer_elements == 2 * (16 * 7 + 32 * 6 + 64 * 6) + 19


def test_text_lists_layers_and_totals(capsys):
    text = summary(models.build("resnet20"), (3, 32, 32))
    assert capsys.readouterr().out.strip() == text.strip()
    assert "layer2.0.shortcut (ShortcutA)" in text
    assert "Total params: 269,722" in text
    assert "Trainable params: 269,722" in text
    assert "Non-trainable params: 0" in text
    assert "Total mult-adds: 40.74M" in text
    quiet = summary(models.build("resnet20"), (3, 32, 32), verbose=False)
    assert capsys.readouterr().out == "" and quiet == text


def test_frozen_and_shared_parameters():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(4, 2))
    model[3].weight.requires_grad = False
    result = summarize(model, (4,))
    assert [r.params for r in result.rows] == [20, 0, 0, 10]  # the second call counts nothing
    assert result.total_params == 30
    assert result.non_trainable_params == 8 and result.trainable_params == 22
    assert result.total_mult_adds == 16 + 16 + 8


def test_batch_size_scales_mult_adds_not_parameters():
    one = summarize(models.build("mnist_cnn"), (1, 28, 28))
    four = summarize(models.build("mnist_cnn"), (1, 28, 28), batch_size=4)
    assert four.total_mult_adds == 4 * one.total_mult_adds
    assert four.total_params == one.total_params
    assert four.rows[0].output_shape == (4, 32, 26, 26)


def test_summary_leaves_modes_statistics_and_random_state_alone():
    model = models.build("resnet20", shortcut="B")
    model.train()
    model.layer1.eval()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    rng_state = cr.get_rng_state()
    summarize(model, (3, 32, 32))
    assert model.training and model.layer2.training and not model.layer1[0].bn1.training
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k].numpy()) for k in before)
    assert str(cr.get_rng_state()) == str(rng_state)
    assert all(not m._forward_hooks for m in model.modules())


def test_mult_add_rules_of_other_layers():
    ct = nn.ConvTranspose2d(8, 4, 3, stride=2)
    x = cr.randn(1, 8, 5, 5)
    assert count_mult_adds(ct, (x,), ct(x)) == 8 * 25 * 4 * 9
    lstm = nn.LSTM(6, 5, num_layers=2)
    seq = cr.randn(7, 3, 6)
    out = lstm(seq)
    per_row = 4 * 5 * 6 + 4 * 5 * 5 + 4 * 5 * 5 + 4 * 5 * 5
    assert count_mult_adds(lstm, (seq,), out) == 7 * 3 * per_row
    assert count_mult_adds(nn.ReLU(), (x,), x) == 0


def test_several_inputs_and_integer_inputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Linear(5, 2)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    result = summarize(Two(), [(3,), (5,)], batch_size=2)
    assert result.input_shapes == [(2, 3), (2, 5)]
    assert result.total_mult_adds == 2 * 2 * 3 + 2 * 2 * 5
    emb = summarize(nn.Embedding(10, 4), (6,), dtype="int64")
    assert emb.rows[0].output_shape == (1, 6, 4) and emb.total_params == 40


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected an nn.Module"):
        summary("resnet20", (3, 32, 32))
    with pytest.raises(ValueError, match="positive sizes"):
        summary(models.build("mlp"), (0, 28))
    with pytest.raises(ValueError, match="batch_size"):
        summary(models.build("mlp"), (784,), batch_size=0)


def test_cli_summary(capsys):
    assert main(["summary", "resnet20"]) == 0
    assert "Total params: 269,722" in capsys.readouterr().out
    assert main(["summary", "resnet20", "--set", "shortcut=B", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 272,474" in out and "(2, 10)" in out
    assert main(["summary", "mlp", "--input-shape", "784"]) == 0
    assert "(1, 784)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="unknown model 'resnet21'; available: .*resnet20"):
        main(["summary", "resnet21"])


def test_cli_summary_help_describes_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["summary", "--help"])
    out = capsys.readouterr().out
    for option in ("--input-shape", "--batch-size", "--dtype", "--set"):
        assert option in out
