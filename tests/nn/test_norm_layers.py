"""BatchNorm1d/2d against PyTorch: outputs, gradients, running statistics after 5 training steps,
evaluation mode, the buffers and state_dict keys, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def _twin(torch, layer, **kw):
    cls = getattr(torch.nn, type(layer).__name__)
    twin = cls(layer.num_features, **kw)
    twin.load_state_dict(
        {k: torch.from_numpy(np.array(v.data)) for k, v in layer.state_dict().items()}
    )
    return twin


def _randomise(layer):
    rng = np.random.default_rng(9)
    for p in layer.parameters():
        p.data[...] = rng.standard_normal(p.shape).astype(p.dtype)


def _step(torch, layer, twin, x, rtol=1e-4, atol=1e-5):
    """One forward and backward of both; compares output, input and parameter gradients."""
    layer.zero_grad()
    twin.zero_grad()
    cx = cr.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    y, ty = layer(cx), twin(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(x.size).standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)
    tparams = dict(twin.named_parameters())
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.data, tparams[name].grad.numpy(), rtol=rtol, atol=atol)


def _check_buffers(layer, twin, rtol=1e-5, atol=1e-6):
    tbufs = dict(twin.named_buffers())
    for name, b in layer.named_buffers():
        np.testing.assert_allclose(b.data, tbufs[name].numpy(), rtol=rtol, atol=atol, err_msg=name)


CASES = [
    ("BatchNorm2d", dict(), (6, 4, 5, 3)),
    ("BatchNorm2d", dict(momentum=None), (4, 4, 3, 3)),
    ("BatchNorm2d", dict(momentum=0.3, eps=1e-3, affine=False), (4, 4, 3, 3)),
    ("BatchNorm2d", dict(bias=False), (4, 4, 2, 3)),
    ("BatchNorm1d", dict(), (8, 4)),
    ("BatchNorm1d", dict(momentum=0.5), (4, 4, 7)),
]


@pytest.mark.parametrize("name, kw, shape", CASES)
def test_batch_norm_five_training_steps_then_eval_match_torch(name, kw, shape):
    torch = pytest.importorskip("torch")
    layer = getattr(nn, name)(4, **kw)
    _randomise(layer)
    twin = _twin(torch, layer, **kw)
    rng = np.random.default_rng(0)
    for step in range(5):
        x = (rng.standard_normal(shape) * (1 + step) + 2 * step).astype(np.float32)
        _step(torch, layer, twin, x)
    _check_buffers(layer, twin)
    assert int(layer.num_batches_tracked.item()) == 5
    layer.eval()
    twin.eval()
    _step(torch, layer, twin, rng.standard_normal(shape).astype(np.float32))
    _check_buffers(layer, twin)  # evaluation leaves the statistics alone


def test_without_running_stats_eval_uses_batch_statistics():
    torch = pytest.importorskip("torch")
    layer = nn.BatchNorm2d(3, track_running_stats=False)
    assert layer.running_mean is None and "running_mean" not in layer.state_dict()
    twin = torch.nn.BatchNorm2d(3, track_running_stats=False)
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32)
    layer.eval()
    twin.eval()
    _step(torch, layer, twin, x)


def test_buffers_state_dict_and_reprs():
    torch = pytest.importorskip("torch")
    bn = nn.BatchNorm2d(16)
    twin = torch.nn.BatchNorm2d(16)
    assert list(bn.state_dict()) == list(twin.state_dict())
    assert repr(bn) == repr(twin)
    assert repr(nn.BatchNorm1d(3, affine=False)) == repr(torch.nn.BatchNorm1d(3, affine=False))
    assert bn.num_parameters() == 32
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    bn.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    bn.double()
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64


def test_train_and_eval_differ_and_reset():
    bn = nn.BatchNorm1d(3)
    x = cr.randn(8, 3) * 4 + 2
    y_train = bn(x).data
    y_eval = bn.eval()(x).data
    assert np.abs(y_train - y_eval).max() > 0.1
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.data, 0)
    np.testing.assert_array_equal(bn.running_var.data, 1)
    assert bn.num_batches_tracked.item() == 0


def test_batch_norm_layer_errors():
    bn = nn.BatchNorm2d(16)
    with pytest.raises(ValueError) as info:
        bn(cr.randn(8, 3, 4, 4))
    msg = str(info.value)
    assert repr(bn) in msg and "16 channels" in msg and "(8, 3, 4, 4)" in msg
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16.*expected a 4-d input"):
        bn(cr.randn(8, 16))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4.*expected a 2 or 3-d input"):
        nn.BatchNorm1d(4)(cr.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        nn.BatchNorm1d(4)(cr.randn(1, 4))
    with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\]"):
        nn.BatchNorm1d(4, momentum=2.0)
