"""Linear, Identity, Flatten, Unflatten: shapes, parameters, errors, and agreement with PyTorch."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_linear_shapes_and_parameter_count():
    lin = nn.Linear(784, 10)
    assert lin(cr.randn(32, 784)).shape == (32, 10)
    assert lin(cr.randn(4, 7, 784)).shape == (4, 7, 10)
    assert lin.num_parameters() == 784 * 10 + 10
    assert lin.weight.shape == (10, 784) and lin.bias.shape == (10,)
    no_bias = nn.Linear(5, 3, bias=False)
    assert no_bias.bias is None and no_bias.num_parameters() == 15
    assert list(no_bias.state_dict()) == ["weight"]
    assert repr(lin) == "Linear(784, 10, bias=True)"


def test_linear_default_init_range():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound
    assert lin.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert lin.weight.dtype == np.float32


def test_linear_seeded_and_dtype():
    cr.manual_seed(3)
    a = nn.Linear(4, 3)
    cr.manual_seed(3)
    b = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    c = nn.Linear(4, 3, dtype="float64")
    assert c.weight.dtype == np.float64 and c(cr.randn(2, 4, dtype="float64")).dtype == np.float64


def test_linear_train_eval_same_output():
    lin = nn.Linear(3, 2)
    x = cr.randn(4, 3)
    y_train = lin(x).data.copy()
    np.testing.assert_array_equal(lin.eval()(x).data, y_train)
    assert not lin.training


def test_linear_gradients_flow():
    lin = nn.Linear(3, 2)
    lin(cr.randn(4, 3)).sum().backward()
    assert lin.weight.grad.shape == (2, 3) and lin.bias.grad.shape == (2,)
    np.testing.assert_allclose(lin.bias.grad.data, [4.0, 4.0])


def test_linear_state_dict_round_trip():
    a, b = nn.Linear(6, 4), nn.Linear(6, 4)
    x = cr.randn(3, 6)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).data, b(x).data)
    with pytest.raises(RuntimeError, match=r"weight: expected \(4, 6\), got \(4, 5\)"):
        b.load_state_dict({"weight": np.zeros((4, 5)), "bias": np.zeros(4)})


def test_linear_shape_error_message():
    lin = nn.Linear(784, 10)
    with pytest.raises(ValueError) as info:
        lin(cr.zeros(32, 28, 28))
    assert str(info.value).startswith(
        "Linear(784, 10, bias=True) expected input of shape (N, *, 784), got (32, 28, 28). "
        "Hint: add nn.Flatten() before this layer."
    )
    with pytest.raises(ValueError, match="the input has 20 features in its last axis"):
        lin(cr.zeros(32, 20))
    with pytest.raises(TypeError, match="expected a Tensor input, got list"):
        lin([1.0, 2.0])


def test_linear_bad_sizes():
    with pytest.raises(ValueError, match="in_features must be a non-negative int, got 2.5"):
        nn.Linear(2.5, 3)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("dtype", "rtol"), [("float64", 1e-10), ("float32", 1e-5)])
def test_linear_matches_torch(bias, dtype, rtol):
    torch = pytest.importorskip("torch")
    tdtype = getattr(torch, dtype)
    twin = torch.nn.Linear(5, 3, bias=bias).to(tdtype)
    lin = nn.Linear(5, 3, bias=bias, dtype=dtype)
    lin.load_state_dict(twin.state_dict())  # torch tensors load directly
    x_np = np.random.default_rng(0).standard_normal((4, 2, 5)).astype(dtype)
    g_np = np.random.default_rng(1).standard_normal((4, 2, 3)).astype(dtype)
    x = cr.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    y, yt = lin(x), twin(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=rtol, atol=rtol)
    y.backward(g_np)
    yt.backward(torch.from_numpy(g_np))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(lin.weight.grad.data, twin.weight.grad.numpy(), rtol=rtol, atol=rtol)
    if bias:
        np.testing.assert_allclose(lin.bias.grad.data, twin.bias.grad.numpy(), rtol=rtol, atol=rtol)


def test_mlp_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    twin = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4)
    ).double()
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 4)).double()
    model.load_state_dict(twin.state_dict())
    x_np = np.random.default_rng(0).standard_normal((8, 3, 4))
    y_np = np.random.default_rng(1).integers(0, 4, size=8)
    loss = nn.CrossEntropyLoss()(model(cr.tensor(x_np)), cr.tensor(y_np))
    loss_t = torch.nn.CrossEntropyLoss()(twin(torch.tensor(x_np)), torch.tensor(y_np))
    assert loss.item() == pytest.approx(loss_t.item(), rel=1e-12)
    loss.backward()
    loss_t.backward()
    for (name, p), (tname, tp) in zip(
        model.named_parameters(), twin.named_parameters(), strict=True
    ):
        assert name == tname
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_identity():
    x = cr.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Identity().num_parameters() == 0


def test_flatten_and_unflatten():
    x = cr.randn(32, 1, 28, 28, requires_grad=True)
    flat = nn.Flatten()(x)
    assert flat.shape == (32, 784)
    assert nn.Flatten(0, 1)(x).shape == (32, 28, 28)
    assert nn.Flatten(2)(x).shape == (32, 1, 784)
    back = nn.Unflatten(1, (1, 28, 28))(flat)
    assert back.shape == (32, 1, 28, 28)
    np.testing.assert_array_equal(back.data, x.data)
    assert nn.Unflatten(-1, (4, -1))(cr.zeros(2, 12)).shape == (2, 4, 3)
    back.sum().backward()
    assert x.grad.shape == x.shape
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_flatten_and_unflatten_errors():
    with pytest.raises(ValueError, match="dimension 1 does not exist"):
        nn.Flatten()(cr.zeros(5))
    with pytest.raises(
        ValueError, match=r"cannot split dimension 1 of size 784 .* into \(1, 28, 27\)"
    ):
        nn.Unflatten(1, (1, 28, 27))(cr.zeros(2, 784))
    with pytest.raises(TypeError, match="unflattened_size must be a non-empty tuple"):
        nn.Unflatten(1, 5)


def test_flatten_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.zeros((2, 3, 4, 5))
    for start, end in [(1, -1), (0, 2), (2, 3)]:
        ours = nn.Flatten(start, end)(cr.tensor(x)).shape
        theirs = tuple(torch.nn.Flatten(start, end)(torch.tensor(x)).shape)
        assert ours == theirs
