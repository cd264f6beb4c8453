"""Residual and Inception blocks: shapes, parameter counts, shortcut options A and B, plain blocks,
the order of the Inception branches and what the 1x1 reductions save."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.blocks import BasicBlock, Bottleneck, InceptionModule, ShortcutA
from chainrule.summary import summarize


def _count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_basic_block_keeps_shape_with_identity_shortcut(shortcut):
    block = BasicBlock(16, 16, shortcut=shortcut)
    assert block.shortcut is None  # the shape does not change: identity in both options
    assert block(cr.randn(2, 16, 8, 8)).shape == (2, 16, 8, 8)
    assert _count(block) == 2 * 16 * 16 * 9 + 2 * 2 * 16


def test_basic_block_option_a_is_parameter_free_and_option_b_projects():
    a = BasicBlock(16, 32, stride=2, shortcut="A")
    b = BasicBlock(16, 32, stride=2, shortcut="B")
    assert a(cr.randn(2, 16, 8, 8)).shape == b(cr.randn(2, 16, 8, 8)).shape == (2, 32, 4, 4)
    body = 16 * 32 * 9 + 32 * 32 * 9 + 2 * 2 * 32
    assert _count(a) == body
    assert _count(b) == body + 16 * 32 + 2 * 32  # 1x1 conv (no bias) + batch norm
    assert isinstance(a.shortcut, ShortcutA)
    assert isinstance(b.shortcut[0], nn.Conv2d) and b.shortcut[0].stride == (2, 2)


def test_shortcut_a_subsamples_and_zero_pads_channels():
    x = cr.randn(2, 4, 7, 7)
    y = ShortcutA(4, 10, stride=2)(x).numpy()
    assert y.shape == (2, 10, 4, 4)
    np.testing.assert_array_equal(y[:, :4], x.numpy()[:, :, ::2, ::2])
    assert not y[:, 4:].any()


def test_shortcut_a_refuses_to_drop_channels():
    with pytest.raises(ValueError, match="ShortcutA.*shortcut='B'"):
        ShortcutA(32, 16)


def test_unknown_shortcut_lists_options():
    with pytest.raises(ValueError, match="unknown shortcut 'C'; available: A, B"):
        BasicBlock(16, 32, shortcut="C")


def _silence_residual_branch(block):
    """Zero the last batch norm's scale and shift: the residual branch then outputs 0."""
    last = block.bn3 if isinstance(block, Bottleneck) else block.bn2
    last.weight.data[...] = 0
    last.bias.data[...] = 0


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_residual_block_adds_the_shortcut(shortcut):
    block = BasicBlock(8, 16, stride=2, shortcut=shortcut)
    _silence_residual_branch(block)
    block.eval()
    x = cr.randn(2, 8, 6, 6)
    with cr.no_grad():
        expected = np.maximum(block.shortcut(x).numpy(), 0)
    np.testing.assert_allclose(block(x).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_identity_shortcut_carries_the_gradient():
    block = BasicBlock(4, 4)
    _silence_residual_branch(block)
    x = cr.randn(2, 4, 5, 5, requires_grad=True)
    block(x).sum().backward()
    # relu(0 + x): the gradient is 1 where x > 0, exactly, through the shortcut alone
    np.testing.assert_array_equal(x.grad.numpy(), (x.numpy() > 0).astype(np.float32))


def test_plain_block_has_no_shortcut_and_differs_from_residual():
    residual = BasicBlock(8, 16, stride=2)
    plain = BasicBlock(8, 16, stride=2, residual=False)
    assert plain.shortcut is None and "residual=False" in repr(plain)
    assert _count(plain) == _count(residual)
    plain.load_state_dict(residual.state_dict())
    x = cr.randn(2, 8, 6, 6)
    residual.eval()
    plain.eval()
    with cr.no_grad():
        body = plain.bn2(plain.conv2(cr.relu(plain.bn1(plain.conv1(x)))))
        np.testing.assert_allclose(plain(x).numpy(), np.maximum(body.numpy(), 0), atol=1e-6)
        assert not np.allclose(plain(x).numpy(), residual(x).numpy())


def test_bottleneck_shapes_and_parameters():
    block = Bottleneck(64, 16)  # 64 -> 16 -> 16 -> 64: identity shortcut
    assert block.shortcut is None
    assert block(cr.randn(2, 64, 8, 8)).shape == (2, 64, 8, 8)
    assert _count(block) == 64 * 16 + 16 * 16 * 9 + 16 * 64 + 2 * (16 + 16 + 64)
    down = Bottleneck(64, 32, stride=2, shortcut="B")
    assert down(cr.randn(2, 64, 8, 8)).shape == (2, 128, 4, 4)
    assert _count(down) == 64 * 32 + 32 * 32 * 9 + 32 * 128 + 2 * (32 + 32 + 128) + 64 * 128 + 256
    assert Bottleneck(16, 16, shortcut="A")(cr.randn(1, 16, 4, 4)).shape == (1, 64, 4, 4)


def test_bottleneck_adds_the_shortcut():
    block = Bottleneck(16, 8, stride=2, shortcut="A")
    _silence_residual_branch(block)
    block.eval()
    x = cr.randn(2, 16, 6, 6)
    with cr.no_grad():
        expected = np.maximum(block.shortcut(x).numpy(), 0)
    np.testing.assert_allclose(block(x).numpy(), expected, atol=1e-6)


def test_block_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match=r"BasicBlock.*\(N, 16, H, W\).*\(2, 8, 6, 6\)"):
        BasicBlock(16, 16)(cr.randn(2, 8, 6, 6))


