"""Floor 4: optimizers, learning-rate schedules, gradient clipping and the max-norm constraint.

Optimizers take any iterable of tensors that require grad (or dicts of them, the parameter groups)
and update ``.data`` in place from ``.grad``; they know nothing about ``nn``. Schedules live in
``chainrule.optim.lr_scheduler`` as in PyTorch, and are re-exported here.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .constraints import MaxNorm, max_norm_
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)
from .optimizer import Optimizer, RemovableHandle
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "RemovableHandle",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "lr_scheduler",
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
    "clip_grad_norm_",
    "clip_grad_value_",
    "max_norm_",
    "MaxNorm",
]
