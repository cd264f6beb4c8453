"""Augmentation throughput: one batch of 128 CIFAR-sized images (3x32x32) through rotation, shift,
shear and flip, the figure the data issue compares with a resnet20 training step.

    python benchmarks/bench_augment.py
"""

from __future__ import annotations

import time

import numpy as np

from chainrule.data.transforms import ImageAugmenter


def main() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (128, 3, 32, 32), dtype=np.uint8)
    aug = ImageAugmenter(
        rotation_range=15, width_shift_range=0.1, height_shift_range=0.1, shear_range=10,
        horizontal_flip=True,
    )  # fmt: skip
    aug(images, rng=rng)  # warm-up
    times = []
    for _ in range(15):
        start = time.perf_counter()
        aug(images, rng=rng)
        times.append(time.perf_counter() - start)
    print(
        f"augment 128x3x32x32 (rotation+shift+shear+flip): median {1e3 * np.median(times):.1f} ms, "
        f"best {1e3 * min(times):.1f} ms"
    )


if __name__ == "__main__":
    main()
