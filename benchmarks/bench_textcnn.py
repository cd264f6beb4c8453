"""The ``textcnn`` benchmark of BENCHMARKS.md: Kim's sentence CNN, chainrule against PyTorch.

Model: embedding 18000x300 (padding id 0), conv1d of widths 3/4/5 with 100 maps each, ReLU, max
over time, concatenation to 300 features, linear 300->2 (no dropout, as in the suite's table);
batch 50 sentences of 56 random token ids; SGD lr 0.01 momentum 0.9, cross-entropy; float32.
chainrule runs ``models.TextCNN`` from the zoo (fused convolution bank by default; ``--unfused``
adds a row for the plain ``nn.Conv1d`` + ``F.relu`` + ``max`` path); PyTorch runs the same layers
in eager mode.

Every (framework, mode) measurement is its own process with the same thread count
(``torch.set_num_threads``; the OpenBLAS/OMP/MKL/numba thread variables), and the rounds are
interleaved (chainrule, torch, chainrule, torch, ...) because absolute times drift on a shared
machine. The ratio of each round compares two neighbouring processes.

Usage:

    python benchmarks/bench_textcnn.py                  # train and infer, 3 rounds, 2 threads
    python benchmarks/bench_textcnn.py --rounds 5 --unfused
    python benchmarks/bench_textcnn.py --profile        # where chainrule's train step spends time
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from _harness import profile_steps, run_child, thread_env

VOCAB, EMBED, MAPS, WIDTHS, CLASSES, BATCH, LENGTH = 18000, 300, 100, (3, 4, 5), 2, 50, 56


def _flops(mode: str) -> float:
    """Multiply-adds x 2 of the convolutions and the linear layer (forward, or x3 for training)."""
    fwd = sum(2 * BATCH * (LENGTH - k + 1) * MAPS * EMBED * k for k in WIDTHS)
    fwd += 2 * BATCH * len(WIDTHS) * MAPS * CLASSES
    return fwd if mode == "infer" else 3 * fwd


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (BATCH, LENGTH)), rng.integers(0, CLASSES, BATCH)


def chainrule_step(mode: str, fused: bool = True):  # noqa: ANN201
    import chainrule as cr
    from chainrule import models, optim

    cr.manual_seed(0)
    net = models.TextCNN(VOCAB, EMBED, CLASSES, widths=WIDTHS, num_filters=MAPS, dropout=0.0)
    net.fused = fused
    ids_np, y_np = _batch()
    ids, y = cr.tensor(ids_np), cr.tensor(y_np)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    if mode == "infer":
        net.eval()

        def step() -> None:
            with cr.no_grad():
                net(ids)

        return step
    net.train()

    def step() -> None:
        opt.zero_grad()
        loss = cr.functional.cross_entropy(net(ids), y)
        loss.backward()
        opt.step()

    return step


def torch_step(mode: str, threads: int):  # noqa: ANN201
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn

    class TextCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, EMBED, padding_idx=0)
            self.convs = nn.ModuleList([nn.Conv1d(EMBED, MAPS, k) for k in WIDTHS])
            self.fc = nn.Linear(len(WIDTHS) * MAPS, CLASSES)

        def forward(self, ids):  # noqa: ANN001, ANN202
            x = self.embedding(ids).transpose(1, 2)
            pooled = [torch.relu(conv(x)).max(dim=2).values for conv in self.convs]
            return self.fc(torch.cat(pooled, dim=1))

    net = TextCNN()
    ids_np, y_np = _batch()
    ids, y = torch.from_numpy(ids_np), torch.from_numpy(y_np)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    if mode == "infer":
        net.eval()

        def step() -> None:
            with torch.no_grad():
                net(ids)

        return step
    net.train()

    def step() -> None:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(ids), y)
        loss.backward()
        opt.step()

    return step


def measure(framework: str, mode: str, steps: int, warmup: int, threads: int) -> dict:
    """Time ``steps`` steps after ``warmup`` in this process; a JSON-able dict."""
    if framework == "torch":
        step = torch_step(mode, threads)
    else:
        step = chainrule_step(mode, fused=framework == "chainrule")
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = float(np.median(times))
    return {
        "median_ms": median * 1e3,
        "min_ms": min(times) * 1e3,
        "gflops": _flops(mode) / median / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(framework: str, mode: str, steps: int, warmup: int, threads: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", framework, mode,
           "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads)]  # fmt: skip
    return run_child(cmd, thread_env(threads), f"{framework} {mode}")


def profile(steps: int, mode: str) -> None:
    """cProfile of chainrule's step: the functions with the most own time."""
    profile_steps(chainrule_step(mode), steps, top=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--modes", nargs="*", default=["train", "infer"], help="train and/or infer")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per process")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=2, help="threads of both frameworks")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--unfused", action="store_true", help="also time the unfused model")
    parser.add_argument("--profile", action="store_true", help="profile chainrule's step")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    if args.child:
        framework, mode = args.child
        print(json.dumps(measure(framework, mode, args.steps, args.warmup, args.threads)))
        return
    if args.profile:
        for mode in args.modes:
            print(f"--- {mode}")
            profile(args.steps, mode)
        return
    frameworks = ["chainrule", "torch"] + (["chainrule-unfused"] if args.unfused else [])
    rows = []
    for mode in args.modes:
        runs: dict[str, list[dict]] = {fw: [] for fw in frameworks}
        for _ in range(args.rounds):
            for fw in frameworks:
                runs[fw].append(_child(fw, mode, args.steps, args.warmup, args.threads))
        best = {fw: min(rs, key=lambda r: r["median_ms"]) for fw, rs in runs.items()}
        for fw in frameworks:
            if fw == "torch":
                continue
            pairs = zip(runs[fw], runs["torch"], strict=True)
            ratios = [c["median_ms"] / t["median_ms"] for c, t in pairs]
            rows.append({"mode": mode, "framework": fw, "best": best[fw], "torch": best["torch"],
                         "ratio_best": best[fw]["median_ms"] / best["torch"]["median_ms"],
                         "ratio_rounds": ratios, "runs": runs[fw],
                         "torch_runs": runs["torch"]})  # fmt: skip
    print(f"\ntextcnn benchmark, {args.threads} threads, float32, {args.rounds} interleaved rounds "
          f"of {args.steps} steps (best median of the rounds)\n")  # fmt: skip
    columns = [
        "mode",
        "chainrule median ms (min)",
        "PyTorch median ms (min)",
        "ratio (best medians)",
        "ratio per round",
        "GFLOP/s chainrule / PyTorch",
        "peak RSS MB chainrule / PyTorch",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        c, t = r["best"], r["torch"]
        name = r["mode"] + (" (unfused)" if r["framework"] == "chainrule-unfused" else "")
        per_round = ", ".join(f"{x:.2f}" for x in r["ratio_rounds"])
        print(f"| {name} | {c['median_ms']:.1f} ({c['min_ms']:.1f}) | {t['median_ms']:.1f} "
              f"({t['min_ms']:.1f}) | {r['ratio_best']:.2f} | {per_round} | "
              f"{c['gflops']:.0f} / {t['gflops']:.0f} | "
              f"{c['peak_rss_mb']:.0f} / {t['peak_rss_mb']:.0f} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
