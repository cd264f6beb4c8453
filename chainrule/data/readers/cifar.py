"""CIFAR-10 / CIFAR-100: the official python pickle batches and the PNG-strip subset.

Pickle batches (``cifar-10-batches-py/data_batch_1..5``, ``test_batch``; ``cifar-100-python/
train``, ``test``) hold ``data`` as uint8 rows of 3072 values (1024 red, 1024 green, 1024 blue,
each 32x32 row-major) and the labels. They are read with an unpickler that only accepts the NumPy
names such files need, so a tampered file cannot run code.

The PNG-strip format (``cifar10_subset/cifar10_batch_N.png``) stores one 32x32 RGB image per row
of a 1024-pixel-wide PNG; labels are one integer per line in ``train_labels.txt`` /
``test_labels.txt`` and class names one per line in ``batches.meta.txt``.

All loaders return images as uint8 ``(N, 3, 32, 32)`` (NCHW, the framework's layout) unless
``channels_last=True`` asks for ``(N, 32, 32, 3)``; labels are int64.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.data.dataset import TensorDataset
from chainrule.data.readers._files import find_file, read_bytes, resolve_folder
from chainrule.data.readers.png import read_png

__all__ = [
    "read_cifar_batch",
    "read_png_strip",
    "load_cifar10",
    "load_cifar100",
    "load_cifar10_subset",
    "CIFAR10",
    "CIFAR100",
    "CIFAR10Subset",
    "CIFAR10_CLASSES",
]

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the NumPy reconstruction helpers (no arbitrary code)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(
                f"CIFAR batch refers to {module}.{name}; only NumPy arrays are allowed."
            )
        if module.startswith("numpy.core") and hasattr(np, "_core"):
            module = "numpy._core" + module[len("numpy.core") :]
        return getattr(importlib.import_module(module), name)


def _key(d: dict, name: str) -> Any:
    for k in (name, name.encode()):
        if k in d:
            return d[k]
    return None


def read_cifar_batch(
    path: str | os.PathLike, label_key: str = "labels", channels_last: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR python batch.

    Args:
        path: the pickle file (``data_batch_1``, ``test_batch``, CIFAR-100 ``train`` ...).
        label_key: ``"labels"`` (CIFAR-10), ``"fine_labels"`` or ``"coarse_labels"`` (CIFAR-100).
        channels_last: return ``(N, 32, 32, 3)`` instead of ``(N, 3, 32, 32)``.

    Returns:
        ``(images uint8, labels int64)``.
    """
    path = Path(path)
    try:
        batch = _ArrayUnpickler(io.BytesIO(read_bytes(path)), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
        raise ValueError(f"{path}: not a readable CIFAR python batch ({err}).") from err
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(batch).__name__}.")
    data, labels = _key(batch, "data"), _key(batch, label_key)
    if data is None or labels is None:
        keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in batch)
        raise ValueError(f"{path}: expected keys 'data' and {label_key!r}, found {keys}.")
    data = np.asarray(data, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: 'data' must have shape (N, 3072), got {data.shape}.")
    if data.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{path}: {data.shape[0]} images but {labels.shape[0]} labels; expected equal counts."
        )
    images = data.reshape(-1, 3, 32, 32)
    if channels_last:
        images = images.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def read_png_strip(
    path: str | os.PathLike, image_shape: tuple[int, int, int] = (32, 32, 3)
) -> np.ndarray:
    """Images stored one per row of a PNG (convnetjs format), as ``(rows, H, W, C)`` uint8.

    Args:
        path: the PNG file.
        image_shape: ``(H, W, C)`` of one image; a PNG row must hold exactly ``H * W`` pixels
            of ``C`` channels.
    """
    h, w, c = image_shape
    pixels = read_png(path)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[1] != h * w or pixels.shape[2] < c:
        raise ValueError(
            f"{path}: PNG of shape {pixels.shape} cannot hold one {image_shape} image per row; "
            f"expected rows of {h * w} pixels with at least {c} channels."
        )
    return np.ascontiguousarray(pixels[:, :, :c].reshape(-1, h, w, c))


def _read_int_lines(path: Path) -> np.ndarray:
    text = path.read_text(encoding="ascii")
    try:
        return np.asarray([int(t) for t in text.split()], dtype=np.int64)
    except ValueError as err:
        raise ValueError(f"{path}: expected one integer label per line ({err}).") from err


