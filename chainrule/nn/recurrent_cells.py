"""Single-step recurrent cells: ``RNNCell``, ``LSTMCell``, ``GRUCell``.

A cell advances one step; loop over time yourself when each step needs custom logic (attention,
sampling, teacher forcing). For whole sequences ``nn.LSTM`` and friends are much faster: they run
all steps inside one op. Parameter names (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``)
and gate order are PyTorch's.
"""

from __future__ import annotations

import math
from typing import Any

from .. import functional as F
from ..creation import empty
from ..tensor import Tensor
from . import init
from ._checks import shape_of
from .module import Module
from .parameter import Parameter

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """Parameters and input checks shared by the cells; ``num_chunks`` gates of ``hidden_size``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}.")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gates, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gates, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gates, dtype=dtype))
            self.bias_hh = Parameter(empty(gates, dtype=dtype))
        else:
            self.bias_ih = self.bias_hh = None
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self) -> tuple[Any, ...]:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _check_input(self, x: Any) -> tuple[Tensor, bool]:
        shape = shape_of(x, self)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ValueError(
                f"{self} expected input of shape (B, {self.input_size}) or ({self.input_size},), "
                f"got {shape}."
            )
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(
                f"{self}: input dtype {x.dtype} differs from the weights' dtype "
                f"{self.weight_ih.dtype}; convert one (x.float() or cell.double())."
            )
        unbatched = len(shape) == 1
        return (F.unsqueeze(x, 0) if unbatched else x), unbatched

    def _check_state(self, s: Any, name: str, batch: int, unbatched: bool) -> Any:
        if s is None:
            return None
        want = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        got = shape_of(s, f"{self} {name}")
        if got != want:
            layout = "(hidden_size,)" if unbatched else "(B, hidden_size)"
            raise ValueError(f"{self} expected {name} of shape {layout} = {want}, got {got}.")
        return F.unsqueeze(s, 0) if unbatched else s

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        return s


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``.

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: learn ``b_ih`` and ``b_hh``. Default: True.
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: parameter dtype. Default: the package default (float32).

    Shape:
        input ``(B, input_size)`` (or unbatched ``(input_size,)``), ``hx (B, hidden_size)`` or
        None (zeros) -> ``h' (B, hidden_size)``.

    Example:
        >>> cell = cr.nn.RNNCell(3, 5)
        >>> cell(cr.randn(4, 3)).shape
        (4, 5)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: unknown nonlinearity {nonlinearity!r}; available: tanh, relu."
            )
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched = self._check_input(input)
        h = self._check_state(hx, "hx", x.shape[0], unbatched)
        out = F.rnn_cell(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        return F.squeeze(out, 0) if unbatched else out

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTMCell(RNNCellBase):
    """One LSTM step (gates ``i, f, g, o`` as in ``nn.LSTM``): returns ``(h', c')``.

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden and cell states.
        bias: learn ``b_ih`` and ``b_hh``. Default: True.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: parameter dtype. Default: the package default (float32).

    Shape:
        input ``(B, input_size)``, ``hx = (h, c)`` each ``(B, hidden_size)`` or None (zeros) ->
        ``(h', c')`` each ``(B, hidden_size)``.

    Example:
        >>> cell = cr.nn.LSTMCell(3, 5)
        >>> h, c = cell(cr.randn(4, 3))
        >>> h.shape, c.shape
        ((4, 5), (4, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        x, unbatched = self._check_input(input)
        h = c = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{self} expected hx = (h, c), a pair of tensors.")
            h = self._check_state(hx[0], "h", x.shape[0], unbatched)
            c = self._check_state(hx[1], "c", x.shape[0], unbatched)
        h_new, c_new = F.lstm_cell(x, h, c, *self._weights())
        if unbatched:
            return F.squeeze(h_new, 0), F.squeeze(c_new, 0)
        return h_new, c_new


class GRUCell(RNNCellBase):
    """One GRU step (gates ``r, z, n`` as in ``nn.GRU``, ``b_hn`` inside the reset product).

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: learn ``b_ih`` and ``b_hh``. Default: True.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: parameter dtype. Default: the package default (float32).

    Shape:
        input ``(B, input_size)``, ``hx (B, hidden_size)`` or None -> ``h' (B, hidden_size)``.

    Example:
        >>> cr.nn.GRUCell(3, 5)(cr.randn(4, 3)).shape
        (4, 5)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched = self._check_input(input)
        h = self._check_state(hx, "hx", x.shape[0], unbatched)
        out = F.gru_cell(x, h, *self._weights())
        return F.squeeze(out, 0) if unbatched else out
