"""The Tensor class: facts, conversions, operators, in-place updates, error messages."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_facts():
    x = cr.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dim() == 3
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.numel() == 24
    assert len(x) == 2 and x.dtype == np.float32 and x.device == "cpu"
    assert x.is_leaf and not x.requires_grad and x.grad is None
    with pytest.raises(TypeError, match="0-d"):
        len(cr.tensor(1.0))


def test_python_numbers_and_dtypes():
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor([True, False]).dtype == np.bool_
    assert cr.tensor([1, 2.5]).dtype == np.float32
    assert cr.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert cr.tensor(np.zeros(2, dtype=np.int32)).dtype == np.int32
    assert cr.tensor([1.0], dtype="float64").dtype == np.float64
    assert cr.Tensor(np.float64(2.0)).dtype == np.float64


def test_tensor_copies_but_from_numpy_shares():
    a = np.ones(3, dtype=np.float32)
    t = cr.tensor(a)
    a[0] = 5
    assert t.data[0] == 1
    s = cr.from_numpy(a)
    a[1] = 7
    assert s.data[1] == 7
    u = cr.tensor(t)
    u.data[0] = 9
    assert t.data[0] == 1


def test_conversions():
    x = cr.tensor([[1.5, -2.0]])
    assert x.tolist() == [[1.5, -2.0]]
    assert isinstance(x.numpy(), np.ndarray)
    assert np.asarray(x).dtype == np.float32
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert cr.tensor(2.5).item() == 2.5
    assert float(cr.tensor([2.5])) == 2.5 and int(cr.tensor(3)) == 3
    with pytest.raises(ValueError, match="one-element"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    assert bool(cr.tensor(1.0))
    assert [10, 20, 30][cr.tensor(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][cr.tensor(1.0)]


def test_dtype_conversions_and_gradient_through_cast():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    assert x.double().dtype == np.float64
    assert x.float() is x
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, 2]
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.to("float64").dtype == np.float64 and x.to(dtype="float64").dtype == np.float64
    assert x.astype(np.float64).dtype == np.float64 and x.to("cpu") is x
    y = (x.double() * 2).sum()
    y.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])
    assert not x.long().requires_grad
    with pytest.raises(TypeError, match="unknown dtype 'tpu'"):
        x.to("tpu")


def test_to_cuda_without_cupy_is_a_clear_error():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            cr.ones(2).to("cuda")
    else:
        pytest.skip("CuPy is installed")


def test_clone_and_contiguous():
    x = cr.randn(2, 3, dtype="float64", requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.data, x.data)
    (c * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 3), 3.0))
    t = x.T
    assert not t.data.flags.c_contiguous and t.contiguous().data.flags.c_contiguous
    assert x.contiguous() is x


def test_transpose_shortcuts():
    x = cr.randn(2, 3)
    assert x.T.shape == (3, 2) and x.t().shape == (3, 2)
    assert cr.randn(2, 3, 4).T.shape == (4, 3, 2)
    with pytest.raises(ValueError, match="at most 2"):
        cr.randn(2, 3, 4).t()


def test_reflected_operators():
    x = cr.tensor([1.0, 2.0, 4.0], dtype="float64", requires_grad=True)
    y = (1 + x) + (1 - x) + (2 * x) + (8 / x) + (2**x) + (-x) + (+x) + abs(x)
    expected = 2 + 2 * x.data + 8 / x.data + 2**x.data + x.data
    np.testing.assert_allclose(y.data, expected)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 - 8 / x.data**2 + np.log(2) * 2**x.data + 1)


def test_numpy_array_on_the_left_gives_a_tensor():
    x = cr.ones(3)
    out = np.ones(3, dtype=np.float32) + x
    assert isinstance(out, cr.Tensor)
    assert isinstance(np.ones((2, 3), dtype=np.float32) @ x, cr.Tensor)


def test_comparisons_give_bool_without_grad():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out, want in [
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
    ]:
        assert out.dtype == np.bool_ and not out.requires_grad and out.tolist() == want
    m = x > 1
    assert (~m).tolist() == [True, False, False]
    assert (m & (x < 3)).tolist() == [False, True, False]
    assert (m | (x < 2)).tolist() == [True, True, True]
    assert m.any().item() and not m.all().item()


def test_tensor_is_hashable_by_identity():
    a, b = cr.ones(2), cr.ones(2)
    assert len({a, b}) == 2


def test_iteration():
    rows = list(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]
    with pytest.raises(TypeError, match="0-d"):
        list(cr.tensor(1.0))


def test_repr():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor(3)) == "tensor(3)"
    assert "requires_grad=True" in repr(cr.ones(2, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(cr.ones(2, requires_grad=True) * 2)
    assert "dtype=float64" in repr(cr.ones(2, dtype="float64"))


# ----------------------------------------------------------------------------- in-place updates
def test_in_place_update_under_no_grad():
    w = cr.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    data = w.data
    with cr.no_grad():
        w -= 0.5 * w.grad
        w *= 2
        w += 1
        w /= 2
    assert w.data is data and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.data, np.full(3, 0.5))


def test_in_place_on_leaf_requiring_grad_is_refused_while_recording():
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1
    for method in (lambda: w.fill_(0), lambda: w.zero_(), lambda: w.add_(1), lambda: w.mul_(2)):
        with pytest.raises(RuntimeError, match="no_grad"):
            method()
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 2.0


def test_augmented_assignment_on_graph_tensor_stays_differentiable():
    x = cr.ones(3, requires_grad=True)
    h = x * 2
    h += x  # recorded out of place
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 3.0))
    c = cr.zeros(3)
    c += x  # a constant meeting a tensor that requires grad joins the graph
    assert c.requires_grad


def test_in_place_methods():
    x = cr.zeros(2, 3)
    x.fill_(2.0)
    x.add_(cr.ones(3), alpha=2.0)
    x.mul_(0.5)
    x.clamp_(max=1.5)
    np.testing.assert_allclose(x.data, np.full((2, 3), 1.5))
    x.copy_(cr.arange(3))
    assert x.tolist() == [[0, 1, 2], [0, 1, 2]]
    x.zero_()
    x[0, 1] = 4.0
    x[cr.tensor([1])] = 1.0
    assert x.tolist() == [[0, 4, 0], [1, 1, 1]]
    with pytest.raises(ValueError, match="copy_"):
        x.copy_(cr.ones(4))
    with pytest.raises(ValueError, match="shape \\(2, 3\\)"):
        x += cr.ones(4)
    i = cr.arange(3)
    with pytest.raises(TypeError, match="int64"):
        i += 0.5


def test_setitem_on_graph_tensor_is_refused():
    h = cr.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="not supported"):
        h[0] = 1.0
    with pytest.raises(RuntimeError, match="part of the graph"):
        h.fill_(0.0)
    with pytest.raises(RuntimeError, match="part of the graph"):
        h.mul_(2.0)
    c = cr.zeros(3)
    with pytest.raises(RuntimeError, match="gradient of the assigned tensor would be lost"):
        c[0] = cr.ones((), requires_grad=True)
    with cr.no_grad():
        h.fill_(0.0)  # allowed when nothing is recorded
        c[0] = cr.ones((), requires_grad=True)


def test_methods_delegate_to_functional():
    x = cr.randn(2, 3, dtype="float64")
    np.testing.assert_allclose(x.exp().data, np.exp(x.data))
    np.testing.assert_allclose(x.abs().sqrt().log().data, np.log(np.sqrt(np.abs(x.data))))
    np.testing.assert_allclose(x.clip(-0.1, 0.1).data, np.clip(x.data, -0.1, 0.1))
    np.testing.assert_allclose(x.clamp(min=0).data, np.maximum(x.data, 0))
    np.testing.assert_allclose(x.sum(1).data, x.data.sum(1))
    np.testing.assert_allclose(x.mean().data, x.data.mean())
    np.testing.assert_allclose(x.max(0).data, x.data.max(0))
    np.testing.assert_allclose(x.min(keepdims=True).data, x.data.min(keepdims=True))
    np.testing.assert_allclose(x.var(1).data, x.data.var(1, ddof=1))
    np.testing.assert_allclose(x.std(correction=0).data, x.data.std())
    assert x.argmax(1).tolist() == x.data.argmax(1).tolist()
    assert x.argmin().item() == x.data.argmin()
    assert x.reshape(3, 2).shape == (3, 2) and x.view((6,)).shape == (6,)
    assert x.flatten().shape == (6,) and x.permute(1, 0).shape == (3, 2)
    assert x.transpose(0, 1).shape == (3, 2) and x.unsqueeze(0).shape == (1, 2, 3)
    assert x.unsqueeze(0).squeeze().shape == (2, 3) and x.expand(4, 2, 3).shape == (4, 2, 3)
    assert x.broadcast_to((2, 2, 3)).shape == (2, 2, 3)
    assert [p.shape for p in x.split(2, axis=1)] == [(2, 2), (2, 1)]
    assert [p.shape for p in x.chunk(3, axis=1)] == [(2, 1)] * 3
    assert x.matmul(x.T).shape == (2, 2)
    assert x.logsumexp(1).shape == (2,)
    assert x.softmax().shape == (2, 3) and x.log_softmax(0).shape == (2, 3)
    assert x.sigmoid().shape == x.tanh().shape == x.relu().shape == (2, 3)


def test_deepcopy_and_pickle():
    import copy
    import pickle

    x = cr.randn(3, requires_grad=True)
    (x * 2).sum().backward()
    c = copy.deepcopy(x)
    assert c.requires_grad and not np.shares_memory(c.data, x.data)
    np.testing.assert_array_equal(c.grad.data, x.grad.data)
    p = pickle.loads(pickle.dumps(x))
    assert p.requires_grad and np.array_equal(p.data, x.data) and p.grad is not None
    h = x * 2
    q = pickle.loads(pickle.dumps(h))
    assert q.is_leaf and not q.requires_grad and np.array_equal(q.data, h.data)
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        copy.deepcopy(h)
    assert copy.deepcopy(h.detach()).shape == (3,)