def test_basic_block_train_eval_and_state_dict_round_trip():
    block = BasicBlock(4, 8, stride=2, shortcut="B")
    x = cr.randn(3, 4, 6, 6)
    train_out = block(x).numpy()
    block.eval()
    eval_out = block(x).numpy()
    assert not np.allclose(train_out, eval_out)  # batch statistics vs running statistics
    twin = BasicBlock(4, 8, stride=2, shortcut="B")
    twin.load_state_dict(block.state_dict())
    twin.eval()
    np.testing.assert_array_equal(twin(x).numpy(), eval_out)


# ------------------------------------------------------------------ Inception
GOOGLENET_3A = dict(
    in_channels=192, ch1x1=64, ch3x3red=96, ch3x3=128, ch5x5red=16, ch5x5=32, pool_proj=32
)


def test_inception_output_channels_and_branch_order():
    block = InceptionModule(**GOOGLENET_3A)
    block.eval()
    x = cr.randn(2, 192, 6, 6)
    with cr.no_grad():
        out = block(x).numpy()
        parts = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    assert out.shape == (2, 256, 6, 6) and block.out_channels == 256
    start = 0
    for part, width in zip(parts, (64, 128, 32, 32), strict=True):
        assert part.shape == (2, width, 6, 6)
        np.testing.assert_array_equal(out[:, start : start + width], part.numpy())
        start += width


def _inception_params(c, a, r3, b, r5, d, p, reduce):
    # convolutions with bias (batch_norm=False): weights k*k*in*out plus out biases
    one = c * a + a
    if reduce:
        three = c * r3 + r3 + r3 * b * 9 + b
        five = c * r5 + r5 + r5 * d * 25 + d
    else:
        three = c * b * 9 + b
        five = c * d * 25 + d
    return one + three + five + c * p + p


def test_inception_reductions_switch_and_what_they_save():
    kw = dict(GOOGLENET_3A, batch_norm=False)
    reduced = InceptionModule(**kw)
    naive = InceptionModule(**kw, reduce=False)
    args = list(GOOGLENET_3A.values())
    assert _count(reduced) == _inception_params(*args, reduce=True) == 163_696
    assert _count(naive) == _inception_params(*args, reduce=False) == 393_472
    x_shape = (192, 28, 28)  # the size at which GoogLeNet applies inception (3a)
    hw = 28 * 28
    macs_reduced = summarize(reduced, x_shape).total_mult_adds
    macs_naive = summarize(naive, x_shape).total_mult_adds
    assert macs_reduced == hw * (163_696 - (64 + 96 + 128 + 16 + 32 + 32))
    assert macs_naive == hw * (393_472 - (64 + 128 + 32 + 32))
    assert macs_naive > 2 * macs_reduced
    assert naive(cr.randn(1, 192, 5, 5)).shape == (1, 256, 5, 5)  # same output either way


def test_inception_without_pool_projection_passes_pooled_channels():
    block = InceptionModule(8, 4, 4, 4, 2, 2, None, reduce=False)
    assert block.out_channels == 4 + 4 + 2 + 8
    block.eval()
    x = cr.randn(1, 8, 5, 5)
    with cr.no_grad():
        out = block(x).numpy()
    pooled = cr.nn.MaxPool2d(3, stride=1, padding=1)(x).numpy()
    np.testing.assert_array_equal(out[:, 10:], pooled)


def test_inception_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match=r"InceptionModule.*\(N, 192, H, W\)"):
        InceptionModule(**GOOGLENET_3A)(cr.randn(1, 64, 6, 6))


def test_inception_gradients_reach_every_branch():
    block = InceptionModule(6, 2, 3, 4, 2, 3, 2)
    block(cr.randn(2, 6, 5, 5)).sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
