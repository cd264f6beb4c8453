"""Recurrent kernels: numba and NumPy paths agree with a naive step-by-step reference."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.backend import config
from chainrule.kernels import recurrent as K


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _reference(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, active, reverse):
    """Textbook equations, one step at a time, skipping inactive (row, step) pairs."""
    T, B, _ = x.shape
    H = w_hh.shape[1]
    h, c = h0.copy(), None if c0 is None else c0.copy()
    y = np.zeros((T, B, H))
    for t in range(T - 1, -1, -1) if reverse else range(T):
        gi = x[t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        if mode == "lstm":
            a = gi + gh
            i, f, g, o = (
                _sig(a[:, :H]),
                _sig(a[:, H : 2 * H]),
                np.tanh(a[:, 2 * H : 3 * H]),
                _sig(a[:, 3 * H :]),
            )
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
        elif mode == "gru":
            r = _sig(gi[:, :H] + gh[:, :H])
            z = _sig(gi[:, H : 2 * H] + gh[:, H : 2 * H])
            n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
            h_new = (1 - z) * n + z * h
            c_new = None
        else:
            a = gi + gh
            h_new = np.tanh(a) if mode == "rnn_tanh" else np.maximum(a, 0)
            c_new = None
        on = active[t].astype(bool)[:, None]
        h = np.where(on, h_new, h)
        if c is not None:
            c = np.where(on, c_new, c)
        y[t] = np.where(on, h_new, 0)
    return y, h, c


def _problem(mode, T=5, B=4, I=3, H=2, dtype=np.float64, seed=0, ragged=True):
    rng = np.random.default_rng(seed)
    G = K.GATES[mode]
    arrays = [rng.standard_normal(s).astype(dtype) for s in [(T, B, I), (B, H), (B, H),
                                                             (G * H, I), (G * H, H), (G * H,),
                                                             (G * H,)]]  # fmt: skip
    lengths = np.array([T, 1, 3, T - 1, 2, T][:B]) if ragged else np.full(B, T)
    active = (np.arange(T)[:, None] < lengths[None, :]).astype(np.uint8)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays
    return x, h0, (c0 if mode == "lstm" else None), w_ih, w_hh, b_ih, b_hh, active


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def path(request):
    old = config.use_numba
    config.use_numba = request.param
    yield request.param
    config.use_numba = old


@pytest.mark.parametrize("mode", K.MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_forward_matches_reference(mode, reverse, path):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, active = _problem(mode)
    y, h_n, c_n, _ = K.recurrent_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, active, reverse)
    ry, rh, rc = _reference(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, active, reverse)
    np.testing.assert_allclose(y, ry, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n, rh, rtol=1e-12, atol=1e-12)
    if mode == "lstm":
        np.testing.assert_allclose(c_n, rc, rtol=1e-12, atol=1e-12)


def _loss(mode, arrays, active, reverse, vs):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays
    y, h, c = _reference(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, active, reverse)
    total = np.sum(y * vs[0]) + np.sum(h * vs[1])
    return total + (np.sum(c * vs[2]) if c is not None else 0.0)


@pytest.mark.parametrize("mode", K.MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_backward_matches_finite_differences(mode, reverse, path):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, active = _problem(mode, T=4, B=3, I=2, H=2)
    if mode == "rnn_relu":
        w_hh = w_hh * 0.3  # keep pre-activations away from the kink at 0
    rng = np.random.default_rng(1)
    T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
    vs = [rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))]
    y, h_n, c_n, cache = K.recurrent_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, active,
                                             reverse)  # fmt: skip
    dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = K.recurrent_backward(
        cache, vs[0], vs[1], vs[2] if mode == "lstm" else None
    )
    arrays = [x, h0, c0, w_ih, w_hh, b_ih, b_hh]
    analytic = [dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh]
    eps = 1e-6
    for k, (a, g) in enumerate(zip(arrays, analytic, strict=True)):
        if a is None:
            continue
        num = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            orig = a[idx]
            a[idx] = orig + eps
            plus = _loss(mode, arrays, active, reverse, vs)
            a[idx] = orig - eps
            minus = _loss(mode, arrays, active, reverse, vs)
            a[idx] = orig
            num[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7, err_msg=f"input {k}")


@pytest.mark.parametrize("mode", K.MODES)
def test_numba_and_numpy_agree_in_float32(mode):
    if not K.HAVE_NUMBA:
        pytest.skip("numba not installed")
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, active = _problem(mode, T=6, B=5, I=4, H=3,
                                                         dtype=np.float32)  # fmt: skip
    results = []
    old = config.use_numba
    try:
        for flag in (True, False):
            config.use_numba = flag
            for act in (None, np.ones_like(active), active):
                y, h, c, cache = K.recurrent_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, act)
                grads = K.recurrent_backward(cache, np.ones_like(y), np.ones_like(h),
                                             None if c is None else np.ones_like(c))  # fmt: skip
                results.append([y, h, *[g for g in grads if g is not None]])
    finally:
        config.use_numba = old
    n = len(results) // 2
    for a, b in zip(results[:n], results[n:], strict=True):
        for u, v in zip(a, b, strict=True):
            assert u.dtype == np.float32
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-5)
    # no flags and all-ones flags give the same numbers
    for u, v in zip(results[0], results[1], strict=True):
        np.testing.assert_allclose(u, v, rtol=0, atol=0)


def test_weight_gradients_are_one_gemm_over_all_steps():
    """dW_hh equals the sum over steps of dgates_t^T h_{t-1} (the GEMM over the stacked steps)."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, active = _problem("rnn_tanh", ragged=False)
    y, h_n, _, cache = K.recurrent_forward("rnn_tanh", x, h0, None, w_ih, w_hh, b_ih, b_hh)
    dy = np.ones_like(y)
    _, _, _, _, dw_hh, _, _ = K.recurrent_backward(cache, dy, np.zeros_like(h_n))
    # per-step sum, recomputing dgates by hand
    T = x.shape[0]
    dh = np.zeros_like(h0)
    total = np.zeros_like(w_hh)
    hs = [h0] + [y[t] for t in range(T)]
    for t in range(T - 1, -1, -1):
        dpre = (dy[t] + dh) * (1 - hs[t + 1] ** 2)
        total += dpre.T @ hs[t]
        dh = dpre @ w_hh
    np.testing.assert_allclose(dw_hh, total, rtol=1e-12)


