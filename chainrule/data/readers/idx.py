"""IDX files (MNIST, Fashion-MNIST): parser, loaders and dataset classes.

IDX layout: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a big-endian
uint32, then the values in C order (big-endian). MNIST images have magic 0x00000803 (uint8, 3-D)
and labels 0x00000801 (uint8, 1-D).
"""

from __future__ import annotations

import os

import numpy as np

from chainrule.data.dataset import TensorDataset
from chainrule.data.readers._files import FileRef, describe, find_file, read_bytes, resolve_folder

__all__ = [
    "read_idx",
    "parse_idx",
    "load_mnist",
    "load_fashion_mnist",
    "MNIST",
    "FashionMNIST",
    "MNIST_FILES",
]

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def parse_idx(data: bytes, name: str = "<bytes>", expect_ndim: int | None = None) -> np.ndarray:
    """Decode the bytes of an IDX file.

    Args:
        data: the uncompressed file contents.
        name: file name used in error messages.
        expect_ndim: if given, the number of dimensions the header must declare.

    Returns:
        An array of the declared shape, in native byte order (uint8 for MNIST).

    Raises:
        ValueError: bad magic number, unknown type code, wrong rank, truncated or overlong data.
    """
    if len(data) < 4:
        raise ValueError(
            f"{name}: not an IDX file: {len(data)} bytes is shorter than the 4-byte magic number."
        )
    zero, code, ndim = data[0:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in _TYPES:
        raise ValueError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()}; expected 0x0000 followed by a type "
            f"code ({', '.join(f'0x{c:02x}' for c in _TYPES)}) and the rank, e.g. 0x00000803 for "
            "MNIST images or 0x00000801 for labels."
        )
    if expect_ndim is not None and ndim != expect_ndim:
        raise ValueError(
            f"{name}: IDX magic 0x{data[:4].hex()} declares {ndim} dimension(s); expected "
            f"{expect_ndim} (magic 0x0000{code:02x}{expect_ndim:02x})."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, "
            f"the file has {len(data)}."
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        kind = "truncated" if got < expected else "too long"
        raise ValueError(
            f"{name}: IDX data is {kind}: the header declares shape {shape} ({expected} bytes "
            f"of {dtype.name}), but the file holds {got} bytes after the header."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike | FileRef, expect_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file: raw, ``.gz``, or a tuple of ``.gz.partN`` slices of one gzip stream.

    Example:
        >>> read_idx("t10k-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (10000,)
    """
    name = describe(path) if isinstance(path, tuple) else str(path)
    return parse_idx(read_bytes(path), name, expect_ndim)


def _load_idx_pair(dataset: str, root: str | os.PathLike | None, train: bool, download: bool):
    images_name, labels_name = MNIST_FILES[bool(train)]
    folder = resolve_folder(dataset, root, [images_name, labels_name], download)
    images_ref = find_file(folder, images_name)
    labels_ref = find_file(folder, labels_name)
    images = read_idx(images_ref, expect_ndim=3)
    labels = read_idx(labels_ref, expect_ndim=1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{dataset}: {describe(labels_ref)} holds {labels.shape[0]} labels but "
            f"{describe(images_ref)} holds {images.shape[0]} images; expected the same count. "
            "One of the files is from another split or damaged."
        )
    return images, labels.astype(np.int64)


def load_mnist(
    root: str | os.PathLike | None = None, train: bool = True, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The full MNIST training (60,000) or test (10,000) split from its IDX files.

    Args:
        root: the folder with the IDX files (raw, ``.gz``, or ``.gz.part0..N``), or a folder that
            contains ``mnist/``; default ``$CHAINRULE_DATA``.
        train: the training split, else the test split.
        download: fetch the official files into the root if they are missing.

    Returns:
        ``(images, labels)``: uint8 ``(N, 28, 28)`` and int64 ``(N,)``.
    """
    return _load_idx_pair("mnist", root, train, download)


def load_fashion_mnist(
    root: str | os.PathLike | None = None, train: bool = True, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST, same file names and layout as MNIST, in a ``fashion-mnist/`` folder."""
    return _load_idx_pair("fashion-mnist", root, train, download)


class MNIST(TensorDataset):
    """MNIST digits as a dataset of ``(image uint8 (28, 28), label int64)``.

    Args:
        root: folder with the IDX files or one containing ``mnist/``; default
            ``$CHAINRULE_DATA``.
        train: training split (60,000) or test split (10,000).
        download: fetch the official files if missing.

    Attributes:
        data: uint8 ``(N, 28, 28)``; targets: int64 ``(N,)``; classes: the class names.
    """

    classes = tuple(str(d) for d in range(10))
    _loader = staticmethod(load_mnist)

    def __init__(
        self, root: str | os.PathLike | None = None, train: bool = True, download: bool = False
    ) -> None:
        images, labels = self._loader(root, train, download)
        super().__init__(images, labels)
        self.data, self.targets, self.train = images, labels, train

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(split={split}, n={len(self)})"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando) as a dataset of ``(image uint8 (28, 28), label int64)``."""

    classes = FASHION_CLASSES
    _loader = staticmethod(load_fashion_mnist)
