"""Augmentation grids and the `chainrule augment` entry point."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.data.readers.png import read_png
from chainrule.data.transforms import ImageAugmenter, augment_command, save_augmentation_grid

pytest.importorskip("matplotlib")


def test_save_grid_writes_a_png(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (3, 3, 16, 16), dtype=np.uint8)
    path = save_augmentation_grid(
        images, ImageAugmenter(rotation_range=20), tmp_path / "g" / "grid.png", n_augmented=4
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_png(path).shape[0] > 100


def test_augment_command_mnist_from_the_embedded_sample(tmp_path):
    out = augment_command("mnist", str(tmp_path / "mnist.png"), n=3, seed=0)
    assert out.endswith("mnist.png") and (tmp_path / "mnist.png").stat().st_size > 1000


def test_augment_command_cifar10_from_the_shared_folder(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA", str(shared_data))
    out = augment_command("cifar10", str(tmp_path / "cifar.png"), n=2, seed=1)
    assert (tmp_path / "cifar.png").is_file() and out.endswith("cifar.png")


def test_augment_command_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown data 'svhn'; available: mnist, cifar10"):
        augment_command("svhn", str(tmp_path / "x.png"), 2, 0)
    with pytest.raises(RuntimeError, match="needs CIFAR-10 images"):
        augment_command("cifar10", str(tmp_path / "x.png"), 2, 0)
