"""Batch image transforms: vectorised affine warps, flips, pad-and-crop, normalisation, and the
Keras-style `ImageAugmenter`.

All transforms act on a whole batch ``(N, C, H, W)`` (or ``(N, H, W, C)`` with
``data_format="NHWC"``, or ``(N, H, W)``). The transform classes also accept a batch tuple such as
``(images, labels)`` or a dict, change only the images, and take an ``rng`` keyword, so they plug
into ``DataLoader(..., batch_transform=...)``.
"""

from chainrule.data.transforms.affine import (
    FILL_MODES,
    INTERPOLATIONS,
    affine_matrices,
    apply_affine,
    flip_matrices,
    rotate,
    shear,
    shift,
    zoom,
)
from chainrule.data.transforms.augmenter import AugmentParams, ImageAugmenter
from chainrule.data.transforms.compose import Compose
from chainrule.data.transforms.crop import RandomCrop, pad, random_crop
from chainrule.data.transforms.flip import RandomFlip, hflip, random_flip, vflip
from chainrule.data.transforms.grid import (
    augment_command,
    preset_augmenter,
    save_augmentation_grid,
)
from chainrule.data.transforms.normalize import (
    Normalize,
    ToFloat,
    channel_stats,
    normalize,
    to_float,
)

__all__ = [
    "FILL_MODES",
    "INTERPOLATIONS",
    "AugmentParams",
    "Compose",
    "ImageAugmenter",
    "Normalize",
    "RandomCrop",
    "RandomFlip",
    "ToFloat",
    "affine_matrices",
    "apply_affine",
    "augment_command",
    "channel_stats",
    "flip_matrices",
    "hflip",
    "normalize",
    "pad",
    "preset_augmenter",
    "random_crop",
    "random_flip",
    "rotate",
    "save_augmentation_grid",
    "shear",
    "shift",
    "to_float",
    "vflip",
    "zoom",
]
