"""Pooling layers against their PyTorch twins (forward and input gradient), reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _compare(torch, layer, twin, shape, rtol=1e-5, atol=1e-6):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    cx = cr.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    y, ty = layer(cx), twin(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)


CASES = [
    ("MaxPool2d", dict(kernel_size=2), (2, 3, 8, 8)),
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 9, 8)),
    ("MaxPool2d", dict(kernel_size=(2, 3), stride=1, dilation=2), (1, 2, 7, 9)),
    ("MaxPool1d", dict(kernel_size=3, stride=2, padding=1), (2, 4, 11)),
    ("AvgPool2d", dict(kernel_size=2), (2, 3, 8, 8)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 8)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, ceil_mode=True, divisor_override=5), (2, 3, 8, 8)),
    ("AvgPool1d", dict(kernel_size=4, stride=2, padding=2), (2, 4, 11)),
    ("AdaptiveAvgPool2d", dict(output_size=(3, 2)), (2, 3, 8, 7)),
    ("AdaptiveAvgPool2d", dict(output_size=(None, 2)), (2, 3, 8, 7)),
    ("AdaptiveAvgPool1d", dict(output_size=4), (2, 3, 9)),
]  # fmt: skip


@pytest.mark.parametrize("name, kw, shape", CASES)
def test_pool_layer_matches_torch(name, kw, shape):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, name)(**kw)
    twin = getattr(torch.nn, name)(**kw)
    _compare(torch, layer, twin, shape)
    if name != "AvgPool1d":  # PyTorch prints AvgPool1d's ints as 1-tuples
        assert repr(layer) == repr(twin)


def test_global_avg_pool_matches_adaptive_pool_and_flatten():
    torch = pytest.importorskip("torch")
    twin = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    _compare(torch, nn.GlobalAvgPool2d(), twin, (4, 6, 5, 3))
    assert nn.GlobalAvgPool2d(keepdim=True)(cr.randn(2, 3, 4, 4)).shape == (2, 3, 1, 1)
    assert repr(nn.GlobalAvgPool2d()) == "GlobalAvgPool2d()"


def test_max_pool_return_indices_and_unbatched():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6)).astype(np.float32)
    y, idx = nn.MaxPool2d(2, return_indices=True)(cr.tensor(x))
    ty, tidx = torch.nn.MaxPool2d(2, return_indices=True)(torch.from_numpy(x))
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert nn.MaxPool2d(2)(cr.randn(3, 6, 6)).shape == (3, 3, 3)
    assert nn.AvgPool1d(2)(cr.randn(3, 6)).shape == (3, 3)


def test_pool_layers_have_no_parameters_and_same_train_eval():
    layer = nn.MaxPool2d(2)
    assert layer.num_parameters() == 0 and layer.state_dict() == {}
    x = cr.randn(1, 2, 4, 4)
    np.testing.assert_array_equal(layer(x).data, layer.eval()(x).data)


def test_pool_layer_errors():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*expected a 3 or 4-d input"):
        nn.MaxPool2d(2)(cr.randn(4, 4))
    with pytest.raises(ValueError, match=r"smaller than the kernel's reach 3"):
        nn.MaxPool2d(3)(cr.randn(1, 1, 2, 8))
    with pytest.raises(ValueError, match=r"AvgPool1d.*expected a 2 or 3-d input"):
        nn.AvgPool1d(2)(cr.randn(1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"GlobalAvgPool2d.*expected a 4-d input"):
        nn.GlobalAvgPool2d()(cr.randn(2, 3, 4))
