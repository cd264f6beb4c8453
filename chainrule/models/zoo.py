"""Build any model of the zoo by name: ``zoo.build("mlp", hidden=(256,))``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import nn
from . import resnet
from .cnn import MNISTCNN, LeNet5
from .inception import InceptionSmall
from .language_model import CharLSTM, WordLSTM
from .mlp import MLP
from .textcnn import TextCNN

__all__ = ["build", "available", "register"]

_REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,
    "char_lstm": CharLSTM,
    "lstm_lm": WordLSTM,
    "mnist_cnn": MNISTCNN,
    "lenet5": LeNet5,
    "inception_small": InceptionSmall,
    "resnet20": resnet.resnet20,
    "resnet32": resnet.resnet32,
    "resnet44": resnet.resnet44,
    "resnet56": resnet.resnet56,
    "resnet110": resnet.resnet110,
    "plain20": resnet.plain20,
    "plain32": resnet.plain32,
    "plain44": resnet.plain44,
    "plain56": resnet.plain56,
    "plain110": resnet.plain110,
    "textcnn": TextCNN,
}


def register(name: str, factory: Callable[..., nn.Module]) -> None:
    """Add a model factory to the zoo under ``name``."""
    _REGISTRY[name] = factory


def available() -> list[str]:
    """Names of the models the zoo can build."""
    return sorted(_REGISTRY)


def build(name: str, **kwargs: Any) -> nn.Module:
    """Build the model called ``name`` with keyword options for its constructor."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(available())}.")
    return _REGISTRY[name](**kwargs)
