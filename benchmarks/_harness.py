"""Pieces every benchmark script shares: child processes pinned to a thread count, and cProfile.

The scripts run as ``python benchmarks/NAME.py``, so this module is imported as ``_harness``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable

__all__ = ["thread_env", "run_child", "profile_steps"]


def thread_env(threads: int) -> dict[str, str]:
    """This process's environment with every thread-count variable (OpenMP, OpenBLAS, MKL,
    numba) set to ``threads``, so both frameworks run with the same number of threads.

    It also carries the ``OPENBLAS_THREAD_TIMEOUT`` that ``import chainrule`` sets when it comes
    before NumPy (see ``chainrule/__init__.py``): the measuring children import NumPy first, so
    it is passed here, to both frameworks alike.
    """
    n = str(threads)
    env = dict(os.environ, OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
    env["NUMBA_NUM_THREADS"] = n
    env.setdefault("OPENBLAS_THREAD_TIMEOUT", "18")
    return env


def run_child(cmd: list[str], env: dict[str, str], label: str) -> dict:
    """Run one measurement process and return the JSON object on its last line of output.

    Raises:
        RuntimeError: the process failed; the message names ``label`` and ends with its stderr.
    """
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{label} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile_steps(step: Callable[[], None], steps: int, top: int = 25) -> None:
    """Run ``step`` 3 times untimed, then ``steps`` times under cProfile, and print the ``top``
    functions by own time."""
    import cProfile
    import pstats

    for _ in range(3):
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)
