"""A picture of augmentation: originals in the first column, augmented copies beside them.

Needs matplotlib (the ``plot`` extra), imported only when a grid is drawn.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.data.transforms._layout import to_nchw
from chainrule.data.transforms.augmenter import ImageAugmenter

__all__ = ["save_augmentation_grid", "augment_command", "preset_augmenter"]


def _displayable(images: np.ndarray, data_format: str) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3|4) floats in [0, 1] for imshow."""
    x, _ = to_nchw(images, data_format, "save_augmentation_grid")
    x = x.transpose(0, 2, 3, 1)
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float64) / np.iinfo(x.dtype).max
    else:
        x = x.astype(np.float64)
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            x = (x - lo) / max(hi - lo, 1e-12)
    if x.shape[-1] == 1:
        return x[..., 0]
    return np.clip(x, 0.0, 1.0)


def save_augmentation_grid(
    images: Any,
    augmenter: Any,
    path: str | os.PathLike,
    n_augmented: int = 8,
    rng: np.random.Generator | None = None,
    data_format: str = "NCHW",
    title: str | None = None,
    dpi: int = 100,
) -> Path:
    """Save a PNG grid: one row per image, the original first, then augmented copies.

    Args:
        images: a batch (``(N, C, H, W)``, ``(N, H, W, C)`` with ``data_format="NHWC"``, or
            ``(N, H, W)``), integers or floats.
        augmenter: a callable taking an array batch and ``rng=``, e.g. an `ImageAugmenter`.
        path: the PNG file to write (folders are created).
        n_augmented: augmented copies per image.
        rng: random source; default: the package generator.
        data_format: layout of 4-D ``images``.
        title: optional figure title.
        dpi: resolution.

    Returns:
        The path written.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise RuntimeError(
            "save_augmentation_grid needs matplotlib; install it with "
            "`pip install chainrule[plot]` (or `pip install matplotlib`)."
        ) from err
    x = np.asarray(images)
    if n_augmented < 1 or x.shape[0] < 1:
        raise ValueError(
            f"save_augmentation_grid: need at least one image and n_augmented >= 1, got "
            f"{x.shape[0]} images and n_augmented={n_augmented}."
        )
    if rng is None:
        from chainrule.backend import get_rng

        rng = get_rng()
    columns = [x] + [augmenter(x, rng=rng) for _ in range(n_augmented)]
    shown = [_displayable(np.asarray(c), data_format) for c in columns]
    rows, cols = x.shape[0], len(shown)
    fig = Figure(figsize=(cols * 1.0, rows * 1.0 + (0.4 if title else 0.0)), dpi=dpi)
    FigureCanvasAgg(fig)
    for r in range(rows):
        for c in range(cols):
            ax = fig.add_subplot(rows, cols, r * cols + c + 1)
            img = shown[c][r]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title("original" if c == 0 else f"aug {c}", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


def preset_augmenter(data: str) -> ImageAugmenter:
    """The augmentation shown by ``chainrule augment``: rotation, shifts, shear, zoom (+ flips
    for CIFAR-10; digits are not flipped)."""
    if data == "mnist":
        return ImageAugmenter(
            rotation_range=15,
            width_shift_range=0.1,
            height_shift_range=0.1,
            shear_range=15,
            zoom_range=0.1,
            fill_mode="constant",
        )
    if data == "cifar10":
        return ImageAugmenter(
            rotation_range=15,
            width_shift_range=0.1,
            height_shift_range=0.1,
            shear_range=10,
            zoom_range=0.1,
            horizontal_flip=True,
            fill_mode="nearest",
        )
    raise ValueError(f"augment: unknown data {data!r}; available: mnist, cifar10.")


def _load_images(data: str) -> np.ndarray:
    if data == "mnist":
        from chainrule.data.embedded import load_mnist_sample

        return load_mnist_sample()[2]
    from chainrule.data.readers.cifar import load_cifar10, load_cifar10_subset

    try:
        return load_cifar10_subset(train=False)[0]
    except FileNotFoundError as subset_error:
        try:
            return load_cifar10(train=False)[0]
        except FileNotFoundError:
            raise RuntimeError(
                "augment --data cifar10 needs CIFAR-10 images: either the PNG-strip subset "
                "(cifar10_subset/cifar10_batch_50.png and test_labels.txt) or the python batches "
                "(cifar-10-batches-py/test_batch) under $CHAINRULE_DATA.\n"
                f"{subset_error}"
            ) from subset_error


def augment_command(data: str, out: str, n: int, seed: int) -> str:
    """Everything behind ``chainrule augment --data mnist|cifar10 --out grid.png``.

    Picks ``n`` random test images of the dataset (MNIST from the embedded sample, CIFAR-10
    from ``$CHAINRULE_DATA``), draws 8 augmentations of each with the preset augmenter, and
    writes the grid.

    Args:
        data: ``"mnist"`` or ``"cifar10"``.
        out: the PNG path.
        n: number of original images (rows), at least 1.
        seed: seed of the image choice and the augmentation.

    Returns:
        The path written, as a string.
    """
    augmenter = preset_augmenter(data)
    if n < 1:
        raise ValueError(f"augment: n must be >= 1, got {n}.")
    images = _load_images(data)
    rng = np.random.default_rng(seed)
    pick = rng.choice(images.shape[0], size=min(n, images.shape[0]), replace=False)
    title = f"{data}: originals and 8 augmentations each"
    path = save_augmentation_grid(images[np.sort(pick)], augmenter, out, 8, rng, title=title)
    return str(path)
