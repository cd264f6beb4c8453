"""batch_norm: gradcheck in training and evaluation through both kernel paths, running statistics
against PyTorch, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.backend import config
from chainrule.kernels import HAVE_NUMBA


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def backend(request: pytest.FixtureRequest):
    """Run the test with ``config.use_numba`` set to the parameter, restoring it afterwards."""
    if request.param and not HAVE_NUMBA:
        pytest.skip("numba is not installed")
    saved = config.use_numba
    config.use_numba = request.param
    yield request.param
    config.use_numba = saved


def _t(shape, seed, requires_grad=True, shift=0.0):
    rng = np.random.default_rng(seed)
    return cr.tensor(
        rng.standard_normal(shape) + shift, dtype="float64", requires_grad=requires_grad
    )


SHAPES = [(5, 3), (3, 2, 5), (2, 3, 3, 4), (1, 2, 3, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(backend, shape, training):
    C = shape[1]
    x, w, b = _t(shape, 0, shift=3.0), _t((C,), 1), _t((C,), 2)
    rm = cr.tensor(np.linspace(-1, 1, C))
    rv = cr.tensor(np.linspace(0.5, 2, C))

    def fn(x, w, b):
        return F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.0)

    assert cr.gradcheck(fn, [x, w, b])


def test_batch_norm_gradcheck_without_affine_or_running_stats(backend):
    x = _t((4, 3, 2), 0)
    assert cr.gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [x])
    w = _t((3,), 1)
    assert cr.gradcheck(lambda x, w: F.batch_norm(x, None, None, w, training=True), [x, w])


def test_batch_norm_training_output_is_normalised(backend):
    x = cr.randn(16, 4, 5, 5) * 3 + 7
    y = F.batch_norm(x, None, None, training=True).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-3)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (4, 3, 2, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_running_statistics_match_torch_after_five_steps(backend, shape, dtype):
    torch = pytest.importorskip("torch")
    C = shape[1]
    rng = np.random.default_rng(5)
    w = rng.standard_normal(C).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    rm, rv = cr.zeros(C, dtype=dtype), cr.ones(C, dtype=dtype)
    trm = torch.zeros(C, dtype=getattr(torch, dtype))
    trv = torch.ones(C, dtype=getattr(torch, dtype))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    for step in range(5):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        y = F.batch_norm(cr.tensor(x), rm, rv, cr.tensor(w), cr.tensor(b), True, 0.2, 1e-3)
        ty = torch.nn.functional.batch_norm(
            torch.from_numpy(x), trm, trv, torch.from_numpy(w), torch.from_numpy(b), True, 0.2, 1e-3
        )
        np.testing.assert_allclose(y.data, ty.numpy(), **tol)
    np.testing.assert_allclose(rm.data, trm.numpy(), **tol)
    np.testing.assert_allclose(rv.data, trv.numpy(), **tol)
    x = rng.standard_normal(shape).astype(dtype)
    y = F.batch_norm(cr.tensor(x), rm, rv, cr.tensor(w), cr.tensor(b), False, 0.2, 1e-3)
    ty = torch.nn.functional.batch_norm(
        torch.from_numpy(x), trm, trv, torch.from_numpy(w), torch.from_numpy(b), False, 0.2, 1e-3
    )
    np.testing.assert_allclose(y.data, ty.numpy(), **tol)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_torch(backend, training):
    torch = pytest.importorskip("torch")
    from helpers import assert_matches_torch

    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 5, 2)).astype(np.float32) * 2 + 1
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    rm = np.array([0.1, -0.2, 0.3], np.float32)
    rv = np.array([1.5, 0.5, 2.0], np.float32)
    assert_matches_torch(
        lambda x, w, b: F.batch_norm(x, cr.tensor(rm), cr.tensor(rv), w, b, training),
        lambda x, w, b: torch.nn.functional.batch_norm(
            x, torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy()), w, b, training
        ),
        [x, w, b],
        rtol=1e-4,
        atol=1e-5,
    )


def test_eval_mode_leaves_running_statistics_alone(backend):
    rm, rv = cr.zeros(3), cr.ones(3)
    F.batch_norm(cr.randn(4, 3), rm, rv, training=False)
    np.testing.assert_array_equal(rm.data, 0)
    np.testing.assert_array_equal(rv.data, 1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.batch_norm(cr.randn(1, 3), None, None, training=True),
         r"more than 1 value per channel .* \(1, 3\)"),
        (lambda: F.batch_norm(cr.randn(4, 3), None, None, training=False),
         r"evaluation mode .* needs running_mean"),
        (lambda: F.batch_norm(cr.randn(4, 3), cr.zeros(4), cr.ones(4), training=True),
         r"running_mean must have shape \(3,\)"),
        (lambda: F.batch_norm(cr.randn(4), None, None, training=True),
         r"expected input of shape \(N, C\)"),
        (lambda: F.batch_norm(cr.randn(4, 3), cr.zeros(3), None, training=True),
         r"give both running_mean and running_var"),
    ],
)  # fmt: skip
def test_batch_norm_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 3, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_fused_relu_gradcheck(backend, shape, training):
    C = shape[1]
    x, w, b = _t(shape, 3, shift=3.0), _t((C,), 4), _t((C,), 5)
    rm = cr.tensor(np.linspace(2, 4, C))
    rv = cr.tensor(np.linspace(0.5, 2, C))

    def fn(x, w, b):
        return F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.0, relu=True)

    assert cr.gradcheck(fn, [x, w, b])


def _bn_params(dtype: str) -> tuple:
    """Weight and bias (with gradients), running mean and variance for 4 channels."""
    w = cr.tensor(np.linspace(0.5, 1.5, 4), dtype=dtype, requires_grad=True)
    b = cr.tensor(np.linspace(-0.5, 0.5, 4), dtype=dtype, requires_grad=True)
    rm = cr.tensor(np.linspace(0.5, 1.5, 4), dtype=dtype)
    rv = cr.tensor(np.linspace(1.0, 4.0, 4), dtype=dtype)
    return w, b, rm, rv


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_fused_relu_equals_relu_after_batch_norm(backend, training, dtype):
    rng = np.random.default_rng(7)
    data = rng.standard_normal((6, 4, 5, 5)) * 2 + 1
    results = []
    for fused in (False, True):
        x = cr.tensor(data, dtype=dtype, requires_grad=True)
        w, b, rm, rv = _bn_params(dtype)
        if fused:
            y = F.batch_norm(x, rm, rv, w, b, training=training, relu=True)
        else:
            y = F.relu(F.batch_norm(x, rm, rv, w, b, training=training))
        (y * cr.tensor(rng.standard_normal(data.shape), dtype=dtype)).sum().backward()
        rng = np.random.default_rng(7)  # the same upstream gradient on both passes
        rng.standard_normal(data.shape)
        results.append([y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy(), rm.numpy()])
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    assert (results[1][0] >= 0).all() and (results[1][0] == 0).any()
    for got, expected in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, expected, **tol)


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 3, 4)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("relu", [True, False])
def test_batch_norm_fused_residual_gradcheck(backend, shape, training, relu):
    C = shape[1]
    x, w, b, r = _t(shape, 3, shift=3.0), _t((C,), 4), _t((C,), 5), _t(shape, 6)
    rm = cr.tensor(np.linspace(2, 4, C))
    rv = cr.tensor(np.linspace(0.5, 2, C))

    def fn(x, w, b, r):
        return F.batch_norm(
            x, rm, rv, w, b, training=training, momentum=0.0, relu=relu, residual=r
        )

    assert cr.gradcheck(fn, [x, w, b, r])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_fused_residual_equals_add_relu_after_batch_norm(backend, training, dtype):
    rng = np.random.default_rng(8)
    data = rng.standard_normal((6, 4, 5, 5)) * 2 + 1
    skip = rng.standard_normal(data.shape)
    upstream = rng.standard_normal(data.shape)
    results = []
    for fused in (False, True):
        x = cr.tensor(data, dtype=dtype, requires_grad=True)
        s = cr.tensor(skip, dtype=dtype, requires_grad=True)
        w, b, rm, rv = _bn_params(dtype)
        if fused:
            y = F.batch_norm(x, rm, rv, w, b, training=training, relu=True, residual=s)
        else:
            y = F.add_relu(F.batch_norm(x, rm, rv, w, b, training=training), s)
        (y * cr.tensor(upstream, dtype=dtype)).sum().backward()
        grads = [x.grad.numpy(), s.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
        results.append([y.numpy(), *grads, rm.numpy(), rv.numpy()])
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    assert (results[1][0] == 0).any() and (results[1][0] > 0).any()
    for got, expected in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(got, expected, **tol)


def test_batch_norm_residual_must_match_the_input():
    x = cr.randn(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"batch_norm: residual must have the input's shape"):
        F.batch_norm(x, None, None, training=True, residual=cr.randn(4, 3, 2, 1))


def test_batch_norm_fused_residual_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    data = rng.standard_normal((8, 3, 4, 4)).astype(np.float32)
    skip = rng.standard_normal(data.shape).astype(np.float32)
    x = cr.tensor(data, requires_grad=True)
    s = cr.tensor(skip, requires_grad=True)
    y = F.batch_norm(x, None, None, training=True, relu=True, residual=s)
    y.sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    ts = torch.tensor(skip, requires_grad=True)
    ty = torch.relu(torch.nn.functional.batch_norm(tx, None, None, training=True) + ts)
    ty.sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_fused_relu_keeps_nan(backend):
    x = cr.zeros(4, 2, 3)
    x.data[0, 0, 0] = np.nan
    rm, rv = cr.zeros(2), cr.ones(2)
    y = F.batch_norm(x, rm, rv, training=False, relu=True).numpy()
    assert np.isnan(y[0, 0, 0]) and (y[1:] == 0).all()
