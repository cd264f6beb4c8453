"""nn.RNN/LSTM/GRU and the cells: PyTorch twins with copied weights, gradcheck, long sequences,
memory, dropout, truncated BPTT and errors."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

KINDS = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def _make(kind, *args, **kw):
    if kind == "LSTM":
        return nn.LSTM(*args, **kw)
    if kind == "GRU":
        return nn.GRU(*args, **kw)
    return nn.RNN(*args, nonlinearity=kind[4:].lower(), **kw)


def _twin(torch, layer):
    """The PyTorch layer of the same configuration, holding a copy of ``layer``'s weights."""
    kw = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
              bidirectional=layer.bidirectional)  # fmt: skip
    if layer.mode == "LSTM":
        t = torch.nn.LSTM(layer.input_size, layer.hidden_size, **kw)
    elif layer.mode == "GRU":
        t = torch.nn.GRU(layer.input_size, layer.hidden_size, **kw)
    else:
        t = torch.nn.RNN(layer.input_size, layer.hidden_size, nonlinearity=layer.nonlinearity, **kw)
    t = t.to(getattr(torch, str(layer.weight_ih_l0.dtype)))
    t.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in layer.state_dict().items()})
    return t


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_names_shapes_and_init_match_torch(kind):
    torch = pytest.importorskip("torch")
    layer = _make(kind, 5, 7, num_layers=2, bidirectional=True)
    names = [(n, tuple(p.shape)) for n, p in layer.named_parameters()]
    twin = _twin(torch, layer)
    assert names == [(n, tuple(p.shape)) for n, p in twin.named_parameters()]
    bound = 1 / np.sqrt(7)
    for p in layer.parameters():
        assert np.abs(p.data).max() <= bound and p.dtype == np.float32
    assert layer.num_parameters() == sum(p.numel() for p in twin.parameters())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_matches_torch_packed_multilayer_bidirectional(kind, dtype, batch_first):
    torch = pytest.importorskip("torch")
    T, B, I, H, L = 6, 4, 5, 7, 2
    lengths = [6, 2, 5, 3]
    layer = _make(kind, I, H, num_layers=L, bidirectional=True, batch_first=batch_first,
                  dtype=dtype)  # fmt: skip
    twin = _twin(torch, layer)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
    h0 = rng.standard_normal((2 * L, B, H)).astype(dtype)
    c0 = rng.standard_normal((2 * L, B, H)).astype(dtype)
    cx, ch0, cc0 = (cr.tensor(a, requires_grad=True) for a in (x, h0, c0))
    tx, th0, tc0 = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, h0, c0))
    lstm = kind == "LSTM"
    out, state = layer(cx, (ch0, cc0) if lstm else ch0, lengths=lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first,
                                                     enforce_sorted=False)  # fmt: skip
    tout, tstate = twin(packed, (th0, tc0) if lstm else th0)
    tout, _ = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=batch_first, total_length=T)
    states = list(state) if lstm else [state]
    tstates = list(tstate) if lstm else [tstate]
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-11}
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    for a, b in zip(states, tstates, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **tol)
    gs = [rng.standard_normal(o.shape).astype(dtype) for o in [out, *states]]
    loss = sum((o * cr.tensor(g)).sum() for o, g in zip([out, *states], gs, strict=True))
    loss.backward()
    tloss = sum((o * torch.from_numpy(g)).sum() for o, g in zip([tout, *tstates], gs, strict=True))
    tloss.backward()
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(ch0.grad.data, th0.grad.numpy(), **tol)
    if lstm:
        np.testing.assert_allclose(cc0.grad.data, tc0.grad.numpy(), **tol)
    tparams = dict(twin.named_parameters())
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.data, tparams[name].grad.numpy(), err_msg=name, **tol)


@pytest.mark.parametrize("kind", ["RNN_TANH", "LSTM", "GRU"])
def test_gradcheck_multilayer_bidirectional_variable_lengths(kind):
    layer = _make(kind, 3, 2, num_layers=2, bidirectional=True, dtype="float64")
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((4, 3, 3)), requires_grad=True)
    h0 = cr.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    c0 = cr.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    lengths = [4, 1, 3]

    def fn(x, h0, c0, *params):
        if kind == "LSTM":
            out, (h, c) = layer(x, (h0, c0), lengths=lengths)
            return out, h, c
        return layer(x, h0, lengths=lengths)

    inputs = [x, h0, c0, *layer.parameters()] if kind == "LSTM" else [x, h0, *layer.parameters()]
    if kind != "LSTM":
        assert cr.gradcheck(lambda x, h0, *ps: fn(x, h0, None, *ps), inputs)
    else:
        assert cr.gradcheck(fn, inputs)


