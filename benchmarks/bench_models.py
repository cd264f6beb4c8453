"""One benchmark measurement in its own process: `python bench_models.py FRAMEWORK MODEL MODE`.

Prints one JSON line: median_ms, min_ms, gflops (from the model's multiply-adds), peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

# Multiply-adds of one forward pass per example; a training step costs about three forwards.
FORWARD_MACS = {"mlp": 784 * 512 + 512 * 512 + 512 * 10}
BATCH = {"mlp": 128}
INPUT = {"mlp": (784,)}
CLASSES = {"mlp": 10}


def _data(model: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH[model], *INPUT[model])).astype(np.float32)
    y = rng.integers(0, CLASSES[model], BATCH[model])
    return x, y


def chainrule_step(model: str, mode: str):  # noqa: ANN201
    import chainrule as cr
    from chainrule import nn, optim

    cr.manual_seed(0)
    if model == "mlp":
        net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    else:
        raise ValueError(f"unknown model {model}")
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


def torch_step(model: str, mode: str, threads: int):  # noqa: ANN201
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn
    if model == "mlp":
        net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("framework", choices=["chainrule", "torch"])
    p.add_argument("model")
    p.add_argument("mode", choices=["train", "infer"])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    step = chainrule_step(a.model, a.mode) if a.framework == "chainrule" else torch_step(a.model, a.mode, a.threads)
    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    median = float(np.median(times))
    flops = 2 * FORWARD_MACS[a.model] * BATCH[a.model] * (3 if a.mode == "train" else 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"median_ms": median * 1e3, "min_ms": min(times) * 1e3, "gflops": flops / median / 1e9,
                      "peak_rss_mb": rss}))


if __name__ == "__main__":
    main()
