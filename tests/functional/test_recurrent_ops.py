"""Recurrent ops (F.lstm_layer, gru_layer, rnn_layer and the cells): gradcheck, PyTorch, errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import functional as F
from chainrule.backend import config

MODES = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _tensors(mode, T=4, B=3, I=3, H=2, dtype="float64", seed=0, scale=0.6):
    rng = np.random.default_rng(seed)
    G = GATES[mode]
    shapes = [(T, B, I), (B, H), (B, H), (G * H, I), (G * H, H), (G * H,), (G * H,)]
    arrays = [rng.standard_normal(s) * (scale if k >= 3 else 1.0) for k, s in enumerate(shapes)]
    return [cr.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]


def _layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, **kw):
    if mode == "lstm":
        return F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, **kw)
    if mode == "gru":
        return F.gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh, **kw)
    return F.rnn_layer(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=mode[4:], **kw)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_gradcheck_with_lengths(mode, reverse):
    ts = _tensors(mode)
    if mode != "lstm":
        ts[2].requires_grad_(False)

    def fn(*args):
        return _layer(mode, *args, lengths=[4, 1, 3], reverse=reverse)

    assert cr.gradcheck(fn, ts)


@pytest.mark.parametrize("mode", MODES)
def test_layer_gradcheck_without_bias_and_numpy_path(mode):
    ts = _tensors(mode, T=3, B=2)
    old = config.use_numba
    config.use_numba = False
    try:

        def fn(x, h0, c0, w_ih, w_hh):
            return _layer(mode, x, h0, c0 if mode == "lstm" else None, w_ih, w_hh, None, None,
                          mask=np.array([[1, 1], [1, 0], [0, 1]], dtype=bool))  # fmt: skip

        assert cr.gradcheck(fn, ts[:5])
    finally:
        config.use_numba = old


def test_cells_gradcheck():
    x, h, c, w_ih, w_hh, b_ih, b_hh = _tensors("lstm")
    assert cr.gradcheck(lambda *a: F.lstm_cell(*a), [x[0], h, c, w_ih, w_hh, b_ih, b_hh])
    x, h, _, w_ih, w_hh, b_ih, b_hh = _tensors("gru")
    assert cr.gradcheck(lambda *a: F.gru_cell(*a), [x[0], h, w_ih, w_hh, b_ih, b_hh])
    x, h, _, w_ih, w_hh, b_ih, b_hh = _tensors("rnn_tanh")
    assert cr.gradcheck(lambda *a: F.rnn_cell(*a), [x[0], h, w_ih, w_hh, b_ih, b_hh])


def test_cell_is_one_step_of_the_layer():
    x, h, c, w_ih, w_hh, b_ih, b_hh = _tensors("lstm", T=1)
    y, h_n, c_n = F.lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh)
    h1, c1 = F.lstm_cell(x[0], h, c, w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_array_equal(h1.data, h_n.data)
    np.testing.assert_array_equal(c1.data, c_n.data)
    np.testing.assert_array_equal(y.data[0], h_n.data)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_padding_never_leaks(mode, reverse):
    """Changing padded inputs changes nothing; the final state equals the unpadded run's."""
    T, lengths = 6, [6, 2, 4]
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _tensors(mode, T=T)
    c0 = c0 if mode == "lstm" else None
    out = _layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=lengths, reverse=reverse)
    noisy = x.data.copy()
    for b, n in enumerate(lengths):
        noisy[n:, b] = 1e3
    out2 = _layer(mode, cr.tensor(noisy), h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=lengths,
                  reverse=reverse)  # fmt: skip
    for a, b in zip(out, out2, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    y = out[0].data
    for b, n in enumerate(lengths):
        assert np.all(y[n:, b] == 0)
        # the same row alone, cut to its length
        one = _layer(mode, x[:n, b : b + 1], h0[b : b + 1], None if c0 is None else c0[b : b + 1],
                     w_ih, w_hh, b_ih, b_hh, reverse=reverse)  # fmt: skip
        np.testing.assert_allclose(y[:n, b], one[0].data[:, 0], rtol=1e-12, atol=1e-14)
        for k in range(1, len(one)):
            np.testing.assert_allclose(out[k].data[b], one[k].data[0], rtol=1e-12, atol=1e-14)


def test_mask_equals_lengths():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _tensors("lstm", T=5)
    lengths = np.array([5, 2, 3])
    mask = np.arange(5)[:, None] < lengths[None, :]
    a = F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=cr.tensor(lengths))
    b = F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask=mask)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u.data, v.data)


