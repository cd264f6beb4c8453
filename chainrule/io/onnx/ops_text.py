"""ONNX converters for embeddings and recurrent layers (RNN, LSTM, GRU).

chainrule runs one recurrent layer in one direction as a single op whose output stacks the outputs
and the final states, ``(T + k, B, H)``; it becomes one ONNX ``RNN``/``LSTM``/``GRU`` node whose
outputs are concatenated the same way. Gates are stored in PyTorch's order (LSTM ``i, f, g, o``,
GRU ``r, z, n``); ONNX wants LSTM ``i, o, f, c`` and GRU ``z, r, h``, so the weight rows are
gathered into that order in the graph (the initializers keep their ``state_dict`` layout).
"""

from __future__ import annotations

import numpy as np

from .graph import OpContext
from .registry import converter

__all__: list[str] = []

# for each ONNX gate, the index of the chainrule gate block that feeds it
_GATE_ORDER = {"lstm": (0, 3, 1, 2), "gru": (1, 0, 2), "rnn_tanh": (0,), "rnn_relu": (0,)}
_ONNX_OP = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


@converter("Embedding", value_params=("ids",))
def _embedding(c: OpContext) -> None:
    # rows of the weight picked by the ids; padding_idx only matters for the gradient, but a
    # later mask "ids != padding_idx" made outside autograd can be rebuilt from it
    ids = c.param_value("ids")
    c.result("Gather", [c.x(0), ids], axis=0)
    pad = c.params.get("padding_idx")
    if pad is not None and c.derived is not None:
        c.derived.add_padded_lookup(ids, c.params.get("ids"), c.params2.get("ids"), pad)


def _gates(c: OpContext, value: str, order: tuple[int, ...], hidden: int) -> str:
    """``value`` (rows ``G * hidden`` first) with its gate blocks in ONNX's order."""
    if order == tuple(range(len(order))):
        return value
    rows = np.concatenate([np.arange(g * hidden, (g + 1) * hidden) for g in order])
    return c.node("Gather", [value, c.const(rows, np.int64)], axis=0)


@converter("RecurrentLayer")
def _recurrent(c: OpContext) -> None:
    mode = c.params.get("mode", "lstm")
    if mode not in _ONNX_OP:
        raise c.fail(f"unknown recurrent mode {mode!r}.")
    if c.params.get("active") is not None or c.params2.get("active") is not None:
        raise c.fail(
            "variable-length batches (lengths or mask) are not exported; export the model run "
            "on full-length sequences."
        )
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = (c.x(i) for i in range(7))
    hidden = c.shape(4)[1]
    order = _GATE_ORDER[mode]
    zero = c.ints([0])
    w = c.node("Unsqueeze", [_gates(c, w_ih, order, hidden), zero])
    r = c.node("Unsqueeze", [_gates(c, w_hh, order, hidden), zero])
    inputs = [x, w, r]
    if b_ih:
        both = c.node("Concat", [_gates(c, b_ih, order, hidden), _gates(c, b_hh, order, hidden)],
                      axis=0)  # fmt: skip
        inputs.append(c.node("Unsqueeze", [both, zero]))
    else:
        inputs.append("")
    inputs.append("")  # sequence_lens: every row runs all T steps
    inputs.append(c.node("Unsqueeze", [h0, zero]) if h0 else "")
    if mode == "lstm":
        inputs.append(c.node("Unsqueeze", [c0, zero]) if c0 else "")
    attrs: dict[str, object] = {
        "hidden_size": int(hidden),
        "direction": "reverse" if c.params.get("reverse", False) else "forward",
    }
    if mode == "gru":
        attrs["linear_before_reset"] = 1  # n = tanh(W_in x + b_in + r (W_hn h + b_hn))
    if mode.startswith("rnn"):
        attrs["activations"] = ["Tanh" if mode == "rnn_tanh" else "Relu"]
    n_out = 3 if mode == "lstm" else 2
    outs = [c.tmp(name) for name in ("Y", "Y_h", "Y_c")[:n_out]]
    c.graph.node(_ONNX_OP[mode], inputs, outs, **attrs)
    y = c.node("Squeeze", [outs[0], c.ints([1])])  # (T, 1, B, H) -> (T, B, H)
    c.result("Concat", [y, *outs[1:]], axis=0)  # the final states are (1, B, H) each


@converter("ConvReluMaxOverTime", value_params=("valid",))
def _conv_relu_max_over_time(c: OpContext) -> None:
    # x (N, L, D); per width: Conv1d, windows made only of padding out of the max, then ReLU
    xt = c.node("Transpose", [c.x(0)], perm=[0, 2, 1])
    valid = c.param_value("valid")
    fixed = c.graph.initializers.get(valid)
    counts = None
    if fixed is None or not bool(np.all(fixed)):
        flags = c.node("Cast", [valid], to=_onnx_type(c.out_dtype))
        counts = c.node("Unsqueeze", [flags, c.ints([1])])  # (N, 1, L)
    pooled = []
    for k in range(1, len(c.inputs), 2):
        width = int(c.shape(k)[2])
        y = c.node("Conv", [xt, c.x(k), c.x(k + 1)], kernel_shape=[width])
        if counts is not None:
            ones = c.const(np.ones((1, 1, width)))
            tokens = c.node("Conv", [counts, ones], kernel_shape=[width])
            has_token = c.node("Greater", [tokens, c.const(0.0)])
            y = c.node("Where", [has_token, y, c.const(-np.inf)])
        # relu(max_t y); a row without a valid window has max -inf and gives 0, as chainrule
        pooled.append(c.node("Relu", [c.reduce("ReduceMax", y, [2], keepdims=False)]))
    if len(pooled) == 1:
        c.result("Identity", pooled)
    else:
        c.result("Concat", pooled, axis=1)


def _onnx_type(dtype: np.dtype) -> int:
    from onnx import helper

    return int(helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
