"""What ``import chainrule`` sets in the environment before NumPy loads its BLAS."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SHOW = "import chainrule, os; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"


def _run(env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env.update(env_extra)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", _SHOW], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout.strip()


def test_import_shortens_openblas_spin_wait():
    # OpenBLAS's default (2**28 cycles) lets idle workers spin through our convolution threads
    assert _run({}) == "18"


def test_an_explicit_openblas_setting_wins():
    assert _run({"OPENBLAS_THREAD_TIMEOUT": "25"}) == "25"
