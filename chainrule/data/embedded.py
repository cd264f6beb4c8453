"""The package's embedded default dataset: a 12,000-image MNIST sample shipped with chainrule.

The file ``chainrule/data/embedded/mnist_sample.npz`` (about 2 MB) holds the first 10,000
training and the first 2,000 test images of MNIST; see ``embedded/ATTRIBUTION.md`` for the source
and the authors. It lets examples, tests and quick experiments run with no download.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_mnist_sample", "MNIST_SAMPLE_PATH"]

MNIST_SAMPLE_PATH = Path(__file__).resolve().parent / "embedded" / "mnist_sample.npz"


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The embedded MNIST sample.

    Returns:
        ``(x_train, y_train, x_test, y_test)``: uint8 images ``(10000, 28, 28)`` and
        ``(2000, 28, 28)`` with pixel values 0-255, and int64 labels 0-9.

    Example:
        >>> x_train, y_train, x_test, y_test = load_mnist_sample()
        >>> x_train.shape, y_test.dtype
        ((10000, 28, 28), dtype('int64'))
    """
    if not MNIST_SAMPLE_PATH.is_file():
        raise RuntimeError(
            f"load_mnist_sample: the embedded file {MNIST_SAMPLE_PATH} is missing; the package "
            "installation is incomplete. Reinstall chainrule, or rebuild the file with "
            "tools/build_mnist_sample.py from the MNIST IDX files."
        )
    with np.load(MNIST_SAMPLE_PATH) as data:
        return (
            data["x_train"].astype(np.uint8),
            data["y_train"].astype(np.int64),
            data["x_test"].astype(np.uint8),
            data["y_test"].astype(np.int64),
        )
