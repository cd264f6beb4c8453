"""Conv1d, Conv2d, ConvTranspose2d: shapes, parameters, init, PyTorch twins with copied weights,
state_dict, and errors that name the layer."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _copy_to_torch(torch, layer, twin):
    twin.load_state_dict(
        {k: torch.from_numpy(v.data.copy()) for k, v in layer.state_dict().items()}
    )
    return twin


def _compare_with_twin(torch, layer, twin, x_shape, rtol=1e-4, atol=1e-5, **call):
    """Forward, input gradient and parameter gradients of ``layer`` and its PyTorch ``twin``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    cx = cr.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    y, ty = layer(cx, **call), twin(tx, **call)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)
    tparams = dict(twin.named_parameters())
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(
            p.grad.data, tparams[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )


CONV2D = [
    dict(in_channels=3, out_channels=8, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, groups=2),
    dict(in_channels=4, out_channels=4, kernel_size=(3, 2), padding="same", dilation=2, bias=False),
    dict(in_channels=4, out_channels=8, kernel_size=3, padding="valid", groups=4),
    dict(in_channels=2, out_channels=5, kernel_size=1),
]


@pytest.mark.parametrize("kw", CONV2D)
def test_conv2d_matches_torch(kw):
    torch = pytest.importorskip("torch")
    layer = nn.Conv2d(**kw)
    twin = _copy_to_torch(torch, layer, torch.nn.Conv2d(**kw))
    assert repr(layer) == repr(twin)
    _compare_with_twin(torch, layer, twin, (2, kw["in_channels"], 9, 8))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(
    "kw",
    [
        dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, groups=2),
        dict(in_channels=3, out_channels=5, kernel_size=4, padding="same", dilation=1),
        dict(in_channels=3, out_channels=5, kernel_size=3, dilation=2, bias=False),
    ],
)
def test_conv1d_matches_torch(kw):
    torch = pytest.importorskip("torch")
    layer = nn.Conv1d(**kw)
    twin = _copy_to_torch(torch, layer, torch.nn.Conv1d(**kw))
    assert repr(layer) == repr(twin)
    _compare_with_twin(torch, layer, twin, (3, kw["in_channels"], 11))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "kw, call",
    [
        (dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1), {}),
        (dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, output_padding=1, groups=2),
         {}),
        (dict(in_channels=4, out_channels=2, kernel_size=(2, 3), dilation=2, bias=False), {}),
        (dict(in_channels=4, out_channels=3, kernel_size=3, stride=2, padding=1),
         {"output_size": (10, 9)}),
    ],
)  # fmt: skip
def test_conv_transpose2d_matches_torch(kw, call):
    torch = pytest.importorskip("torch")
    layer = nn.ConvTranspose2d(**kw)
    twin = _copy_to_torch(torch, layer, torch.nn.ConvTranspose2d(**kw))
    assert repr(layer) == repr(twin)
    _compare_with_twin(torch, layer, twin, (2, 4, 5, 5), **call)


def test_parameter_names_shapes_count_and_init():
    conv = nn.Conv2d(16, 32, 3, groups=2)
    assert [(n, p.shape) for n, p in conv.named_parameters()] == [
        ("weight", (32, 8, 3, 3)),
        ("bias", (32,)),
    ]
    assert conv.num_parameters() == 32 * 8 * 9 + 32
    bound = 1 / math.sqrt(8 * 9)  # kaiming_uniform(a=sqrt(5)) on fan_in = in/groups * k*k
    assert np.abs(conv.weight.data).max() <= bound
    assert conv.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert np.abs(conv.bias.data).max() <= bound
    up = nn.ConvTranspose2d(6, 4, 3, groups=2)
    assert up.weight.shape == (6, 2, 3, 3)  # (in, out/groups, kh, kw) as in PyTorch
    assert np.abs(up.weight.data).max() <= 1 / math.sqrt(2 * 9)
    assert nn.Conv1d(3, 5, 4).weight.shape == (5, 3, 4)
    assert nn.Conv2d(3, 5, 3, bias=False).bias is None
    assert conv.weight.dtype == np.float32
    assert nn.Conv2d(3, 5, 3, dtype="float64").weight.dtype == np.float64


