"""Floor 1: raw CPU array kernels, no autograd — arrays in, arrays out.

Each kernel runs a numba-compiled loop nest when numba is importable and
``chainrule.backend.config.use_numba`` is on (``CHAINRULE_NO_NUMBA=1`` turns it off), and a
vectorised NumPy twin with the same signature otherwise (see ``_dispatch.py``). Layouts are NCHW
(``(N, C, L)`` in 1-D); float32 and float64.

Threads: pooling, batch norm and softmax kernels are numba ``prange`` loops over their outer
dimension. Convolutions split the batch into cache-sized slabs and run each slab (packing and
GEMM) on one core of a small thread pool with BLAS held to one thread (``_parallel.py``).

Memory: large outputs (convolutions, batch norm, element-wise kernels) come from a pool of
reused blocks (``_memory.py``), like PyTorch's GPU caching allocator; ``release_pool()`` hands
the idle ones back, and ``CHAINRULE_POOL_MB=0`` turns the pool off.
"""

from chainrule.kernels._dispatch import HAVE_NUMBA, use_numba
from chainrule.kernels._memory import pool_bytes, release_pool
from chainrule.kernels.adaptive_pool import (
    adaptive_avg_pool1d_backward,
    adaptive_avg_pool1d_forward,
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
)
from chainrule.kernels.batch_norm import (
    batch_norm_backward,
    batch_norm_forward_eval,
    batch_norm_forward_train,
)
from chainrule.kernels.conv import conv1d_backward, conv1d_forward, conv2d_backward, conv2d_forward
from chainrule.kernels.im2col import col2im, im2col
from chainrule.kernels.pool import (
    avg_pool1d_backward,
    avg_pool1d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool1d_backward,
    max_pool1d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from chainrule.kernels.softmax import (
    log_softmax_backward,
    log_softmax_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)

__all__ = [
    "HAVE_NUMBA",
    "use_numba",
    "release_pool",
    "pool_bytes",
    "im2col",
    "col2im",
    "conv2d_forward",
    "conv2d_backward",
    "conv1d_forward",
    "conv1d_backward",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "max_pool1d_forward",
    "max_pool1d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "avg_pool1d_forward",
    "avg_pool1d_backward",
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool1d_forward",
    "adaptive_avg_pool1d_backward",
    "batch_norm_forward_train",
    "batch_norm_forward_eval",
    "batch_norm_backward",
    "softmax_cross_entropy_forward",
    "softmax_cross_entropy_backward",
    "log_softmax_forward",
    "log_softmax_backward",
]
