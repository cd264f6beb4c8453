"""Floor 4: layers. ``Module``, ``Parameter``, containers, ``init``, and the layers themselves.

Example:
    >>> import chainrule as cr
    >>> model = cr.nn.Sequential(cr.nn.Flatten(), cr.nn.Linear(784, 10))
    >>> model(cr.zeros(32, 1, 28, 28)).shape
    (32, 10)
"""

from . import init
from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .containers import *  # noqa: F403
from .containers import __all__ as _containers
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .dropout import *  # noqa: F403
from .dropout import __all__ as _dropout
from .embedding import *  # noqa: F403
from .embedding import __all__ as _embedding
from .hooks import RemovableHandle
from .linear import *  # noqa: F403
from .linear import __all__ as _linear
from .loss import *  # noqa: F403
from .loss import __all__ as _loss
from .module import Module
from .neurons import *  # noqa: F403
from .neurons import __all__ as _neurons
from .normalization import *  # noqa: F403
from .normalization import __all__ as _normalization
from .parameter import Parameter
from .pooling import *  # noqa: F403
from .pooling import __all__ as _pooling
from .recurrent import *  # noqa: F403
from .recurrent import __all__ as _recurrent
from .recurrent_cells import *  # noqa: F403
from .recurrent_cells import __all__ as _recurrent_cells
from .state_dict import IncompatibleKeys, StateDictError

__all__ = [
    "init", "Module", "Parameter", "RemovableHandle", "IncompatibleKeys", "StateDictError",
    *_containers, *_linear, *_activation, *_loss,
    *_neurons,
]  # fmt: skip
__all__ += [*_embedding, *_recurrent, *_recurrent_cells]
__all__ += [*_conv, *_pooling, *_normalization, *_dropout]
