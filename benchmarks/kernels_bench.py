"""Time chainrule's conv2d kernels (forward + backward) against PyTorch on the BENCHMARKS.md shapes.

Every layer of the ``cnn`` model (batch 64, 1x28x28) and of ``resnet20`` (batch 128, 3x32x32) is
timed in one process: ``conv2d_forward`` + ``conv2d_backward`` against
``torch.nn.functional.conv2d`` and its autograd backward, float32, ``torch.set_num_threads(2)``.
The two are interleaved in rounds and each reports the better median over rounds, because
absolute times drift on shared machines. The input gradient is skipped where the model skips it
(the first layer of each net).

Run from the repository root::

    python3 benchmarks/kernels_bench.py [--rounds 3] [--reps 7] [--numpy]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chainrule.backend import config  # noqa: E402
from chainrule.kernels import conv2d_backward, conv2d_forward  # noqa: E402

# name, N, C, H, W, C_out, k, stride, padding, need_dx, count in the model
LAYERS = [
    ("cnn.conv1", 64, 1, 28, 28, 32, 3, 1, 0, False, 1),
    ("cnn.conv2", 64, 32, 26, 26, 64, 3, 1, 0, True, 1),
    ("r20.stem 3-16", 128, 3, 32, 32, 16, 3, 1, 1, False, 1),
    ("r20.16-16 @32", 128, 16, 32, 32, 16, 3, 1, 1, True, 6),
    ("r20.16-32 s2", 128, 16, 32, 32, 32, 3, 2, 1, True, 1),
    ("r20.proj 16-32", 128, 16, 32, 32, 32, 1, 2, 0, True, 1),
    ("r20.32-32 @16", 128, 32, 16, 16, 32, 3, 1, 1, True, 5),
    ("r20.32-64 s2", 128, 32, 16, 16, 64, 3, 2, 1, True, 1),
    ("r20.proj 32-64", 128, 32, 16, 16, 64, 1, 2, 0, True, 1),
    ("r20.64-64 @8", 128, 64, 8, 8, 64, 3, 1, 1, True, 5),
]


def _median_ms(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def _gemm_peak() -> float:
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    a @ a
    best = min(_median_ms(lambda: a @ a, 1) for _ in range(5))
    return 2 * 2048**3 / best / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--numpy", action="store_true", help="time the NumPy fallback kernels")
    parser.add_argument("--only", default="", help="substring filter on layer names")
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
    config.use_numba = not args.numpy
    rng = np.random.default_rng(0)

    t0 = time.perf_counter()
    x = rng.standard_normal((2, 3, 6, 6), dtype=np.float32)
    w = rng.standard_normal((4, 3, 3, 3), dtype=np.float32)
    y = conv2d_forward(x, w, None, 1, 1)
    conv2d_backward(y, x, w, 1, 1)
    first_call = time.perf_counter() - t0

    cases = []
    for name, N, C, H, W, Co, k, s, p, need_dx, count in LAYERS:
        if args.only and args.only not in name:
            continue
        x = rng.standard_normal((N, C, H, W), dtype=np.float32)
        w = rng.standard_normal((Co, C, k, k), dtype=np.float32) * 0.1
        b = rng.standard_normal(Co, dtype=np.float32)
        g = rng.standard_normal(conv2d_forward(x, w, b, s, p).shape, dtype=np.float32)
        xt = torch.from_numpy(x).requires_grad_(need_dx)
        wt = torch.from_numpy(w).requires_grad_(True)
        bt = torch.from_numpy(b).requires_grad_(True)
        gt = torch.from_numpy(g)

        def ours(x=x, w=w, b=b, g=g, s=s, p=p, need_dx=need_dx) -> None:
            conv2d_forward(x, w, b, s, p)
            conv2d_backward(g, x, w, s, p, need_dx=need_dx)

        def theirs(xt=xt, wt=wt, bt=bt, gt=gt, s=s, p=p) -> None:
            wt.grad = bt.grad = xt.grad = None
            F.conv2d(xt, wt, bt, s, p).backward(gt)

        ours()
        theirs()
        flops = 2 * N * Co * C * k * k * g.shape[2] * g.shape[3] * (3 if need_dx else 2)
        cases.append([name, count, flops, ours, theirs, [], []])

    for _ in range(args.rounds):
        for case in cases:
            case[5].append(_median_ms(case[3], args.reps))
            case[6].append(_median_ms(case[4], args.reps))

    kernel = "NumPy fallback" if args.numpy else "numba"
    print(f"conv2d forward+backward, float32, torch threads 2, chainrule kernels: {kernel}")
    print(
        f"first conv call (compile or cache load): {first_call:.2f} s; "
        f"OMP/BLAS threads env: {os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(
        f"{'layer':<16} {'x':>3} {'chainrule ms':>13} {'torch ms':>9} {'ratio':>6} {'GFLOP/s':>8}"
    )
    tot = {"cnn": [0.0, 0.0], "r20": [0.0, 0.0]}
    for name, count, flops, _, _, ours_t, theirs_t in cases:
        a, t = min(ours_t), min(theirs_t)
        tot[name.split(".")[0]][0] += count * a
        tot[name.split(".")[0]][1] += count * t
        print(f"{name:<16} {count:>3} {a:>13.2f} {t:>9.2f} {a / t:>6.2f} {flops / a / 1e6:>8.1f}")
    for net, (a, t) in tot.items():
        if t:
            print(f"{net + ' total':<16} {'':>3} {a:>13.2f} {t:>9.2f} {a / t:>6.2f}")
    print(f"float32 GEMM peak (2048^2 matmul): {_gemm_peak():.0f} GFLOP/s")


if __name__ == "__main__":
    main()
