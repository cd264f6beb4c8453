"""Recurrent layers as single differentiable ops: one ``Function`` per layer and direction.

A layer run over a whole sequence is one node of the graph, not ``T`` nodes per gate: the forward
pass and backpropagation through time live in ``chainrule.kernels.recurrent`` (one GEMM for the
input projection of all steps, one GEMM per step for all gates, fused gate nonlinearities, weight
gradients as one GEMM over all steps). The node's output packs the outputs and the final states,
``(T + k, B, H)``; the functions below slice it into PyTorch's return values, so the graph stays
small and backward through 1,000 steps needs no recursion.

Variable-length batches: ``lengths[b]`` valid steps for row ``b`` (PyTorch's packed sequences), or
a ``(T, B)`` boolean ``mask``. At an invalid step a row keeps its state and outputs zero, so padding
never reaches the final states and the reverse direction of each row starts at its last valid step.

Gate order follows PyTorch, so weights copy across: LSTM ``i, f, g, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Context, Function
from ..backend import get_array_module
from ..tensor import Tensor
from .indexing import getitem
from .shape import unsqueeze

# gates stacked per mode, as in chainrule.kernels.recurrent (imported on first use: it loads numba)
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}

__all__ = ["rnn_layer", "lstm_layer", "gru_layer", "rnn_cell", "lstm_cell", "gru_cell"]


def _kernels() -> Any:
    from ..kernels import recurrent

    return recurrent


class RecurrentLayer(Function):
    """One recurrent layer in one direction; the output stacks ``y`` (T rows), ``h_n`` and, for
    an LSTM, ``c_n``. Inputs: ``x, h0, c0, w_ih, w_hh, b_ih, b_hh`` (``c0`` None unless LSTM)."""

    @staticmethod
    def forward(
        ctx: Context,
        x: Any,
        h0: Any,
        c0: Any,
        w_ih: Any,
        w_hh: Any,
        b_ih: Any,
        b_hh: Any,
        mode: str = "lstm",
        active: Any = None,
        reverse: bool = False,
    ) -> Any:
        T, B = x.shape[:2]
        H = w_hh.shape[1]
        extra = 2 if mode == "lstm" else 1
        packed = ctx.xp.empty((T + extra, B, H), dtype=x.dtype)
        _, h_n, c_n, cache = _kernels().recurrent_forward(
            mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, active, reverse, out=packed[:T]
        )
        packed[T] = h_n
        if mode == "lstm":
            packed[T + 1] = c_n
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(cache)
        ctx.T, ctx.mode, ctx.has_bias = T, mode, b_ih is not None
        return packed

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        (cache,) = ctx.saved
        T, need = ctx.T, ctx.needs_input_grad
        dc_n = grad[T + 1] if ctx.mode == "lstm" else None
        dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = _kernels().recurrent_backward(
            cache,
            grad[:T],
            grad[T],
            dc_n,
            need_dx=need[0],
            need_dweights=any(need[3:]),
            has_bias=ctx.has_bias,
        )
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh


def _array(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _host(value: Any) -> np.ndarray:
    """A NumPy array of a Tensor, NumPy or CuPy array, or list (lengths and masks are small)."""
    arr = _array(value)
    if not isinstance(arr, np.ndarray) and hasattr(arr, "get"):
        arr = arr.get()
    return np.asarray(arr)


def step_flags(lengths: Any, mask: Any, T: int, B: int, where: str) -> np.ndarray | None:
    """``(T, B)`` uint8 step flags from ``lengths`` (B,) or a time-major ``mask`` (T, B).

    Returns None when every step of every row is valid (the fast path).

    Raises:
        ValueError: a length outside ``[0, T]``, or a lengths/mask shape that does not fit.
        TypeError: non-integer lengths.
    """
    if lengths is not None and mask is not None:
        raise ValueError(f"{where}: pass lengths or mask, not both.")
    if lengths is not None:
        lens = _host(lengths)
        if lens.dtype.kind not in "iu":
            if lens.dtype.kind == "f" and lens.size and np.all(lens == np.round(lens)):
                lens = lens.astype(np.int64)
            elif lens.size:
                raise TypeError(f"{where}: lengths must be integers, got dtype {lens.dtype}.")
            else:
                lens = lens.astype(np.int64)
        if lens.shape != (B,):
            raise ValueError(
                f"{where}: lengths must have shape ({B},), one per sequence of the batch, got "
                f"{lens.shape}."
            )
        if B and (lens.max() > T or lens.min() < 0):
            bad = int(lens.max()) if lens.max() > T else int(lens.min())
            raise ValueError(
                f"{where}: lengths must lie in [0, {T}] for a sequence of length {T}, got {bad} "
                f"(lengths {lens.tolist()}). A length longer than the sequence reads past its end."
            )
        if B == 0 or lens.min() == T:
            return None
        return (np.arange(T)[:, None] < lens[None, :]).astype(np.uint8)
    if mask is not None:
        m = _host(mask)
        if m.shape != (T, B):
            raise ValueError(
                f"{where}: mask must have shape (T, B) = ({T}, {B}) (time-major), got {m.shape}."
            )
        if m.dtype != np.bool_ and not np.isin(m, (0, 1)).all():
            raise ValueError(f"{where}: mask must hold booleans or 0/1 values.")
        m = np.ascontiguousarray(m, dtype=np.uint8)
        return None if m.all() else m
    return None


def _check(
    where: str,
    mode: str,
    x: Any,
    h0: Any,
    c0: Any,
    w_ih: Any,
    w_hh: Any,
    b_ih: Any,
    b_hh: Any,
) -> None:
    G = GATES[mode]
    if x.ndim != 3:
        raise ValueError(f"{where}: expected input of shape (T, B, input_size), got {x.shape}.")
    if x.dtype.kind != "f":
        raise TypeError(f"{where}: input must be floating point, got dtype {x.dtype}.")
    if w_hh.ndim != 2 or w_hh.shape[0] != G * w_hh.shape[1]:
        raise ValueError(
            f"{where}: weight_hh must have shape ({G}*hidden_size, hidden_size), got {w_hh.shape}."
        )
    T, B, I = x.shape
    H = w_hh.shape[1]
    if tuple(w_ih.shape) != (G * H, I):
        raise ValueError(
            f"{where}: weight_ih must have shape ({G * H}, {I}) for input of shape {x.shape} "
            f"(T, B, input_size={I}), got {w_ih.shape}."
        )
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None and tuple(b.shape) != (G * H,):
            raise ValueError(f"{where}: {name} must have shape ({G * H},), got {b.shape}.")
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{where}: pass both biases or neither.")
    for name, s in (("h0", h0), ("c0", c0)):
        if s is not None and tuple(s.shape) != (B, H):
            raise ValueError(
                f"{where}: {name} must have shape (B, hidden_size) = ({B}, {H}), got {s.shape}."
            )
    for name, a in (("weight_ih", w_ih), ("weight_hh", w_hh), ("h0", h0), ("c0", c0),
                    ("bias_ih", b_ih), ("bias_hh", b_hh)):  # fmt: skip
        if a is not None and a.dtype != x.dtype:
            raise TypeError(
                f"{where}: {name} has dtype {a.dtype} but the input has dtype {x.dtype}; convert "
                "one of them (e.g. model.double() or x.float())."
            )


def _run(
    where: str,
    mode: str,
    x: Tensor,
    h0: Tensor | None,
    c0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    lengths: Any,
    mask: Any,
    reverse: bool,
) -> tuple[Tensor, ...]:
    _check(where, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    T, B, _ = x.shape
    H = w_hh.shape[1]
    if h0 is None:
        h0 = Tensor._make(_zeros_like_state(x, B, H))
    if mode == "lstm" and c0 is None:
        c0 = Tensor._make(_zeros_like_state(x, B, H))
    active = step_flags(lengths, mask, T, B, where)
    packed = RecurrentLayer.apply(
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, active=active, reverse=reverse
    )
    if mode == "lstm":
        return getitem(packed, slice(0, T)), getitem(packed, T), getitem(packed, T + 1)
    return getitem(packed, slice(0, T)), getitem(packed, T)


def _zeros_like_state(x: Tensor, B: int, H: int) -> Any:
    data = x.data
    return get_array_module(data).zeros((B, H), dtype=data.dtype)


def lstm_layer(
    x: Tensor,
    h0: Tensor | None,
    c0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    lengths: Any = None,
    mask: Any = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer in one direction over a time-major sequence.

    ``i, f, g, o = σ, σ, tanh, σ (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (split in that order),
    ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``.

    Args:
        x: input ``(T, B, input_size)``.
        h0: initial hidden state ``(B, H)``, or None for zeros.
        c0: initial cell state ``(B, H)``, or None for zeros.
        w_ih: ``(4H, input_size)``.
        w_hh: ``(4H, H)``.
        b_ih: ``(4H,)`` or None (then ``b_hh`` must be None too).
        b_hh: ``(4H,)`` or None.
        lengths: valid steps per row ``(B,)``, each in ``[0, T]``; or None.
        mask: ``(T, B)`` booleans, True at valid steps (alternative to ``lengths``).
        reverse: run from the last (valid) step to the first.

    Returns:
        ``(y, h_n, c_n)``: outputs ``(T, B, H)`` (zero at padded steps) and the final states.

    Example:
        >>> x, w_ih, w_hh = cr.randn(5, 2, 3), cr.randn(8, 3), cr.randn(8, 2)
        >>> [t.shape for t in cr.functional.lstm_layer(x, None, None, w_ih, w_hh)]
        [(5, 2, 2), (2, 2), (2, 2)]
    """
    return _run("lstm_layer", "lstm", x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, mask, reverse)


