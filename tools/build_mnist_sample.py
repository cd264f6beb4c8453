"""Rebuild chainrule/data/embedded/mnist_sample.npz from the full MNIST IDX files.

The sample is the first 10,000 training images and the first 2,000 test images of MNIST, with
their labels, as uint8 arrays in a compressed NumPy archive (about 2 MB).

Usage (from the repository root):
    python3 tools/build_mnist_sample.py [--source ../shared/data/mnist] [--out PATH]

The source folder holds the four MNIST IDX files (raw, .gz, or the training images split into
train-images-idx3-ubyte.gz.part0..2); it defaults to $CHAINRULE_SHARED_DATA/mnist or
../shared/data/mnist next to the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chainrule.data.readers.idx import load_mnist  # noqa: E402

N_TRAIN, N_TEST = 10_000, 2_000


def default_source() -> Path:
    env = os.environ.get("CHAINRULE_SHARED_DATA")
    base = Path(env) if env else REPO / ".." / "shared" / "data"
    return (base / "mnist").resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=default_source())
    parser.add_argument(
        "--out", type=Path, default=REPO / "chainrule" / "data" / "embedded" / "mnist_sample.npz"
    )
    args = parser.parse_args(argv)
    x_train, y_train = load_mnist(args.source, train=True)
    x_test, y_test = load_mnist(args.source, train=False)
    arrays = {
        "x_train": x_train[:N_TRAIN].astype(np.uint8),
        "y_train": y_train[:N_TRAIN].astype(np.uint8),
        "x_test": x_test[:N_TEST].astype(np.uint8),
        "y_test": y_test[:N_TEST].astype(np.uint8),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size:,} bytes)")
    for name, a in arrays.items():
        print(f"  {name}: {a.shape} {a.dtype}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
