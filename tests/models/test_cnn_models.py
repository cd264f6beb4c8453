"""The MNIST CNN (the `cnn` of BENCHMARKS.md) and LeNet-5: layers, shapes, parameter counts, a
PyTorch twin, and a short run that learns."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, nn, optim


def test_mnist_cnn_is_the_benchmark_model():
    model = models.build("mnist_cnn")
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear",
                     "ReLU", "Linear"]  # fmt: skip
    conv1, conv2 = model.layers[0], model.layers[2]
    assert (conv1.in_channels, conv1.out_channels, conv1.kernel_size) == (1, 32, (3, 3))
    assert (conv2.in_channels, conv2.out_channels, conv2.padding) == (32, 64, (0, 0))
    assert model.layers[6].in_features == 9216
    assert model(cr.randn(3, 1, 28, 28)).shape == (3, 10)
    assert model.num_parameters() == 320 + 18_496 + 1_179_776 + 1_290


def test_mnist_cnn_dropout_option():
    model = models.build("mnist_cnn", dropout=True)
    rates = [m.p for m in model.modules() if isinstance(m, nn.Dropout)]
    assert rates == [0.25, 0.5]
    x = cr.randn(4, 1, 28, 28)
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert not np.allclose(model(x).numpy(), model(x).numpy())


def test_mnist_cnn_matches_torch():
    torch = pytest.importorskip("torch")
    ours = models.build("mnist_cnn")
    tnn = torch.nn
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(9216, 128), tnn.ReLU(), tnn.Linear(128, 10),
    )  # fmt: skip
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(ours.get_parameter(f"layers.{name}").numpy().copy()))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    logits = ours(x)
    cr.cross_entropy(logits, y).backward()
    t_logits = theirs(torch.from_numpy(x))
    torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(y)).backward()
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=1e-4, atol=1e-5)
    for name, p in theirs.named_parameters():
        ours_grad = ours.get_parameter(f"layers.{name}").grad.numpy()
        np.testing.assert_allclose(ours_grad, p.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_mnist_cnn_learns_a_small_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    model = models.build("mnist_cnn")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    first = None
    for _ in range(10):
        loss = cr.cross_entropy(model(x), y)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


@pytest.mark.parametrize("input_size", [28, 32])
def test_lenet5_shapes_and_parameters(input_size):
    model = models.build("lenet5", input_size=input_size)
    assert model(cr.randn(2, 1, input_size, input_size)).shape == (2, 10)
    # C1 156, C3 2,416 (every S2 map), C5 48,120, F6 10,164, output 850
    assert model.num_parameters() == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706
    assert model.features[0].padding == ((2, 2) if input_size == 28 else (0, 0))


def test_lenet5_options_and_errors():
    model = models.build("lenet5", activation="relu", pool="max")
    assert isinstance(model.features[1], nn.ReLU) and isinstance(model.features[2], nn.MaxPool2d)
    with pytest.raises(ValueError, match="input_size must be 28 or 32"):
        models.build("lenet5", input_size=30)
    with pytest.raises(ValueError, match="unknown activation 'elu'; available: tanh, relu"):
        models.build("lenet5", activation="elu")
    with pytest.raises(ValueError, match="unknown pool 'lp'; available: avg, max"):
        models.build("lenet5", pool="lp")


def test_zoo_builds_every_vision_model_by_name():
    names = ["mnist_cnn", "lenet5", "inception_small"]
    names += [f"{kind}{d}" for kind in ("resnet", "plain") for d in (20, 32, 44, 56, 110)]
    assert set(names) <= set(models.available())


def test_mnist_cnn_imports_a_torch_state_dict():
    torch = pytest.importorskip("torch")
    from chainrule.io import load_torch_state_dict

    tnn = torch.nn
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(9216, 128), tnn.ReLU(), tnn.Linear(128, 10),
    )  # fmt: skip
    ours = models.build("mnist_cnn")
    load_torch_state_dict(ours, theirs.state_dict())
    x = np.random.default_rng(2).standard_normal((3, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    ours.eval()
    with cr.no_grad():
        np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-4, atol=1e-5)
