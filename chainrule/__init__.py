"""chainrule: a deep-learning framework built from first principles.

Backpropagation is the chain rule evaluated by dynamic programming over the computation graph;
chainrule records operations on NumPy arrays and asks that graph for gradients. The public API
follows PyTorch's names (``cr.tensor``, ``cr.nn.Linear``, ``cr.optim.SGD``); the training loop
follows Keras (``fit``).
"""

import importlib as _importlib
import os as _os

# OpenBLAS keeps its worker threads spinning for about 2**28 cycles (~0.1 s) after each
# multi-threaded GEMM; in a network that mixes BLAS calls with chainrule's own kernel threads, those
# spinning workers take the cores the convolution slabs need (measured on 2 cores: a training step
# of the BENCHMARKS.md `cnn` took 94-104 ms with the default and 68-72 ms with 2**18 cycles, while
# the MLP's step did not change). OpenBLAS reads this once, when NumPy loads it: it takes effect
# only if chainrule is imported before NumPy (as the `chainrule` command does); an explicit
# setting wins.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "18")

from . import functional, nn, optim
from .autograd import (
    Function,
    GradcheckError,
    detect_anomaly,
    enable_grad,
    grad,
    gradcheck,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import (
    config,
    get_rng,
    get_rng_state,
    manual_seed,
    set_default_dtype,
    set_rng_state,
)
from .creation import *  # noqa: F403
from .creation import __all__ as _creation
from .functional import *  # noqa: F403
from .functional import __all__ as _functional
from .tensor import Tensor, tensor

__version__ = "0.1.0"

float32, float64, int64, int32, bool_ = "float32", "float64", "int64", "int32", "bool"

_LAZY = ("data", "models", "train", "kernels", "io", "viz", "experiments", "cli")

__all__ = [
    "Function", "GradcheckError", "Tensor", "config", "detect_anomaly", "enable_grad",
    "functional", "get_rng", "get_rng_state", "grad", "gradcheck", "is_anomaly_enabled",
    "is_grad_enabled", "manual_seed", "nn", "no_grad", "optim", "set_default_dtype",
    "set_grad_enabled", "set_rng_state", "tensor", "float32", "float64", "int64", "int32", "bool_",
    *_creation, *_functional,
]  # fmt: skip


def __getattr__(name: str):  # noqa: ANN202  (PEP 562: heavy sub-packages load on first use)
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
