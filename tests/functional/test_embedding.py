"""F.embedding: lookup, scattered gradients with accumulation, padding, max_norm, errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import functional as F


def test_lookup_values_and_shape():
    w = cr.arange(12.0).reshape(4, 3)
    ids = cr.tensor([[3, 0], [1, 1]])
    y = F.embedding(ids, w)
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.data, w.data[ids.data])
    # lists, NumPy arrays and 0-d ids work too
    np.testing.assert_array_equal(F.embedding([2], w).data, w.data[[2]])
    np.testing.assert_array_equal(F.embedding(np.int64(1), w).data, w.data[1])


def test_repeated_ids_accumulate():
    w = cr.randn(5, 3, dtype="float64", requires_grad=True)
    ids = np.array([[1, 4, 1], [1, 0, 4]])
    g = np.random.default_rng(0).standard_normal((2, 3, 3))
    F.embedding(ids, w).backward(cr.tensor(g))
    expected = np.zeros((5, 3))
    for pos, v in np.ndenumerate(ids):
        expected[v] += g[pos]
    np.testing.assert_allclose(w.grad.data, expected, rtol=1e-12)
    assert np.all(w.grad.data[[2, 3]] == 0)


def test_padding_row_gets_no_gradient():
    w = cr.randn(5, 3, requires_grad=True)
    F.embedding([[0, 2, 2], [4, 0, 1]], w, padding_idx=2).sum().backward()
    assert np.all(w.grad.data[2] == 0)
    np.testing.assert_array_equal(w.grad.data[0], [2, 2, 2])
    w.grad = None
    F.embedding([4, 4, 1], w, padding_idx=-1).sum().backward()  # -1 is row 4
    assert np.all(w.grad.data[4] == 0) and np.all(w.grad.data[1] == 1)


def test_gradcheck():
    w = cr.randn(6, 4, dtype="float64", requires_grad=True)
    ids = np.array([[0, 1, 5], [1, 1, 3]])
    assert cr.gradcheck(lambda w: F.embedding(ids, w) ** 2, [w])
    # with a padding row, every other row still has its exact gradient
    w.grad = None
    (F.embedding(ids, w, padding_idx=1) ** 2).sum().backward()
    exact = np.zeros((6, 4))
    for v in ids.ravel():
        exact[v] += 2 * w.data[v]
    exact[1] = 0
    np.testing.assert_allclose(w.grad.data, exact, rtol=1e-12)


def test_empty_ids():
    w = cr.randn(4, 3, requires_grad=True)
    y = F.embedding(np.zeros((0,), dtype=np.int64), w)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert np.all(w.grad.data == 0)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.standard_normal((10, 4))
    ids = rng.integers(0, 10, (3, 7))
    g = rng.standard_normal((3, 7, 4))
    for pad in (None, 3):
        cw = cr.tensor(w, requires_grad=True)
        tw = torch.from_numpy(w.copy()).requires_grad_()
        y = F.embedding(ids, cw, padding_idx=pad)
        ty = torch.nn.functional.embedding(torch.from_numpy(ids), tw, padding_idx=pad)
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
        y.backward(cr.tensor(g))
        ty.backward(torch.from_numpy(g))
        np.testing.assert_allclose(cw.grad.data, tw.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_max_norm_renormalises_used_rows_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    w = rng.standard_normal((6, 3)) * 3
    ids = np.array([0, 2, 2, 5])
    cw = cr.tensor(w.copy(), requires_grad=True)
    tw = torch.from_numpy(w.copy()).requires_grad_()
    y = F.embedding(ids, cw, max_norm=1.5)
    ty = torch.nn.functional.embedding(torch.from_numpy(ids), tw, max_norm=1.5)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(cw.data, tw.detach().numpy(), rtol=1e-6)
    norms = np.linalg.norm(cw.data, axis=1)
    assert np.all(norms[[0, 2, 5]] <= 1.5 + 1e-6)
    np.testing.assert_array_equal(cw.data[[1, 3, 4]], w[[1, 3, 4]])  # unused rows untouched


def test_out_of_range_ids_name_the_id_and_vocabulary():
    w = cr.randn(10, 3)
    with pytest.raises(ValueError, match=r"token id 12 is out of range for a vocabulary of 10"):
        F.embedding(cr.tensor([[1, 12, 3]]), w)
    with pytest.raises(ValueError, match=r"token id -1 .*valid ids: 0\.\.9"):
        F.embedding([-1, 0], w)


def test_bad_ids_and_arguments():
    w = cr.randn(10, 3)
    with pytest.raises(TypeError, match="ids must be integers"):
        F.embedding(cr.tensor([1.0, 2.0]), w)
    with pytest.raises(ValueError, match="padding_idx 10 must lie in"):
        F.embedding([1], w, padding_idx=10)
    with pytest.raises(ValueError, match="weight must be a 2-D Tensor"):
        F.embedding([1], cr.randn(10))