def test_weight_sharing_parameter_count_independent_of_image_size():
    conv = nn.Conv2d(3, 16, 5)
    assert conv(cr.randn(1, 3, 8, 8)).shape == (1, 16, 4, 4)
    assert conv(cr.randn(1, 3, 64, 48)).shape == (1, 16, 60, 44)
    assert conv.num_parameters() == 3 * 16 * 25 + 16


def test_seeded_init_state_dict_round_trip_and_train_eval():
    cr.manual_seed(4)
    a = nn.Conv2d(3, 4, 3, padding=1)
    cr.manual_seed(4)
    b = nn.Conv2d(3, 4, 3, padding=1)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    c = nn.Conv2d(3, 4, 3, padding=1)
    c.load_state_dict(a.state_dict())
    x = cr.randn(2, 3, 6, 6)
    np.testing.assert_array_equal(a(x).data, c(x).data)
    np.testing.assert_array_equal(a.eval()(x).data, c(x).data)  # no train/eval difference


def test_unbatched_input():
    conv = nn.Conv2d(3, 4, 3)
    x = cr.randn(3, 7, 7)
    np.testing.assert_allclose(conv(x).data, conv(x.reshape(1, 3, 7, 7)).data[0], rtol=1e-6)
    assert nn.Conv1d(3, 4, 3)(cr.randn(3, 9)).shape == (4, 7)


def test_wrong_channel_count_names_layer_channels_and_shape():
    conv = nn.Conv2d(3, 16, 3)
    with pytest.raises(ValueError) as info:
        conv(cr.randn(8, 4, 32, 32))
    msg = str(info.value)
    assert repr(conv) in msg
    assert "3 channels" in msg and "(8, 4, 32, 32)" in msg
    with pytest.raises(ValueError, match=r"Conv1d\(5, 2.* expected input with 5 channels"):
        nn.Conv1d(5, 2, 3)(cr.randn(2, 3, 10))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(4, 2.*4 channels"):
        nn.ConvTranspose2d(4, 2, 3)(cr.randn(1, 3, 5, 5))


def test_input_smaller_than_kernel():
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4.*spatial size \(2, 9\).*reach \(3, 3\)"):
        nn.Conv2d(3, 4, 3)(cr.randn(1, 3, 2, 9))
    with pytest.raises(ValueError, match=r"reach \(5, 5\) \(kernel_size=\(3, 3\), dilation=\(2, 2"):
        nn.Conv2d(3, 4, 3, dilation=2)(cr.randn(1, 3, 4, 4))
    nn.Conv2d(3, 4, 3, padding=1)(cr.randn(1, 3, 1, 1))  # padding makes it fit
    with pytest.raises(ValueError, match=r"Conv1d.*smaller than the kernel's reach \(4,\)"):
        nn.Conv1d(3, 4, 4)(cr.randn(1, 3, 3))


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"^Conv2d: groups=3 must divide in_channels=16\.$"):
        nn.Conv2d(16, 24, 3, groups=3)
    with pytest.raises(ValueError, match=r"Conv2d: groups=4 must divide out_channels=6\."):
        nn.Conv2d(8, 6, 3, groups=4)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: groups=3 must divide in_channels=4"):
        nn.ConvTranspose2d(4, 6, 3, groups=3)


def test_wrong_ndim_and_bad_arguments():
    with pytest.raises(ValueError, match=r"expected a 3 or 4-d input .* got 2-d shape \(3, 5\)"):
        nn.Conv2d(3, 4, 3)(cr.randn(3, 5))
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"padding_mode 'reflect' is not supported"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a 2-tuple"):
        nn.Conv2d(3, 4, (3, 3, 3))
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller"):
        nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"output_size \(20, 20\) is out of reach"):
        nn.ConvTranspose2d(3, 4, 3, stride=2)(cr.randn(1, 3, 5, 5), output_size=(20, 20))