def test_float32_gate_math_is_accurate():
    """The vectorisable float32 sigmoid/tanh stay within a few ulp, near 0 and in the tails."""
    if not K.HAVE_NUMBA:
        pytest.skip("numba not installed")
    import numba

    from chainrule.kernels._gate_math import sigmoid, tanh

    @numba.njit(error_model="numpy")
    def apply(x, sig, th):  # pragma: no cover - numba
        for i in range(x.size):
            sig[i] = sigmoid(x[i])
            th[i] = tanh(x[i])

    x = np.concatenate([np.linspace(-30, 30, 200001), [0.0, -0.0, 1e-30, -1e-7, 1e-3, 90, -90,
                                                        1e4, -1e4]]).astype(np.float32)  # fmt: skip
    for dtype, ulps in ((np.float32, 3), (np.float64, 4)):
        xs = x.astype(dtype)
        sig, th = np.empty_like(xs), np.empty_like(xs)
        apply(xs, sig, th)
        x64 = xs.astype(np.float64)
        e = np.exp(-np.abs(x64))
        ref_sig = np.where(x64 >= 0, 1 / (1 + e), e / (1 + e))
        ref_th = np.tanh(x64)
        eps = np.finfo(dtype).eps
        big = ref_sig > np.finfo(np.float32).tiny * 1e3  # sigmoid(-90) underflows differently
        assert np.max(np.abs(sig - ref_sig)[big] / ref_sig[big]) < ulps * eps
        assert np.max(np.abs(sig - ref_sig)) < 1e-30 + ulps * eps
        nz = ref_th != 0
        assert np.max(np.abs(th - ref_th)[nz] / np.abs(ref_th[nz])) < ulps * eps
        assert np.signbit(th[xs == 0]).tolist() == np.signbit(xs[xs == 0]).tolist()
