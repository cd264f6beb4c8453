"""The zoo MLP: shape, and training that follows PyTorch step for step from the same weights."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, nn, optim


def test_mlp_output_shape_and_parameter_count():
    model = models.build("mlp")
    assert model(cr.randn(4, 1, 28, 28)).shape == (4, 10)
    assert sum(p.numel() for p in model.parameters()) == 784 * 512 + 512 + 512 * 512 + 512 + 5130


def test_unknown_model_lists_available():
    with pytest.raises(ValueError, match="available: .*mlp"):
        models.build("mpl")


def test_three_layer_mlp_follows_torch_for_50_sgd_steps():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    sizes = [(20, 32), (32, 16), (16, 5)]
    ours = nn.Sequential(
        nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 5)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, 5),
    )  # fmt: skip
    with torch.no_grad():
        for i, (fan_in, fan_out) in zip((0, 2, 4), sizes, strict=True):
            w = rng.standard_normal((fan_out, fan_in)).astype(np.float32) / np.sqrt(fan_in)
            b = rng.standard_normal(fan_out).astype(np.float32) * 0.1
            ours[i].weight.data[...] = w
            ours[i].bias.data[...] = b
            theirs[i].weight.copy_(torch.from_numpy(w))
            theirs[i].bias.copy_(torch.from_numpy(b))
    opt = optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    for _ in range(50):
        x = rng.standard_normal((16, 20)).astype(np.float32)
        y = rng.integers(0, 5, 16)
        opt.zero_grad()
        cr.cross_entropy(ours(x), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(
            theirs(torch.from_numpy(x)), torch.from_numpy(y)
        ).backward()
        topt.step()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_thousand_training_steps_keep_memory_flat():
    import gc
    import tracemalloc

    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = cr.randn(16, 32)
    y = np.arange(16) % 10

    def step() -> None:
        opt.zero_grad()
        loss = cr.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    gc.collect()
    tracemalloc.start()
    for _ in range(100):
        step()
    after_100 = tracemalloc.get_traced_memory()[0]
    for _ in range(900):
        step()
    after_1000 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # nothing from one step survives into the next: 900 more steps add (almost) nothing
    assert after_1000 - after_100 < 64 * 1024, (after_100, after_1000)
