"""Time chainrule's conv2d kernels (forward + backward) against PyTorch on the BENCHMARKS.md shapes.

Every layer of the ``cnn`` model (batch 64, 1x28x28) and of ``resnet20`` (batch 128, 3x32x32) is
timed in one process: ``conv2d_forward`` + ``conv2d_backward`` against
``torch.nn.functional.conv2d`` and its autograd backward, float32, 2 threads each (``--threads``).
The two alternate in rounds and each reports its best median over rounds, because absolute
times drift on shared machines; a layer that occurs ``x`` times counts ``x`` times in the totals.
The input gradient is skipped where the model skips it (the first layer of each net).

torch is imported before chainrule so that its OpenMP runtime keeps its own defaults
(chainrule sets ``OMP_WAIT_POLICY=PASSIVE`` for numba's, see ``chainrule/kernels/_dispatch.py``).
``--profile`` adds a cProfile breakdown of chainrule's time per layer (GEMM vs. packing kernels).

Run from the repository root::

    python3 benchmarks/kernels_bench.py [--rounds 3] [--reps 7] [--threads 2] [--numpy]
        [--profile] [--others] [--only NAME]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

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


_CLOCK = {"clock": time.perf_counter}


def _median_ms(fn: Callable[[], object], reps: int) -> float:
    clock = _CLOCK["clock"]
    times = []
    for _ in range(reps):
        t0 = clock()
        fn()
        times.append(clock() - t0)
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
    parser.add_argument("--profile", action="store_true", help="cProfile chainrule per layer")
    parser.add_argument("--others", action="store_true", help="also time pool, batch norm, CE")
    parser.add_argument("--threads", type=int, default=2, help="threads for both frameworks")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time by process CPU time (with --threads 1: per-core cost, robust to machine load)",
    )
    args = parser.parse_args()

    if args.cpu_time:
        _CLOCK["clock"] = time.process_time
    torch.set_num_threads(args.threads)
    _set_our_threads(args.threads)
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

    kernel = "NumPy fallback" if args.numpy else "numba"
    print(
        f"conv2d forward+backward, float32, {args.threads} thread(s) each, "
        f"chainrule kernels: {kernel}, clock: {'process CPU' if args.cpu_time else 'wall'}"
    )
    print(
        f"first conv call (compile or cache load): {first_call:.2f} s; "
        f"OMP/BLAS threads env: {os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(
        f"{'layer':<16} {'x':>3} {'chainrule ms':>13} {'torch ms':>9} {'ratio':>6} {'GFLOP/s':>8}"
    )
    tot = {"cnn": [0.0, 0.0], "r20": [0.0, 0.0]}
    for name, count, flops, ours, theirs, ours_t, theirs_t in cases:
        for _ in range(args.rounds):  # interleaved, so that both see the same machine load
            ours_t.append(_median_ms(ours, args.reps))
            theirs_t.append(_median_ms(theirs, args.reps))
        a, t = min(ours_t), min(theirs_t)
        tot[name.split(".")[0]][0] += count * a
        tot[name.split(".")[0]][1] += count * t
        print(
            f"{name:<16} {count:>3} {a:>13.2f} {t:>9.2f} {a / t:>6.2f} {flops / a / 1e6:>8.1f}",
            flush=True,
        )
    for net, (a, t) in tot.items():
        if t:
            print(f"{net + ' total':<16} {'':>3} {a:>13.2f} {t:>9.2f} {a / t:>6.2f}")
    print(f"float32 GEMM peak (2048^2 matmul): {_gemm_peak():.0f} GFLOP/s")
    if args.profile:
        for name, _, _, ours, _, _, _ in cases:
            _profile(name, ours)
    if args.others:
        _others(args.rounds, args.reps)


def _others(rounds: int, reps: int) -> None:
    """Forward+backward of the other fused kernels against PyTorch, on the models' shapes."""
    from chainrule.kernels import (
        batch_norm_backward,
        batch_norm_forward_train,
        max_pool2d_backward,
        max_pool2d_forward,
        softmax_cross_entropy_backward,
        softmax_cross_entropy_forward,
    )

    rng = np.random.default_rng(1)
    x_pool = rng.standard_normal((64, 64, 24, 24), dtype=np.float32)
    x_bn = rng.standard_normal((128, 16, 32, 32), dtype=np.float32)
    gamma = np.ones(16, np.float32)
    beta = np.zeros(16, np.float32)
    logits = rng.standard_normal((128, 10), dtype=np.float32)
    targets = rng.integers(0, 10, 128)

    def pool_ours() -> None:
        y, idx = max_pool2d_forward(x_pool, 2)
        max_pool2d_backward(y, idx, x_pool.shape)

    def bn_ours() -> None:
        y, mean, _, invstd = batch_norm_forward_train(x_bn, gamma, beta)
        batch_norm_backward(y, x_bn, gamma, mean, invstd)

    def ce_ours() -> None:
        _, probs = softmax_cross_entropy_forward(logits, targets)
        softmax_cross_entropy_backward(1.0, probs, targets)

    tp = torch.from_numpy(x_pool).requires_grad_()
    tb = torch.from_numpy(x_bn).requires_grad_()
    tg = torch.from_numpy(gamma).requires_grad_()
    tbe = torch.from_numpy(beta).requires_grad_()
    tl = torch.from_numpy(logits).requires_grad_()
    tt = torch.from_numpy(targets)

    def pool_torch() -> None:
        y = F.max_pool2d(tp, 2)
        y.backward(y.detach())

    def bn_torch() -> None:
        y = F.batch_norm(tb, None, None, tg, tbe, training=True)
        y.backward(y.detach())

    def ce_torch() -> None:
        F.cross_entropy(tl, tt).backward()

    rows = [
        ("max_pool2d 64x64x24x24", pool_ours, pool_torch),
        ("batch_norm 128x16x32x32", bn_ours, bn_torch),
        ("cross_entropy 128x10", ce_ours, ce_torch),
    ]
    print(f"{'kernel (fwd+bwd)':<26} {'chainrule ms':>13} {'torch ms':>9} {'ratio':>6}")
    for name, ours, theirs in rows:
        ours()
        theirs()
        a = min(_median_ms(ours, reps) for _ in range(rounds))
        t = min(_median_ms(theirs, reps) for _ in range(rounds))
        print(f"{name:<26} {a:>13.3f} {t:>9.3f} {a / t:>6.2f}")


def _set_our_threads(n: int) -> None:
    """Use ``n`` kernel threads: numba's (the conv slab pool follows it) and BLAS's."""
    from chainrule.kernels._dispatch import HAVE_NUMBA
    from chainrule.kernels._parallel import blas_controls

    if HAVE_NUMBA:
        import numba

        numba.set_num_threads(n)
    for _, set_threads in blas_controls():
        set_threads(n)


def _profile(name: str, fn: Callable[[], object]) -> None:
    """Print where one layer's forward+backward spends its time (5 calls, by own time)."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        fn()
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(row[2] for row in stats.values())
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:6]
    parts = [f"{func[2]} {100 * row[2] / total:.0f}%" for func, row in rows]
    print(f"profile {name}: {total / 5 * 1e3:.1f} ms/call; " + ", ".join(parts))


if __name__ == "__main__":
    main()
