"""Recurrent layers over whole sequences: ``RNN`` (tanh or ReLU), ``LSTM`` and ``GRU``.

Each layer and direction runs as one op (``F.lstm_layer`` and friends): backpropagation through
time happens inside that op, so a 1,000-step sequence is a handful of graph nodes. Constructor
arguments, parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), gate order and return
values are PyTorch's, so a ``state_dict`` copies across in either direction.

Variable-length batches: pass ``lengths`` (one per sequence) or a boolean ``mask``; padded steps
never reach the final states and their outputs are zero, as with PyTorch's packed sequences.

Truncated BPTT: carry the final states into the next window detached from the graph::

    state = None
    for x, y in windows:                       # consecutive chunks of one long sequence
        out, state = lstm(x, state)
        loss = criterion(head(out), y)
        opt.zero_grad(); loss.backward(); opt.step()
        state = tuple(s.detach() for s in state)   # GRU/RNN: state = state.detach()
"""

from __future__ import annotations

import math
from typing import Any

from .. import functional as F
from ..backend import get_array_module, get_rng
from ..creation import empty
from ..functional.recurrent import step_flags
from ..tensor import Tensor
from . import init
from ._checks import shape_of
from .module import Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _positive_int(value: Any, name: str, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}.")
    return value


def _inter_layer_dropout(x: Tensor, p: float) -> Tensor:
    """Inverted dropout with the package generator: zero with probability p, scale by 1/(1-p)."""
    keep = get_rng().random(x.shape) >= p
    mask = (keep / (1.0 - p)).astype(x.dtype)
    return F.mul(x, get_array_module(x.data).asarray(mask))


