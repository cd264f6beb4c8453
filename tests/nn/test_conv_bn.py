"""Folding an eval-mode batch norm into the convolution before it: same values, and only when
nothing (training, gradients, hooks, batch statistics) could tell the difference."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.models import zoo
from chainrule.nn.blocks import BasicBlock, Bottleneck
from chainrule.nn.conv_bn import conv_bn, foldable


def _trained_pair(conv_kwargs=None, bn_kwargs=None, dtype="float64"):
    """A conv and a batch norm whose running statistics and affine terms are far from 0/1."""
    cr.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, **(conv_kwargs or {"padding": 1})).to(dtype=dtype)
    bn = nn.BatchNorm2d(6, **(bn_kwargs or {})).to(dtype=dtype)
    for _ in range(3):
        bn(conv(cr.randn(5, 4, 9, 9, dtype=dtype) * 2 + 1))
    if bn.weight is not None:
        bn.weight.data[:] = np.linspace(0.5, 2.0, 6)
        bn.bias.data[:] = np.linspace(-1.0, 1.0, 6)
    conv.eval()
    bn.eval()
    return conv, bn


@pytest.mark.parametrize(
    "conv_kwargs",
    [
        {"padding": 1},
        {"padding": 1, "bias": False},
        {"stride": 2},
        {"padding": "same", "dilation": 2, "groups": 2},
    ],
)
@pytest.mark.parametrize("affine", [True, False])
def test_folded_convolution_equals_conv_then_bn(conv_kwargs, affine):
    conv, bn = _trained_pair(conv_kwargs, {"affine": affine})
    x = cr.randn(3, 4, 9, 9, dtype="float64")
    expected = bn(conv(x)).numpy()  # grad mode: the two-step path
    with cr.no_grad():
        assert foldable(conv, bn)
        got = conv_bn(conv, bn, x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_no_folding_in_training_or_when_recording_gradients():
    conv, bn = _trained_pair()
    assert not foldable(conv, bn)  # gradients are being recorded
    with cr.no_grad():
        bn.train()
        assert not foldable(conv, bn)
        bn.eval()
        conv.train()
        assert not foldable(conv, bn)
        assert not foldable(nn.Conv1d(4, 6, 3).eval(), bn)  # only Conv2d is folded
    x = cr.randn(2, 4, 9, 9, dtype="float64").requires_grad_()
    conv.eval()
    y = conv_bn(conv, bn, x)
    y.sum().backward()
    assert x.grad is not None and conv.weight.grad is not None and bn.weight.grad is not None


def test_batch_norm_without_running_statistics_is_not_folded():
    conv, bn = _trained_pair(bn_kwargs={"track_running_stats": False})
    with cr.no_grad():
        assert not foldable(conv, bn)
        y = conv_bn(conv, bn, cr.randn(4, 4, 9, 9, dtype="float64")).numpy()
    # batch statistics: every channel comes out with mean ~ beta
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), bn.bias.numpy(), atol=1e-9)


def test_hooks_on_either_layer_are_honoured():
    conv, bn = _trained_pair()
    seen = []
    handle = conv.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    with cr.no_grad():
        assert not foldable(conv, bn)
        conv_bn(conv, bn, cr.randn(2, 4, 9, 9, dtype="float64"))
    assert seen == [(2, 6, 9, 9)]
    handle.remove()
    bn.register_forward_pre_hook(lambda m, args: seen.append("bn"))
    with cr.no_grad():
        assert not foldable(conv, bn)
        conv_bn(conv, bn, cr.randn(2, 4, 9, 9, dtype="float64"))
    assert seen[-1] == "bn"


def test_folded_path_still_names_the_layer_on_a_wrong_channel_count():
    conv, bn = _trained_pair()
    with cr.no_grad(), pytest.raises(ValueError, match=r"Conv2d.*4"):
        conv_bn(conv, bn, cr.randn(2, 3, 9, 9, dtype="float64"))


def test_sequential_folds_conv_bn_pairs_in_inference():
    conv, bn = _trained_pair()
    seq = nn.Sequential(conv, bn, nn.ReLU(), nn.Conv2d(6, 2, 1).to(dtype="float64")).eval()
    x = cr.randn(2, 4, 9, 9, dtype="float64")
    expected = seq(x).numpy()
    with cr.no_grad():
        got = seq(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("block", [BasicBlock(4, 8, stride=2, shortcut="B"), Bottleneck(8, 2)])
def test_blocks_give_the_same_output_folded_or_not(block):
    block = block.to(dtype="float64")
    x = cr.randn(3, block.in_channels, 8, 8, dtype="float64")
    block(x)  # one training step of statistics
    block.eval()
    expected = block(x).numpy()
    with cr.no_grad():
        got = block(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_resnet20_inference_folded_matches_unfolded_in_float32():
    cr.manual_seed(1)
    model = zoo.build("resnet20")
    x = cr.randn(4, 3, 32, 32)
    model(x)  # move the running statistics away from 0/1
    model.eval()
    expected = model(x).numpy()
    with cr.no_grad():
        got = model(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("grad", [True, False])
def test_relu_option_equals_relu_after_the_pair_in_training_and_inference(grad):
    conv, bn = _trained_pair()
    x = cr.randn(3, 4, 9, 9, dtype="float64")
    for train in (True, False):
        conv.train(train)
        bn.train(train)
        with cr.enable_grad() if grad else cr.no_grad():
            bn.momentum = 0.0  # leave the running statistics as they are between the calls
            expected = cr.relu(bn(conv(x))).numpy()
            got = conv_bn(conv, bn, x, relu=True).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_relu_option_runs_batch_norm_hooks():
    conv, bn = _trained_pair()
    bn.train()
    seen = []
    bn.register_forward_hook(lambda m, args, out: seen.append(float(out.numpy().min())))
    y = conv_bn(conv, bn, cr.randn(2, 4, 9, 9, dtype="float64"), relu=True)
    assert seen and seen[0] < 0  # the hook saw the batch norm's output, before the ReLU
    assert float(y.numpy().min()) == 0.0


def _by_hand(modules, x):
    for m in modules:
        x = m(x)
    return x


@pytest.mark.parametrize("with_bn", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_sequential_fuses_conv_relu_and_conv_bn_relu_with_equal_gradients(with_bn, train):
    cr.manual_seed(3)
    layers = [nn.Conv2d(3, 5, 3, padding=1)]
    layers += [nn.BatchNorm2d(5)] if with_bn else []
    layers += [nn.ReLU(), nn.Conv2d(5, 2, 3, stride=2), nn.ReLU()]
    seq = nn.Sequential(*[m.to(dtype="float64") for m in layers]).train(train)
    x = cr.randn(4, 3, 8, 8, dtype="float64")
    if with_bn:
        seq[1].momentum = 0.0  # the two passes see the same running statistics
    results = []
    for run in (seq, lambda t: _by_hand(list(seq), t)):
        for p in seq.parameters():
            p.grad = None
        y = run(x)
        (y * y).sum().backward()
        results.append([y.numpy()] + [p.grad.numpy() for p in seq.parameters()])
    for got, expected in zip(*results, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_sequential_leaves_hooked_conv_and_relu_unfused():
    cr.manual_seed(4)
    seq = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 3, 1), nn.ReLU())
    seen = []
    seq[0].register_forward_hook(lambda m, a, out: seen.append(float(out.numpy().min())))
    seq[3].register_forward_pre_hook(lambda m, a: seen.append("relu"))
    x = cr.randn(2, 2, 6, 6)
    y = seq(x)
    assert seen[0] < 0 and seen[1] == "relu"  # the conv's hook saw its pre-ReLU output
    np.testing.assert_allclose(y.numpy(), _by_hand(list(seq), x).numpy(), rtol=1e-6)
