"""The ``lstm`` benchmark of BENCHMARKS.md: a word-level LSTM language model, chainrule vs PyTorch.

Model: embedding 10000x200, 2-layer LSTM with hidden size 200, linear 200->10000, cross-entropy over
all 35x20 positions; batch 20 sequences of 35 token ids; SGD lr 0.01 momentum 0.9; float32. Both
models flatten the LSTM output to (35*20, 200) before the decoder, as PyTorch's word-language-model
example does.

Each (framework, mode) measurement runs in its own process with the same thread count
(``torch.set_num_threads``, OpenBLAS/OMP/numba thread variables); rounds are interleaved
(chainrule, torch, chainrule, torch, ...) because absolute times drift on a shared machine.

Usage:

    python benchmarks/bench_lstm.py                    # train and infer, 3 rounds, 2 threads
    python benchmarks/bench_lstm.py --rounds 5 --steps 30
    python benchmarks/bench_lstm.py --profile          # where chainrule's train step spends time

Prints a Markdown table: median and minimum ms per step (best median over the rounds), the ratio
chainrule / PyTorch (below 1 means chainrule is faster), and peak RSS.
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

VOCAB, EMBED, HIDDEN, LAYERS, SEQ, BATCH = 10000, 200, 200, 2, 35, 20


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, (SEQ, BATCH))
    targets = rng.integers(0, VOCAB, (SEQ, BATCH))
    return ids, targets


def chainrule_step(mode: str):  # noqa: ANN201
    import chainrule as cr
    from chainrule import nn, optim

    F = cr.functional
    cr.manual_seed(0)

    class WordLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.lstm = nn.LSTM(EMBED, HIDDEN, LAYERS)
            self.decoder = nn.Linear(HIDDEN, VOCAB)

        def forward(self, ids):  # noqa: ANN001, ANN202
            out, _ = self.lstm(self.embed(ids))
            return self.decoder(out.reshape(SEQ * BATCH, HIDDEN))

    net = WordLM()
    ids_np, targets_np = _data()
    ids, targets = cr.tensor(ids_np), cr.tensor(targets_np.reshape(-1))
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    if mode == "train":
        net.train()

        def step() -> None:
            opt.zero_grad()
            logits = net(ids)
            loss = F.cross_entropy(logits, targets)
            loss.backward()
            opt.step()

    else:
        net.eval()

        def step() -> None:
            with cr.no_grad():
                net(ids)

    return step


def torch_step(mode: str, threads: int):  # noqa: ANN201
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn

    class WordLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.lstm = nn.LSTM(EMBED, HIDDEN, LAYERS)
            self.decoder = nn.Linear(HIDDEN, VOCAB)

        def forward(self, ids):  # noqa: ANN001, ANN202
            out, _ = self.lstm(self.embed(ids))
            return self.decoder(out.reshape(SEQ * BATCH, HIDDEN))

    net = WordLM()
    ids_np, targets_np = _data()
    ids, targets = torch.from_numpy(ids_np), torch.from_numpy(targets_np.reshape(-1))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    if mode == "train":
        net.train()

        def step() -> None:
            opt.zero_grad()
            logits = net(ids)
            loss = nn.functional.cross_entropy(logits, targets)
            loss.backward()
            opt.step()

    else:
        net.eval()

        def step() -> None:
            with torch.no_grad():
                net(ids)

    return step


def measure(framework: str, mode: str, steps: int, warmup: int, threads: int) -> dict:
    """Time ``steps`` steps after ``warmup`` steps in this process; one JSON-able dict."""
    if framework == "chainrule":
        step = chainrule_step(mode)
    else:
        step = torch_step(mode, threads)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"median_ms": float(np.median(times)) * 1e3, "min_ms": min(times) * 1e3,
            "peak_rss_mb": rss}  # fmt: skip


def _child(framework: str, mode: str, steps: int, warmup: int, threads: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", framework, mode,
           "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads)]  # fmt: skip
    return run_child(cmd, thread_env(threads), f"{framework} {mode}")


def profile(steps: int) -> None:
    """cProfile of chainrule's train step: the functions with the most own time."""
    profile_steps(chainrule_step("train"), steps, top=25)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--modes", nargs="*", default=["train", "infer"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--profile", action="store_true", help="profile chainrule's train step")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    if args.child:
        framework, mode = args.child
        print(json.dumps(measure(framework, mode, args.steps, args.warmup, args.threads)))
        return
    if args.profile:
        profile(args.steps)
        return
    rows = []
    for mode in args.modes:
        runs: dict[str, list[dict]] = {"chainrule": [], "torch": []}
        for _ in range(args.rounds):
            for fw in ("chainrule", "torch"):
                runs[fw].append(_child(fw, mode, args.steps, args.warmup, args.threads))
        best = {fw: min(rs, key=lambda r: r["median_ms"]) for fw, rs in runs.items()}
        # the ratio of each round pairs two neighbouring processes; their median is robust to drift
        ratios = [c["median_ms"] / t["median_ms"]
                  for c, t in zip(runs["chainrule"], runs["torch"], strict=True)]  # fmt: skip
        rows.append({"mode": mode, "best": best, "runs": runs,
                     "ratio_best": best["chainrule"]["median_ms"] / best["torch"]["median_ms"],
                     "ratio_rounds": ratios})  # fmt: skip
    print(f"\nlstm benchmark, {args.threads} threads, float32, {args.rounds} interleaved rounds of "
          f"{args.steps} steps (best median of the rounds)\n")  # fmt: skip
    print("| mode | chainrule median ms (min) | PyTorch median ms (min) | ratio (best medians) | "
          "ratio per round | chainrule peak RSS MB | PyTorch peak RSS MB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        c, t = r["best"]["chainrule"], r["best"]["torch"]
        per_round = ", ".join(f"{x:.2f}" for x in r["ratio_rounds"])
        print(f"| {r['mode']} | {c['median_ms']:.1f} ({c['min_ms']:.1f}) | {t['median_ms']:.1f} "
              f"({t['min_ms']:.1f}) | {r['ratio_best']:.2f} | {per_round} | "
              f"{c['peak_rss_mb']:.0f} | {t['peak_rss_mb']:.0f} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
