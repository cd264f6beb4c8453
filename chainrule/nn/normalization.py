"""Batch normalisation layers: ``BatchNorm1d`` and ``BatchNorm2d`` (PyTorch's names, buffers and
state-dict keys: ``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``).

Training mode normalises by the batch statistics and updates the running estimates; evaluation
mode uses the running estimates, so one example gives the same output whatever batch it is in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..creation import ones, zeros
from ..tensor import Tensor, tensor
from . import init
from ._checks import expect_ndim, shape_of
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    _ndims: tuple[int, ...] = (4,)
    _layout = "(N, C, H, W)"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: str | None = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}.")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must lie in [0, 1] or be None, got {momentum!r}.")
        if eps <= 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}.")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device is not None:
            self.to(device)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.data[...] = 0
                self.running_var.data[...] = 1
                self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics, and the scale to 1 and the shift to 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, x: Tensor) -> None:
        expect_ndim(self, x, self._ndims, self._layout)
        shape = shape_of(x, self)
        if shape[1] != self.num_features:
            raise ValueError(
                f"{self} expected input with {self.num_features} channels, shape "
                f"{self._layout.replace('C', str(self.num_features), 1)}, got {shape} "
                f"({shape[1]} channels). Hint: build this layer with num_features={shape[1]}, or "
                f"make the previous layer output {self.num_features} channels."
            )

    def forward(self, x: Tensor) -> Tensor:
        return self.normalize(x)

    def normalize(self, x: Tensor, relu: bool = False, residual: Tensor | None = None) -> Tensor:
        """``forward``, optionally plus ``residual`` and then a ReLU, in one pass (no hooks run).

        ``bn.normalize(x, relu=True)`` equals ``relu(bn(x))`` with one pass over the activations
        fewer each way, and ``bn.normalize(x, True, s)`` equals ``relu(bn(x) + s)`` with one pass
        fewer forward; the ResNet blocks use both.
        """
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average over all batches so far
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
            relu,
            residual,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of each channel of an NCHW batch, over the batch and all pixels.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``, with the batch statistics in training
    (running estimates updated with ``momentum`` and the unbiased variance) and the running ones
    in evaluation.

    Args:
        num_features: channels ``C``.
        eps: added to the variance. Default: 1e-5.
        momentum: weight of each new batch in the running estimates; None for a cumulative
            average over all batches. Default: 0.1.
        affine: learn ``weight`` (init 1) and ``bias`` (init 0). Default: True.
        track_running_stats: keep running estimates; if False, evaluation uses batch statistics
            too. Default: True.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: dtype of parameters and running statistics.
        bias: with ``affine``, also learn the shift (keyword only, as in PyTorch). Default: True.

    Shape:
        ``(N, C, H, W)`` -> same.

    Example:
        >>> bn = cr.nn.BatchNorm2d(16)
        >>> bn(cr.randn(8, 16, 5, 5)).shape
        (8, 16, 5, 5)
        >>> sorted(bn.state_dict())
        ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of each feature of ``(N, C)`` or each channel of ``(N, C, L)``.

    Arguments as in ``BatchNorm2d``.

    Example:
        >>> cr.nn.BatchNorm1d(10)(cr.randn(4, 10)).shape
        (4, 10)
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"
