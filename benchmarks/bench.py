"""The benchmark suite of BENCHMARKS.md: chainrule against PyTorch, side by side, in one run.

Each (framework, model, mode) runs in its own process so that peak memory is its own. Usage:

    python benchmarks/bench.py                      # every model available, train and inference
    python benchmarks/bench.py --models mlp --rounds 3

Prints a Markdown table: median and minimum ms per step, the ratio chainrule / PyTorch (below 1
means chainrule is faster), CPU ms per step, achieved GFLOP/s and peak RSS of each; then the
machine's float32 GEMM peak and the import times of both packages.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _harness import run_child, thread_env

HERE = Path(__file__).resolve().parent
MODELS = ["mlp", "cnn", "resnet20"]  # models both frameworks can build; see bench_models.py


def _child(framework: str, model: str, mode: str, steps: int, warmup: int, threads: int) -> dict:
    cmd = [
        sys.executable, str(HERE / "bench_models.py"), framework, model, mode,
        "--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads),
    ]  # fmt: skip
    return run_child(cmd, thread_env(threads), f"{framework} {model} {mode}")


def gemm_peak(threads: int) -> float:
    """GFLOP/s of a float32 2048x2048 matmul through NumPy (median of 5)."""
    code = (
        "import numpy as np,time\n"
        "a=np.random.rand(2048,2048).astype(np.float32);b=a.copy();a@b;ts=[]\n"
        "for _ in range(5):\n t=time.perf_counter();a@b;ts.append(time.perf_counter()-t)\n"
        "print(2*2048**3/np.median(ts)/1e9)"
    )
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    cmd = [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())


def import_time(module: str, repeats: int = 3) -> float:
    """Wall seconds of ``import module`` in a fresh interpreter (best of ``repeats``)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        best = min(best, time.perf_counter() - t)
    base = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base = min(base, time.perf_counter() - t)
    return best - base


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--modes", nargs="*", default=["train", "infer"])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved rounds; the best median is kept"
    )
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()

    rows = []
    for model in args.models:
        for mode in args.modes:
            best: dict[str, dict] = {}
            for _ in range(args.rounds):
                for fw in ("chainrule", "torch"):
                    r = _child(fw, model, mode, args.steps, args.warmup, args.threads)
                    if fw not in best or r["median_ms"] < best[fw]["median_ms"]:
                        best[fw] = r
            c, t = best["chainrule"], best["torch"]
            rows.append(
                {
                    "model": model,
                    "mode": mode,
                    "chainrule": c,
                    "torch": t,
                    "ratio": c["median_ms"] / t["median_ms"],
                }
            )

    print(f"\n{args.threads} threads, float32, best of {args.rounds} interleaved rounds\n")
    print(
        "| model | mode | chainrule median ms (min) | PyTorch median ms (min) | ratio "
        "| chainrule / PyTorch CPU ms | chainrule / PyTorch GFLOP/s "
        "| chainrule / PyTorch peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        c, t = r["chainrule"], r["torch"]
        print(
            f"| {r['model']} | {r['mode']} | {c['median_ms']:.2f} ({c['min_ms']:.2f}) | "
            f"{t['median_ms']:.2f} ({t['min_ms']:.2f}) | {r['ratio']:.2f} | "
            f"{c.get('cpu_ms', float('nan')):.0f} / {t.get('cpu_ms', float('nan')):.0f} | "
            f"{c['gflops']:.1f} / {t['gflops']:.1f} | "
            f"{c['peak_rss_mb']:.0f} / {t['peak_rss_mb']:.0f} |"
        )
    peak = gemm_peak(args.threads)
    ic, it = import_time("chainrule"), import_time("torch")
    print(f"\nfloat32 GEMM peak (2048x2048, NumPy): {peak:.0f} GFLOP/s")
    print(f"import chainrule: {ic * 1e3:.0f} ms; import torch: {it * 1e3:.0f} ms")
    if args.json:
        report = {"rows": rows, "gemm_peak": peak, "import_chainrule_s": ic, "import_torch_s": it}
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