@pytest.mark.parametrize("kind", KINDS)
def test_cells_match_torch_and_gradcheck(kind):
    torch = pytest.importorskip("torch")
    I, H, B = 4, 3, 5
    if kind == "LSTM":
        cell, twin = nn.LSTMCell(I, H, dtype="float64"), torch.nn.LSTMCell(I, H).double()
    elif kind == "GRU":
        cell, twin = nn.GRUCell(I, H, dtype="float64"), torch.nn.GRUCell(I, H).double()
    else:
        act = kind[4:].lower()
        cell = nn.RNNCell(I, H, nonlinearity=act, dtype="float64")
        twin = torch.nn.RNNCell(I, H, nonlinearity=act).double()
    assert [n for n, _ in cell.named_parameters()] == [n for n, _ in twin.named_parameters()]
    twin.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in cell.state_dict().items()})
    rng = np.random.default_rng(2)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    cx, chh, ccc = (cr.tensor(a, requires_grad=True) for a in (x, h, c))
    tx, th, tc = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, h, c))
    if kind == "LSTM":
        mine, ref = list(cell(cx, (chh, ccc))), list(twin(tx, (th, tc)))
    else:
        mine, ref = [cell(cx, chh)], [twin(tx, th)]
    for a, b in zip(mine, ref, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12, atol=1e-13)
    sum((o * (k + 1)).sum() for k, o in enumerate(mine)).backward()
    sum((o * (k + 1)).sum() for k, o in enumerate(ref)).backward()
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(chh.grad.data, th.grad.numpy(), rtol=1e-10)
    tparams = dict(twin.named_parameters())
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad.data, tparams[name].grad.numpy(), rtol=1e-10)
    small = [cr.tensor(a[:2], requires_grad=True) for a in (x, h, c)]
    if kind == "LSTM":
        assert cr.gradcheck(lambda x, h, c, *ps: cell(x, (h, c)), [*small, *cell.parameters()])
    else:
        assert cr.gradcheck(lambda x, h, *ps: cell(x, h), [*small[:2], *cell.parameters()])
    # unbatched input and a missing state
    single = cell(cr.tensor(x[0]))
    assert (single[0] if kind == "LSTM" else single).shape == (H,)


def test_unbatched_and_batch_first_agree():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = cr.randn(6, 3)
    out, (h, c) = lstm(x)
    out_b, (h_b, c_b) = lstm(x.unsqueeze(1))
    assert out.shape == (6, 4) and h.shape == (2, 4)
    np.testing.assert_allclose(out.data, out_b.data[:, 0], rtol=1e-6)
    np.testing.assert_allclose(c.data, c_b.data[:, 0], rtol=1e-6)
    bf = nn.LSTM(3, 4, num_layers=2, batch_first=True)
    bf.load_state_dict(lstm.state_dict())
    xb = cr.randn(2, 6, 3)
    out_f, _ = bf(xb)
    out_t, _ = lstm(xb.transpose(0, 1))
    np.testing.assert_allclose(out_f.data, out_t.data.transpose(1, 0, 2), rtol=1e-6)


def test_mask_in_batch_first_layout_equals_lengths():
    gru = nn.GRU(3, 4, batch_first=True, bidirectional=True)
    x = cr.randn(3, 5, 3)
    lengths = np.array([5, 2, 4])
    mask = np.arange(5)[None, :] < lengths[:, None]
    a_out, a_h = gru(x, lengths=lengths)
    b_out, b_h = gru(x, mask=mask)
    np.testing.assert_array_equal(a_out.data, b_out.data)
    np.testing.assert_array_equal(a_h.data, b_h.data)
    assert np.all(a_out.data[1, 2:] == 0)


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(3, 8, num_layers=3, dropout=0.5)
    x = cr.randn(5, 2, 3)
    lstm.eval()
    a, _ = lstm(x)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)
    lstm.train()
    c, _ = lstm(x)
    d, _ = lstm(x)
    assert not np.allclose(c.data, a.data) and not np.allclose(c.data, d.data)
    one = nn.LSTM(3, 8, num_layers=1, dropout=0.5)  # nothing between layers: no effect
    e, _ = one(x)
    np.testing.assert_array_equal(e.data, one.eval()(x)[0].data)