def _torch_layer(torch, mode, I, H):
    if mode == "lstm":
        return torch.nn.LSTM(I, H)
    if mode == "gru":
        return torch.nn.GRU(I, H)
    return torch.nn.RNN(I, H, nonlinearity=mode[4:])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layer_matches_torch_packed(mode, dtype):
    torch = pytest.importorskip("torch")
    T, B, I, H = 7, 4, 5, 6
    lengths = [7, 3, 5, 1]
    ts = _tensors(mode, T, B, I, H, dtype=dtype, seed=2)
    m = _torch_layer(torch, mode, I, H).to(getattr(torch, dtype))
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    with torch.no_grad():
        for name, t in zip(names, ts[3:], strict=True):
            getattr(m, name).copy_(torch.from_numpy(t.data))
    tx = torch.from_numpy(ts[0].data.copy()).requires_grad_()
    th0 = torch.from_numpy(ts[1].data.copy())[None].requires_grad_()
    tc0 = torch.from_numpy(ts[2].data.copy())[None].requires_grad_()
    packed = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=False)
    out, state = m(packed, (th0, tc0) if mode == "lstm" else th0)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    states = list(state) if mode == "lstm" else [state]
    c0 = ts[2] if mode == "lstm" else None
    mine = _layer(mode, ts[0], ts[1], c0, *ts[3:], lengths=lengths)
    rng = np.random.default_rng(5)
    gs = [rng.standard_normal(o.shape).astype(dtype) for o in mine]
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(mine[0].data, out.detach().numpy(), **tol)
    for a, s in zip(mine[1:], states, strict=True):
        np.testing.assert_allclose(a.data, s.detach().numpy()[0], **tol)
    total = sum((o * cr.tensor(g)).sum() for o, g in zip(mine, gs, strict=True))
    total.backward()
    ttotal = (out * torch.from_numpy(gs[0])).sum()
    for s, g in zip(states, gs[1:], strict=True):
        ttotal = ttotal + (s[0] * torch.from_numpy(g)).sum()
    ttotal.backward()
    np.testing.assert_allclose(ts[0].grad.data, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(ts[1].grad.data, th0.grad.numpy()[0], **tol)
    if mode == "lstm":
        np.testing.assert_allclose(ts[2].grad.data, tc0.grad.numpy()[0], **tol)
    for name, t in zip(names, ts[3:], strict=True):
        np.testing.assert_allclose(t.grad.data, getattr(m, name).grad.numpy(), **tol)


def test_cells_match_torch():
    torch = pytest.importorskip("torch")
    B, I, H = 3, 4, 5
    rng = np.random.default_rng(0)
    x, h, c = (rng.standard_normal(s) for s in [(B, I), (B, H), (B, H)])
    for kind in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
        if kind == "lstm":
            m = torch.nn.LSTMCell(I, H).double()
        elif kind == "gru":
            m = torch.nn.GRUCell(I, H).double()
        else:
            m = torch.nn.RNNCell(I, H, nonlinearity=kind[4:]).double()
        ws = [cr.tensor(p.detach().numpy().copy()) for p in m.parameters()]
        if kind == "lstm":
            ref = [
                t.detach().numpy()
                for t in m(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
            ]
            got = [t.data for t in F.lstm_cell(cr.tensor(x), cr.tensor(h), cr.tensor(c), *ws)]
        elif kind == "gru":
            ref = [m(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()]
            got = [F.gru_cell(cr.tensor(x), cr.tensor(h), *ws).data]
        else:
            ref = [m(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()]
            got = [F.rnn_cell(cr.tensor(x), cr.tensor(h), *ws, nonlinearity=kind[4:]).data]
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_float32_stays_float32():
    ts = _tensors("gru", dtype="float32")
    y, h = F.gru_layer(ts[0], ts[1], *ts[3:])
    assert y.dtype == np.float32 and h.dtype == np.float32
    (y.sum() + h.sum()).backward()
    assert all(t.grad.dtype == np.float32 for t in (ts[0], ts[1], *ts[3:]))


def test_zero_initial_state_by_default():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _tensors("lstm")
    a = F.lstm_layer(x, None, None, w_ih, w_hh, b_ih, b_hh)
    zeros = cr.zeros(*h0.shape, dtype="float64")
    b = F.lstm_layer(x, zeros, zeros, w_ih, w_hh, b_ih, b_hh)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u.data, v.data)


def test_no_grad_records_nothing():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _tensors("lstm")
    with cr.no_grad():
        y, h, c = F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    assert y.grad_fn is None and not y.requires_grad


# ------------------------------------------------------------------------------------ errors
def test_lengths_longer_than_the_sequence():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _tensors("lstm", T=4)
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 4\].*got 9"):
        F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=[4, 9, 2])
    with pytest.raises(ValueError, match="lengths must lie"):
        F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=[4, -1, 2])
    with pytest.raises(ValueError, match=r"lengths must have shape \(3,\)"):
        F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=[4, 2])
    with pytest.raises(TypeError, match="lengths must be integers"):
        F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=[4.5, 2, 1])
    with pytest.raises(ValueError, match="not both"):
        F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=[4, 2, 1], mask=np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"mask must have shape \(T, B\) = \(4, 3\)"):
        F.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask=np.ones((3, 4), dtype=bool))


def test_shape_and_dtype_errors():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _tensors("gru")
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, hidden_size\) = \(3, 2\)"):
        F.gru_layer(x, h0[:2], w_ih, w_hh, b_ih, b_hh)
    with pytest.raises(
        ValueError, match=r"weight_ih must have shape \(6, 2\) for input of shape \(4, 3, 2\)"
    ):
        F.gru_layer(x[..., :2], h0, w_ih, w_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"expected input of shape \(T, B, input_size\)"):
        F.gru_layer(x[0], h0, w_ih, w_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match="both biases or neither"):
        F.gru_layer(x, h0, w_ih, w_hh, b_ih, None)
    with pytest.raises(TypeError, match="dtype float32 but the input has dtype float64"):
        F.gru_layer(x, h0, w_ih.float(), w_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        F.rnn_layer(x, None, w_ih[:2], w_hh[:2], nonlinearity="sigmoid")
