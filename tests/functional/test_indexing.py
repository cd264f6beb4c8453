"""Indexing with ints, slices, masks and integer arrays; take_along_axis; scattered gradients."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr


def t64(shape, seed=0):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


INDICES = [
    ("int", 1),
    ("negative int", -1),
    ("int pair", (1, 2)),
    ("slice", slice(1, 3)),
    ("step slice", (slice(None), slice(None, None, 2))),
    ("negative step", slice(None, None, -1)),
    ("ellipsis", (Ellipsis, 0)),
    ("new axis", (None, slice(None), 1)),
    ("int array", np.array([0, 2])),
    ("repeated int array", np.array([0, 0, 2, 0])),
    ("2-d int array", np.array([[0, 1], [2, 2]])),
    ("int arrays pair", (np.array([0, 1, 1]), np.array([2, 0, 2]))),
    ("array and slice", (slice(None), np.array([3, 3, 0]))),
    ("list", [2, 0, 2]),
]


@pytest.mark.parametrize("name, index", INDICES, ids=[n for n, _ in INDICES])
def test_getitem_forward_and_gradcheck(name, index):
    x = t64((3, 4))
    np.testing.assert_array_equal(
        x[index].data, x.data[np.asarray(index) if isinstance(index, list) else index]
    )
    assert cr.gradcheck(lambda a: a[index], [x])


@pytest.mark.parametrize("name, index", INDICES, ids=[n for n, _ in INDICES])
def test_getitem_matches_torch(name, index):
    pytest.importorskip("torch")
    if name == "negative step":
        pytest.skip("torch does not support negative slice steps")
    assert_matches_torch(lambda a: a[index], lambda t: t[index], shapes=[(3, 4)])


def test_repeated_indices_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[cr.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_mask_indexing():
    x = t64((3, 4))
    mask = x.data > 0
    y = x[cr.tensor(mask)]
    np.testing.assert_array_equal(y.data, x.data[mask])
    assert cr.gradcheck(lambda a: a[mask], [x])
    assert cr.gradcheck(lambda a: a[a.detach() > 0] * 2, [x])
    row_mask = np.array([True, False, True])
    assert cr.gradcheck(lambda a: a[row_mask, 1:], [x])


def test_mask_matches_torch():
    pytest.importorskip("torch")
    mask = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])
    assert_matches_torch(lambda a, m: a[m], lambda t, m: t[m], [np.ones((3, 4)) * 1.5, mask])


def test_tensor_indices_and_0d_results():
    x = t64((3, 4))
    y = x[cr.tensor(1), cr.tensor(2)]
    assert y.shape == () and isinstance(y.data, np.ndarray)
    y.backward()
    assert x.grad.data[1, 2] == 1.0 and x.grad.data.sum() == 1.0


def test_basic_index_result_is_a_view_and_gradient_is_not_aliased():
    x = t64((3, 4))
    y = x[1:]
    assert np.shares_memory(y.data, x.data)
    y.sum().backward()
    x.grad.data[0] = 5.0  # writable


def test_iterating_collects_all_gradients():
    x = t64((3, 2))
    total = None
    for row in x:
        total = row.sum() if total is None else total + row.sum()
    total.backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 2)))


def test_index_errors_are_clear():
    x = cr.ones(3, 4)
    with pytest.raises(IndexError, match=r"GetItem: index 5 is out of bounds.*\(3, 4\)"):
        x[5]
    with pytest.raises(IndexError, match="GetItem"):
        x[cr.tensor([0.5])]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take_along_axis(axis):
    x = t64((3, 4))
    rng = np.random.default_rng(1)
    shape = (5, 4) if axis == 0 else (3, 6)
    idx = rng.integers(0, x.shape[axis], shape)
    out = cr.take_along_axis(x, idx, axis)
    np.testing.assert_array_equal(out.data, np.take_along_axis(x.data, idx, axis))
    assert cr.gradcheck(lambda a: cr.take_along_axis(a, idx, axis), [x])
    assert cr.gather is cr.take_along_axis


def test_take_along_axis_repeats_and_broadcasting():
    x = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    idx = cr.tensor([[0], [0], [2]])  # broadcast against x's row axis of length 1
    out = cr.take_along_axis(x, idx, 1)
    assert out.tolist() == [[1.0], [1.0], [3.0]]
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2.0, 0.0, 1.0]])
    y = t64((1, 4))
    assert cr.gradcheck(lambda a: cr.take_along_axis(a, np.array([[3], [1], [3]]), 1), [y])


def test_take_along_axis_matches_torch_gather():
    torch = pytest.importorskip("torch")
    idx = np.array([[0, 0, 3], [2, 1, 1], [3, 3, 3]])
    assert_matches_torch(
        lambda a, i: cr.take_along_axis(a, i, 1),
        lambda t, i: torch.gather(t, 1, i),
        [np.random.default_rng(0).standard_normal((3, 4)), idx],
    )


def test_take_along_axis_errors():
    x = cr.ones(3, 4)
    with pytest.raises(TypeError, match="integers"):
        cr.take_along_axis(x, np.zeros((3, 1)), 1)
    with pytest.raises(ValueError, match="as many dimensions"):
        cr.take_along_axis(x, np.zeros(3, dtype=int), 1)
    with pytest.raises(ValueError, match="out of range"):
        cr.take_along_axis(x, np.zeros((3, 1), dtype=int), 2)
    with pytest.raises(IndexError, match=r"\[-4, 4\)"):
        cr.take_along_axis(x, np.full((3, 1), 4), 1)
    with pytest.raises(ValueError, match="do not broadcast"):
        cr.take_along_axis(x, np.zeros((2, 1), dtype=int), 1)