def test_state_dict_round_trip_and_repr():
    a = nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    b = nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    b.load_state_dict(a.state_dict())
    x = cr.randn(2, 5, 3)
    np.testing.assert_array_equal(a(x)[0].data, b(x)[0].data)
    assert repr(a) == "GRU(3, 4, num_layers=2, batch_first=True, bidirectional=True)"
    assert repr(nn.RNN(2, 3, nonlinearity="relu", bias=False)) == (
        "RNN(2, 3, nonlinearity='relu', bias=False)"
    )
    assert list(nn.RNN(2, 3, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]


def test_backprop_through_1000_steps_layer_and_cell_loop():
    lstm = nn.LSTM(4, 8)
    x = cr.randn(1000, 2, 4, requires_grad=True)
    out, (h, c) = lstm(x)
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == (1000, 2, 4) and np.isfinite(x.grad.data).all()
    assert np.abs(x.grad.data[0]).sum() > 0  # the first step receives gradient
    # a graph with thousands of nodes (one cell call per step) needs no recursion either
    cell = nn.RNNCell(4, 8)
    h = None
    for t in range(1000):
        h = cell(x[t], h)
    h.sum().backward()
    assert np.isfinite(cell.weight_hh.grad.data).all()


def _peak_bytes(T):
    lstm = nn.LSTM(16, 32, dtype="float64")
    x = cr.randn(T, 4, 16, dtype="float64", requires_grad=True)
    tracemalloc.start()
    tracemalloc.reset_peak()
    out, (h, c) = lstm(x)
    (out.sum() + c.sum()).backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_grows_linearly_with_length():
    # load every kernel first (compiling or loading allocates too), including those that only
    # large arrays reach (the threaded gradient sum takes arrays of 2**15 elements and more)
    _peak_bytes(300)
    peaks = {T: _peak_bytes(T) for T in (250, 500, 1000)}
    assert 1.6 < peaks[500] / peaks[250] < 2.4, peaks
    assert 1.6 < peaks[1000] / peaks[500] < 2.4, peaks
    # bytes per step stay near what BPTT must keep: gates, states, outputs, input and gradients
    per_step = peaks[1000] / 1000
    assert per_step < 40 * 4 * 32 * 8, peaks


def test_truncated_bptt_with_detached_states():
    cr.manual_seed(0)
    lstm = nn.LSTM(3, 5)
    head = nn.Linear(5, 1)
    opt = cr.optim.SGD([*lstm.parameters(), *head.parameters()], lr=0.1)
    stream = cr.randn(40, 2, 3)
    state = None
    losses = []
    for start in range(0, 40, 10):
        window = stream[start : start + 10]
        out, state = lstm(window, state)
        loss = (head(out) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        state = tuple(s.detach() for s in state)
        assert all(s.grad_fn is None and not s.requires_grad for s in state)
    assert len(losses) == 4 and all(np.isfinite(losses))


# ------------------------------------------------------------------------------------ errors
def test_wrong_hidden_state_shape_names_layer_and_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2)
    x = cr.randn(7, 4, 3)
    with pytest.raises(ValueError) as info:
        lstm(x, (cr.zeros(1, 4, 5), cr.zeros(2, 4, 5)))
    msg = str(info.value)
    assert "LSTM(3, 5, num_layers=2) expected h0 of shape" in msg
    assert "(2, 4, 5), got (1, 4, 5)" in msg
    with pytest.raises(ValueError, match=r"expected c0 of shape .* = \(2, 4, 5\), got \(2, 3, 5\)"):
        lstm(x, (cr.zeros(2, 4, 5), cr.zeros(2, 3, 5)))
    with pytest.raises(TypeError, match=r"expected hx = \(h0, c0\)"):
        lstm(x, cr.zeros(2, 4, 5))
    gru = nn.GRU(3, 5, bidirectional=True)
    with pytest.raises(
        ValueError, match=r"GRU\(3, 5, bidirectional=True\) expected h0 .*\(2, 4, 5\)"
    ):
        gru(x, cr.zeros(1, 4, 5))
    cell = nn.GRUCell(3, 5)
    with pytest.raises(ValueError, match=r"GRUCell\(3, 5\) expected hx of shape .*\(4, 5\)"):
        cell(x[0], cr.zeros(4, 6))


def test_wrong_input_size_names_layer_and_shapes():
    model = nn.Sequential(nn.LSTM(3, 5, batch_first=True))
    with pytest.raises(ValueError) as info:
        model(cr.randn(4, 7, 6))
    msg = str(info.value)
    assert "LSTM(3, 5, batch_first=True) expected input of shape (B, T, 3)" in msg
    assert "got (4, 7, 6)" in msg and "input_size=6" in msg
    assert "model.0" in msg  # Module.__call__ adds where the layer sits
    with pytest.raises(ValueError, match=r"expected input of shape \(B, 3\)"):
        nn.LSTMCell(3, 5)(cr.randn(4, 2))
    with pytest.raises(TypeError, match="floating-point input"):
        nn.RNN(3, 5)(cr.tensor(np.zeros((2, 2, 3), dtype=np.int64)))


def test_lengths_longer_than_sequence_and_bad_masks():
    rnn = nn.RNN(3, 5, batch_first=True)
    x = cr.randn(2, 7, 3)
    with pytest.raises(ValueError, match=r"RNN\(3, 5, batch_first=True\): lengths must lie in "
                                         r"\[0, 7\].*got 9"):  # fmt: skip
        rnn(x, lengths=[9, 3])
    with pytest.raises(ValueError, match=r"expected mask of shape \(B, T\) = \(2, 7\)"):
        rnn(x, mask=np.ones((7, 2), dtype=bool))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match=r"dropout must lie in \[0, 1\)"):
        nn.GRU(3, 4, dropout=1.0)
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