def gru_layer(
    x: Tensor,
    h0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    lengths: Any = None,
    mask: Any = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One GRU layer in one direction: ``r, z = σ(...)``, ``n = tanh(W_in x + b_in + r (W_hn h +
    b_hn))``, ``h_t = (1 - z) n + z h_{t-1}``.

    Arguments as in ``lstm_layer`` with ``3H`` gate rows (``r, z, n``) and no cell state.

    Returns:
        ``(y, h_n)``: outputs ``(T, B, H)`` and the final hidden state ``(B, H)``.
    """
    return _run("gru_layer", "gru", x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths, mask, reverse)


def rnn_layer(
    x: Tensor,
    h0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    nonlinearity: str = "tanh",
    lengths: Any = None,
    mask: Any = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One Elman RNN layer in one direction: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Args:
        nonlinearity: ``'tanh'`` or ``'relu'``.
        Others: as in ``lstm_layer`` with ``H`` gate rows and no cell state.

    Returns:
        ``(y, h_n)``: outputs ``(T, B, H)`` and the final hidden state ``(B, H)``.
    """
    mode = _rnn_mode(nonlinearity, "rnn_layer")
    return _run("rnn_layer", mode, x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths, mask, reverse)


def _rnn_mode(nonlinearity: str, where: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{where}: unknown nonlinearity {nonlinearity!r}; available: tanh, relu.")
    return f"rnn_{nonlinearity}"


def _cell(where: str, mode: str, x: Tensor, h: Any, c: Any, weights: tuple[Any, ...]) -> Any:
    """One step of a layer: the sequence op with ``T = 1``."""
    if x.ndim != 2:
        raise ValueError(f"{where}: expected input of shape (B, input_size), got {x.shape}.")
    seq = unsqueeze(x, 0)
    out = _run(where, mode, seq, h, c, *weights, None, None, False)
    if mode == "lstm":
        return out[1], out[2]
    return out[1]


def lstm_cell(
    x: Tensor,
    h: Tensor | None,
    c: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step on ``x (B, input_size)``; returns ``(h', c')``, each ``(B, H)``."""
    return _cell("lstm_cell", "lstm", x, h, c, (w_ih, w_hh, b_ih, b_hh))


def gru_cell(
    x: Tensor,
    h: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step on ``x (B, input_size)``; returns ``h' (B, H)``."""
    return _cell("gru_cell", "gru", x, h, None, (w_ih, w_hh, b_ih, b_hh))


def rnn_cell(
    x: Tensor,
    h: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman RNN step on ``x (B, input_size)``; returns ``h' (B, H)``."""
    mode = _rnn_mode(nonlinearity, "rnn_cell")
    return _cell("rnn_cell", mode, x, h, None, (w_ih, w_hh, b_ih, b_hh))
