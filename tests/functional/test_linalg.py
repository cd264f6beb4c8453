"""matmul (batched, broadcasting, 1-D operands), dot and linear: gradcheck, PyTorch, errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((0, 4), (4, 2)),
    ((3, 0), (0, 2)),
]


def t64(shape, seed):
    data = np.random.default_rng(seed).standard_normal(shape)
    return cr.tensor(data, requires_grad=True)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck(shapes):
    x, y = t64(shapes[0], 1), t64(shapes[1], 2)
    out = cr.matmul(x, y)
    np.testing.assert_allclose(out.data, np.matmul(x.data, y.data))
    assert cr.gradcheck(cr.matmul, [x, y])


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shapes):
    torch = pytest.importorskip("torch")
    assert_matches_torch(cr.matmul, torch.matmul, shapes=list(shapes))


def test_matmul_operator_and_reused_operand():
    a = t64((3, 3), 0)
    assert cr.gradcheck(lambda m: m @ m, [a])
    assert cr.gradcheck(lambda m: m @ m.T, [a])
    b = np.random.default_rng(1).standard_normal((3, 2))
    assert cr.gradcheck(lambda m: m @ b, [a])  # a NumPy constant on the right
    assert cr.gradcheck(lambda m: b.T @ m, [a])  # and on the left


def test_matmul_only_one_operand_needs_grad():
    x = t64((2, 3, 4), 0)
    w = cr.tensor(np.random.default_rng(1).standard_normal((4, 5)))
    (x @ w).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.broadcast_to(w.data.sum(1), (2, 3, 4)))
    assert w.grad is None


def test_matmul_float32_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16)).astype(np.float32)
    y = rng.standard_normal((16, 4)).astype(np.float32)
    assert_matches_torch(cr.matmul, torch.matmul, [x, y], rtol=1e-4, atol=1e-5)


def test_matmul_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        cr.matmul(cr.ones(2, 3), cr.ones(4, 5))
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        cr.ones(3) @ cr.ones(4)
    with pytest.raises(ValueError, match=r"batch dimensions.*\(2, 3, 4\) and \(5, 4, 6\)"):
        cr.matmul(cr.ones(2, 3, 4), cr.ones(5, 4, 6))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        cr.matmul(cr.tensor(2.0), cr.ones(3))


def test_dot():
    x, y = t64((5,), 1), t64((5,), 2)
    assert np.isclose(cr.dot(x, y).item(), x.data @ y.data)
    assert cr.gradcheck(cr.dot, [x, y])
    with pytest.raises(ValueError, match="1-D"):
        cr.dot(cr.ones(2, 2), cr.ones(2))


@pytest.mark.parametrize("x_shape", [(5,), (3, 5), (2, 3, 5), (0, 5)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(x_shape, bias):
    x, w = t64(x_shape, 1), t64((4, 5), 2)
    args = [x, w] + ([t64((4,), 3)] if bias else [])
    out = cr.linear(*args)
    expected = x.data @ w.data.T + (args[2].data if bias else 0)
    np.testing.assert_allclose(out.data, expected)
    assert cr.gradcheck(cr.linear, args)


@pytest.mark.parametrize("x_shape", [(5,), (3, 5), (2, 3, 5)], ids=str)
def test_linear_matches_torch(x_shape):
    torch = pytest.importorskip("torch")
    assert_matches_torch(cr.linear, torch.nn.functional.linear, shapes=[x_shape, (4, 5), (4,)])
    assert_matches_torch(cr.linear, torch.nn.functional.linear, shapes=[x_shape, (4, 5)])


def test_linear_reused_input_and_constant_input():
    w = t64((3, 3), 0)
    assert cr.gradcheck(lambda m: cr.linear(m, m), [w])
    x = np.random.default_rng(1).standard_normal((2, 3))
    assert cr.gradcheck(lambda m, b: cr.linear(x, m, b), [w, t64((3,), 2)])


def test_linear_errors():
    with pytest.raises(ValueError, match=r"input of shape \(2, 3\).*weight of shape \(4, 5\)"):
        cr.linear(cr.ones(2, 3), cr.ones(4, 5))
    with pytest.raises(ValueError, match="bias must have shape"):
        cr.linear(cr.ones(2, 5), cr.ones(4, 5), cr.ones(3))
    with pytest.raises(ValueError, match="weight of shape"):
        cr.linear(cr.ones(2, 5), cr.ones(5))


def test_linear_large_output_adds_its_bias_on_the_kernel_threads():
    # 700 x 2000 outputs: above the threaded-bias threshold
    rng = np.random.default_rng(12)
    x = rng.standard_normal((700, 30)).astype(np.float32)
    w = rng.standard_normal((2000, 30)).astype(np.float32)
    b = rng.standard_normal(2000).astype(np.float32)
    y = cr.functional.linear(cr.tensor(x), cr.tensor(w), cr.tensor(b)).numpy()
    np.testing.assert_allclose(y, x @ w.T + b, rtol=1e-5, atol=1e-5)
