"""One benchmark measurement in its own process: `python bench_models.py FRAMEWORK MODEL MODE`.

Models (BENCHMARKS.md): ``mlp`` (784-512-512-10, batch 128), ``cnn`` (the MNIST CNN, batch 64,
1x28x28) and ``resnet20`` (CIFAR ResNet-20 with 1x1-conv+BN projection shortcuts where the shape
changes, i.e. option B; batch 128, 3x32x32; batch norm in training mode for ``train``). Both
frameworks build the same layers; chainrule takes them from its zoo.

Prints one JSON line: median_ms, min_ms, gflops (from the model's multiply-adds), peak_rss_mb.
``--profile N`` instead runs N chainrule steps under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
from _harness import profile_steps

# Multiply-adds of one forward pass per example (convolutions and linear layers); a training step
# costs about three forwards.
_RESNET20_CONVS = 3 * 16 * 9 * 1024 + 6 * 2359296 + 2 * (1179648 + 5 * 2359296)
FORWARD_MACS = {
    "mlp": 784 * 512 + 512 * 512 + 512 * 10,
    "cnn": 26 * 26 * 32 * 9 + 24 * 24 * 64 * 288 + 9216 * 128 + 128 * 10,
    "resnet20": _RESNET20_CONVS + 16 * 32 * 256 + 32 * 64 * 64 + 64 * 10,  # + B projections
}
BATCH = {"mlp": 128, "cnn": 64, "resnet20": 128}
INPUT = {"mlp": (784,), "cnn": (1, 28, 28), "resnet20": (3, 32, 32)}
CLASSES = {"mlp": 10, "cnn": 10, "resnet20": 10}


def _data(model: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH[model], *INPUT[model])).astype(np.float32)
    y = rng.integers(0, CLASSES[model], BATCH[model])
    return x, y


def chainrule_model(model: str):  # noqa: ANN201
    from chainrule import models, nn

    if model == "mlp":
        return nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
        )
    if model == "cnn":
        return models.build("mnist_cnn")
    if model == "resnet20":
        return models.build("resnet20", shortcut="B")
    raise ValueError(f"unknown model {model}")


def chainrule_step(model: str, mode: str):  # noqa: ANN201
    import chainrule as cr
    from chainrule import optim

    cr.manual_seed(0)
    net = chainrule_model(model)
    x, y = _data(model)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    F = cr.functional
    if mode == "train":
        net.train()

        def step() -> None:
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
    else:
        net.eval()

        def step() -> None:
            with cr.no_grad():
                net(x)

    return step


def _torch_resnet20(torch):  # noqa: ANN001, ANN202
    tnn, tF = torch.nn, torch.nn.functional

    class Block(tnn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.shortcut = None
            if stride != 1 or cin != cout:
                self.shortcut = tnn.Sequential(
                    tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout)
                )

        def forward(self, x):  # noqa: ANN001, ANN202
            out = tF.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return tF.relu(out + (x if self.shortcut is None else self.shortcut(x)))

    layers = [tnn.Conv2d(3, 16, 3, 1, 1, bias=False), tnn.BatchNorm2d(16), tnn.ReLU()]
    cin = 16
    for i, width in enumerate((16, 32, 64)):
        for j in range(3):
            layers.append(Block(cin, width, 2 if i and not j else 1))
            cin = width
    layers += [tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(64, 10)]
    return tnn.Sequential(*layers)


def torch_step(model: str, mode: str, threads: int):  # noqa: ANN201
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn
    if model == "mlp":
        net = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
        )
    elif model == "cnn":
        net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10),
        )  # fmt: skip
    elif model == "resnet20":
        net = _torch_resnet20(torch)
    else:
        raise ValueError(f"unknown model {model}")
    xa, ya = _data(model)
    x, y = torch.from_numpy(xa), torch.from_numpy(ya)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    if mode == "train":
        net.train()

        def step() -> None:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
    else:
        net.eval()

        def step() -> None:
            with torch.no_grad():
                net(x)

    return step


def profile(model: str, mode: str, steps: int) -> None:
    """Run chainrule steps under cProfile and print the functions with the most own time."""
    profile_steps(chainrule_step(model, mode), steps, top=25)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("framework", choices=["chainrule", "torch"])
    p.add_argument("model", choices=sorted(BATCH))
    p.add_argument("mode", choices=["train", "infer"])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--profile", type=int, default=0, help="profile N chainrule steps instead")
    a = p.parse_args()
    if a.profile:
        profile(a.model, a.mode, a.profile)
        return
    if a.framework == "chainrule":
        step = chainrule_step(a.model, a.mode)
    else:
        step = torch_step(a.model, a.mode, a.threads)
    for _ in range(a.warmup):
        step()
    times = []
    cpu = time.process_time()
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    cpu_ms = (time.process_time() - cpu) / a.steps * 1e3
    median = float(np.median(times))
    flops = 2 * FORWARD_MACS[a.model] * BATCH[a.model] * (3 if a.mode == "train" else 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "median_ms": median * 1e3,
        "min_ms": min(times) * 1e3,
        "cpu_ms": cpu_ms,
        "gflops": flops / median / 1e9,
        "peak_rss_mb": rss,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
