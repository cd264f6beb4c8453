"""Floor 5: the model zoo. ``chainrule.models.build(name)`` makes any of them."""

from .mlp import MLP
from .zoo import available, build, register

__all__ = ["MLP", "available", "build", "register"]