def load_cifar10_subset(
    root: str | os.PathLike | None = None, train: bool = True, channels_last: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The PNG-strip CIFAR-10 subset (``cifar10_subset/``: 4 train strips, 1 test strip).

    Train: ``cifar10_batch_0..3.png`` (4,000 images) with ``train_labels.txt``; test:
    ``cifar10_batch_50.png`` (1,000 images) with ``test_labels.txt``. Any consecutive strips
    ``cifar10_batch_0.png, _1, ...`` present are used for training.
    """
    labels_name = "train_labels.txt" if train else "test_labels.txt"
    first = "cifar10_batch_0.png" if train else "cifar10_batch_50.png"
    folder = resolve_folder("cifar10_subset", root, [labels_name, first])
    if train:
        strips = []
        while (folder / f"cifar10_batch_{len(strips)}.png").is_file():
            strips.append(folder / f"cifar10_batch_{len(strips)}.png")
    else:
        strips = [folder / first]
    images = np.concatenate([read_png_strip(p) for p in strips])
    labels = _read_int_lines(folder / labels_name)
    if labels.shape[0] < images.shape[0]:
        raise ValueError(
            f"{folder / labels_name}: {labels.shape[0]} labels for {images.shape[0]} images in "
            f"{', '.join(p.name for p in strips)}; expected at least one label per image."
        )
    labels = labels[: images.shape[0]]
    if not channels_last:
        images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    return images, labels


def load_cifar10(
    root: str | os.PathLike | None = None,
    train: bool = True,
    channels_last: bool = False,
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from the python batches in ``cifar-10-batches-py/`` (50,000 train, 10,000 test)."""
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    folder = resolve_folder("cifar10", root, names, download)
    parts = [read_cifar_batch(find_file(folder, n), "labels", channels_last) for n in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def load_cifar100(
    root: str | os.PathLike | None = None,
    train: bool = True,
    label_mode: str = "fine",
    channels_last: bool = False,
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-100 from ``cifar-100-python/train`` or ``test``; ``label_mode`` fine or coarse."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f"load_cifar100: label_mode must be 'fine' or 'coarse', got {label_mode!r}."
        )
    name = "train" if train else "test"
    folder = resolve_folder("cifar100", root, [name], download)
    return read_cifar_batch(find_file(folder, name), f"{label_mode}_labels", channels_last)


def _class_names(folder: Path, meta: str, key: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    path = folder / meta
    if meta.endswith(".txt"):
        if path.is_file():
            return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
        return fallback
    if not path.is_file():
        return fallback
    try:
        d = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError):
        return fallback
    names = _key(d, key) if isinstance(d, dict) else None
    if not names:
        return fallback
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


class CIFAR10(TensorDataset):
    """CIFAR-10 (python batches) as ``(image uint8 (3, 32, 32), label int64)`` samples.

    Args:
        root: ``cifar-10-batches-py/`` itself or the folder containing it; default
            ``$CHAINRULE_DATA``.
        train: 50,000 training or 10,000 test images.
        download: fetch and unpack the official archive if missing.
        channels_last: store images as ``(32, 32, 3)``.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        channels_last: bool = False,
    ) -> None:
        images, labels = load_cifar10(root, train, channels_last, download)
        super().__init__(images, labels)
        self.data, self.targets, self.train = images, labels, train
        folder = resolve_folder("cifar10", root, ["test_batch" if not train else "data_batch_1"])
        self.classes = _class_names(folder, "batches.meta", "label_names", CIFAR10_CLASSES)


class CIFAR100(TensorDataset):
    """CIFAR-100 (python batches) as ``(image uint8 (3, 32, 32), label int64)`` samples.

    Args:
        root: ``cifar-100-python/`` itself or the folder containing it.
        train: 50,000 training or 10,000 test images.
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).
        download: fetch and unpack the official archive if missing.
        channels_last: store images as ``(32, 32, 3)``.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        label_mode: str = "fine",
        download: bool = False,
        channels_last: bool = False,
    ) -> None:
        images, labels = load_cifar100(root, train, label_mode, channels_last, download)
        super().__init__(images, labels)
        self.data, self.targets, self.train = images, labels, train
        folder = resolve_folder("cifar100", root, ["train" if train else "test"])
        fallback = tuple(str(i) for i in range(int(labels.max()) + 1 if labels.size else 0))
        self.classes = _class_names(folder, "meta", f"{label_mode}_label_names", fallback)


class CIFAR10Subset(TensorDataset):
    """The real 5,000-image CIFAR-10 subset stored as PNG strips (``cifar10_subset/``).

    Args:
        root: ``cifar10_subset/`` itself or the folder containing it; default ``$CHAINRULE_DATA``.
        train: the 4,000 training images (data_batch_1 images 0-3999) or the 1,000 test images
            (test_batch images 0-999).
        channels_last: store images as ``(32, 32, 3)``.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        channels_last: bool = False,
    ) -> None:
        images, labels = load_cifar10_subset(root, train, channels_last)
        super().__init__(images, labels)
        self.data, self.targets, self.train = images, labels, train
        folder = resolve_folder(
            "cifar10_subset", root, ["train_labels.txt" if train else "test_labels.txt"]
        )
        self.classes = _class_names(folder, "batches.meta.txt", "", CIFAR10_CLASSES)