class RNNBase(Module):
    """Shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (see those for the arguments).

    ``mode`` is ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r}; available: {', '.join(_GATES)}.")
        self.mode = mode
        self.input_size = _positive_int(input_size, "input_size", name)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        self.num_layers = _positive_int(num_layers, "num_layers", name)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(f"{name}: dropout must be a number in [0, 1), got {dropout!r}.")
        if not 0 <= dropout < 1:
            raise ValueError(f"{name}: dropout must lie in [0, 1), got {dropout}.")
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                tail = f"_l{layer}{suffix}"
                setattr(self, "weight_ih" + tail, Parameter(empty(gates, layer_in, dtype=dtype)))
                setattr(self, "weight_hh" + tail, Parameter(empty(gates, hidden_size, dtype=dtype)))
                if bias:
                    setattr(self, "bias_ih" + tail, Parameter(empty(gates, dtype=dtype)))
                    setattr(self, "bias_hh" + tail, Parameter(empty(gates, dtype=dtype)))
        self.reset_parameters()
        if device is not None:
            self.to(device)

    @property
    def num_directions(self) -> int:
        """2 for a bidirectional layer, else 1."""
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """Does nothing; kept so that PyTorch code calling it runs unchanged."""

    def _weights(self, layer: int, direction: int) -> tuple[Any, ...]:
        tail = f"_l{layer}{'_reverse' if direction else ''}"
        w_ih, w_hh = getattr(self, "weight_ih" + tail), getattr(self, "weight_hh" + tail)
        if not self.bias:
            return w_ih, w_hh, None, None
        return w_ih, w_hh, getattr(self, "bias_ih" + tail), getattr(self, "bias_hh" + tail)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction: ``[weight_ih, weight_hh, bias_ih, bias_hh]``."""
        out = []
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                out.append([w for w in self._weights(layer, d) if w is not None])
        return out

    # ------------------------------------------------------------------------------ checks
    def _layout(self) -> str:
        return "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"

    def _check_input(self, x: Any) -> tuple[Tensor, bool]:
        shape = shape_of(x, self)
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            layout = self._layout().replace("input_size", str(self.input_size))
            hint = ""
            if len(shape) in (2, 3):
                hint = (
                    f" Hint: the input has {shape[-1]} features in its last axis; build the "
                    f"layer with input_size={shape[-1]} or project the input to "
                    f"{self.input_size} features."
                )
            raise ValueError(
                f"{self} expected input of shape {layout} (or unbatched (T, {self.input_size})), "
                f"got {shape}.{hint}"
            )
        if x.dtype.kind != "f":
            raise TypeError(
                f"{self} expected a floating-point input, got dtype {x.dtype}. Token ids go "
                "through an nn.Embedding first."
            )
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            raise TypeError(
                f"{self}: input dtype {x.dtype} differs from the weights' dtype {w.dtype}; "
                "convert one (x.float() or model.double())."
            )
        return x, len(shape) == 2

    def _check_state(self, s: Any, name: str, batch: int, unbatched: bool) -> Any:
        if s is None:
            return None
        rows = self.num_layers * self.num_directions
        want = (rows, self.hidden_size) if unbatched else (rows, batch, self.hidden_size)
        got = shape_of(s, f"{self} {name}")
        if got != want:
            layout = "(num_layers * num_directions, B, hidden_size)"
            if unbatched:
                layout = "(num_layers * num_directions, hidden_size)"
            raise ValueError(f"{self} expected {name} of shape {layout} = {want}, got {got}.")
        if s.dtype != self.weight_ih_l0.dtype:
            raise TypeError(
                f"{self}: {name} has dtype {s.dtype} but the weights have "
                f"{self.weight_ih_l0.dtype}."
            )
        return F.unsqueeze(s, 1) if unbatched else s

    def _flags(self, lengths: Any, mask: Any, T: int, B: int) -> Any:
        if mask is not None:
            m = mask.data if isinstance(mask, Tensor) else mask
            m = get_array_module(m).asarray(m)
            want = (B, T) if self.batch_first else (T, B)
            if tuple(m.shape) != want:
                layout = "(B, T)" if self.batch_first else "(T, B)"
                raise ValueError(f"{self} expected mask of shape {layout} = {want}, got {m.shape}.")
            mask = m.T if self.batch_first else m
        try:
            return step_flags(lengths, mask, T, B, str(self))
        except (TypeError, ValueError) as err:
            raise type(err)(f"{err} (input of {T} steps, batch of {B})") from None

    # ------------------------------------------------------------------------------ forward
    def _run_layers(
        self, x: Tensor, h0: Any, c0: Any, lengths: Any, mask: Any
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Time-major ``x (T, B, I)`` through every layer; returns ``(y, h_n, c_n)``."""
        T, B = x.shape[:2]
        flags = self._flags(lengths, mask, T, B)
        D = self.num_directions
        hs, cs = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                h = None if h0 is None else h0[k]
                w = self._weights(layer, d)
                if self.mode == "LSTM":
                    c = None if c0 is None else c0[k]
                    y, h_n, c_n = F.lstm_layer(layer_input, h, c, *w, mask=flags, reverse=d == 1)
                    cs.append(c_n)
                elif self.mode == "GRU":
                    y, h_n = F.gru_layer(layer_input, h, *w, mask=flags, reverse=d == 1)
                else:
                    act = "tanh" if self.mode == "RNN_TANH" else "relu"
                    y, h_n = F.rnn_layer(
                        layer_input, h, *w, nonlinearity=act, mask=flags, reverse=d == 1
                    )
                outs.append(y)
                hs.append(h_n)
            layer_input = outs[0] if D == 1 else F.cat(outs, axis=2)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                layer_input = _inter_layer_dropout(layer_input, self.dropout)
        h_all = F.stack(hs, axis=0)
        c_all = F.stack(cs, axis=0) if cs else None
        return layer_input, h_all, c_all

    def _forward(self, x: Any, h0: Any, c0: Any, lengths: Any, mask: Any) -> tuple[Any, ...]:
        x, unbatched = self._check_input(x)
        if unbatched:
            x = F.unsqueeze(x, 1)
        elif self.batch_first:
            x = F.transpose(x, 0, 1)
        T, B = x.shape[:2]
        h0 = self._check_state(h0, "h0", B, unbatched)
        c0 = self._check_state(c0, "c0", B, unbatched)
        y, h_n, c_n = self._run_layers(x, h0, c0, lengths, mask)
        if unbatched:
            y = F.squeeze(y, 1)
            h_n = F.squeeze(h_n, 1)
            c_n = None if c_n is None else F.squeeze(c_n, 1)
        elif self.batch_first:
            y = F.transpose(y, 0, 1)
        return y, h_n, c_n

    def forward(
        self, input: Tensor, hx: Any = None, lengths: Any = None, mask: Any = None
    ) -> tuple[Tensor, Any]:
        y, h_n, _ = self._forward(input, hx, None, lengths, mask)
        return y, h_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


_FORWARD_ARGS = """
    Args:
        input: ``(T, B, input_size)``, ``(B, T, input_size)`` with ``batch_first``, or unbatched
            ``(T, input_size)``.
        hx: initial state{state}; zeros when None.
        lengths: valid steps of each sequence ``(B,)``, each in ``[0, T]`` (packed-sequence
            semantics: padding never reaches the final states; outputs at padded steps are 0).
        mask: instead of ``lengths``, booleans ``(T, B)`` (``(B, T)`` with ``batch_first``), True at
            valid steps; an invalid step keeps the state and outputs zero.
"""


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` per layer and direction.

    Args:
        input_size: features of each input step.
        hidden_size: features of the hidden state.
        num_layers: stacked layers; layer ``k > 0`` reads the outputs of layer ``k - 1``.
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: learn ``b_ih`` and ``b_hh``. Default: True.
        batch_first: input and output are ``(B, T, features)``. Default: False.
        dropout: dropout probability on the outputs of every layer but the last (training only).
        bidirectional: add a layer reading the sequence backwards; outputs are concatenated.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: parameter dtype. Default: the package default (float32).

    Returns (forward):
        ``(output, h_n)``: output ``(T, B, D * hidden_size)`` (``D = 2`` if bidirectional) and the
        final states ``(num_layers * D, B, hidden_size)``.

    Example:
        >>> rnn = cr.nn.RNN(3, 5, num_layers=2)
        >>> out, h_n = rnn(cr.randn(7, 4, 3))
        >>> out.shape, h_n.shape
        ((7, 4, 5), (2, 4, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; available: tanh, relu.")
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
            num_layers, bias, batch_first, dropout, bidirectional, device, dtype,
        )  # fmt: skip
        self.nonlinearity = nonlinearity

    def forward(
        self, input: Tensor, hx: Tensor | None = None, lengths: Any = None, mask: Any = None
    ) -> tuple[Tensor, Tensor]:
        return super().forward(input, hx, lengths, mask)


RNN.forward.__doc__ = "Run the sequence; returns ``(output, h_n)``.\n" + _FORWARD_ARGS.format(
    state=" ``h0 (num_layers * D, B, hidden_size)``"
)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch's formulation.

    Per layer and direction, with gates in PyTorch's order ``i, f, g, o``::

        i, f, o = sigmoid(.), g = tanh(.)  of  W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
        dtype: as in ``RNN``.

    Returns (forward):
        ``(output, (h_n, c_n))`` with ``h_n`` and ``c_n`` of shape
        ``(num_layers * D, B, hidden_size)``.

    Example:
        >>> lstm = cr.nn.LSTM(3, 5, batch_first=True, bidirectional=True)
        >>> out, (h_n, c_n) = lstm(cr.randn(4, 7, 3), lengths=[7, 3, 5, 1])
        >>> out.shape, h_n.shape
        ((4, 7, 10), (2, 4, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, device, dtype,
        )  # fmt: skip

    def forward(
        self, input: Tensor, hx: Any = None, lengths: Any = None, mask: Any = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(
                    f"{self} expected hx = (h0, c0), a pair of tensors, got "
                    f"{type(hx).__name__}{'' if not hasattr(hx, 'shape') else tuple(hx.shape)}."
                )
            h0, c0 = hx
        y, h_n, c_n = self._forward(input, h0, c0, lengths, mask)
        return y, (h_n, c_n)


LSTM.forward.__doc__ = (
    "Run the sequence; returns ``(output, (h_n, c_n))``.\n"
    + _FORWARD_ARGS.format(state=" ``(h0, c0)``, each ``(num_layers * D, B, hidden_size)``")
)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's formulation.

    Per layer and direction, gates in the order ``r, z, n``::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
        dtype: as in ``RNN``.

    Returns (forward):
        ``(output, h_n)`` as in ``RNN``.

    Example:
        >>> gru = cr.nn.GRU(3, 5)
        >>> gru(cr.randn(7, 4, 3))[1].shape
        (1, 4, 5)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, device, dtype,
        )  # fmt: skip

    def forward(
        self, input: Tensor, hx: Tensor | None = None, lengths: Any = None, mask: Any = None
    ) -> tuple[Tensor, Tensor]:
        return super().forward(input, hx, lengths, mask)


GRU.forward.__doc__ = RNN.forward.__doc__
