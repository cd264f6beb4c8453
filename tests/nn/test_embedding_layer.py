"""nn.Embedding: shapes, init, padding, from_pretrained, state_dict, PyTorch, errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_shape_parameters_and_init():
    emb = nn.Embedding(50, 8, padding_idx=0)
    assert emb(cr.tensor([[1, 2, 0], [4, 4, 4]])).shape == (2, 3, 8)
    assert emb.num_parameters() == 400 and emb.weight.dtype == np.float32
    assert np.all(emb.weight.data[0] == 0)
    assert abs(float(emb.weight.data[1:].std()) - 1.0) < 0.15  # N(0, 1) as in PyTorch
    assert repr(emb) == "Embedding(50, 8, padding_idx=0)"
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


def test_training_leaves_padding_row_at_zero():
    emb = nn.Embedding(6, 3, padding_idx=5)
    opt = cr.optim.SGD(emb.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        emb(cr.tensor([[5, 1, 5, 2]])).sum().backward()
        opt.step()
    assert np.all(emb.weight.data[5] == 0)


def test_train_and_eval_give_the_same_output():
    emb = nn.Embedding(6, 3)
    ids = cr.tensor([1, 2, 3])
    a = emb(ids).data.copy()
    np.testing.assert_array_equal(emb.eval()(ids).data, a)


def test_from_pretrained_freeze_and_sharing():
    vectors = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    frozen = nn.Embedding.from_pretrained(vectors)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(cr.tensor([3])).data[0], vectors[3])
    assert list(frozen.parameters())[0] is frozen.weight
    tuned = nn.Embedding.from_pretrained(cr.tensor(vectors), freeze=False, padding_idx=0)
    assert tuned.weight.requires_grad and tuned.padding_idx == 0
    np.testing.assert_array_equal(tuned.weight.data[0], vectors[0])  # kept, not zeroed
    tuned(cr.tensor([0, 1])).sum().backward()
    assert np.all(tuned.weight.grad.data[0] == 0) and np.all(tuned.weight.grad.data[1] == 1)
    with pytest.raises(ValueError, match="must be 2-D"):
        nn.Embedding.from_pretrained(np.zeros(5))


def test_state_dict_round_trip_and_seeding():
    cr.manual_seed(4)
    a = nn.Embedding(9, 3)
    cr.manual_seed(4)
    np.testing.assert_array_equal(nn.Embedding(9, 3).weight.data, a.weight.data)
    b = nn.Embedding(9, 3)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(cr.tensor([1, 8])).data, b(cr.tensor([1, 8])).data)


def test_max_norm_layer():
    emb = nn.Embedding(4, 3, max_norm=1.0)
    with cr.no_grad():
        emb.weight.data[...] = 5.0
    y = emb(cr.tensor([0, 1]))
    np.testing.assert_allclose(np.linalg.norm(y.data, axis=1), 1.0, rtol=1e-5)
    assert np.all(emb.weight.data[2:] == 5.0)


def test_matches_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    t = torch.nn.Embedding(20, 5, padding_idx=2)
    emb = nn.Embedding(20, 5, padding_idx=2)
    emb.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    ids = np.random.default_rng(0).integers(0, 20, (4, 6))
    g = np.random.default_rng(1).standard_normal((4, 6, 5)).astype(np.float32)
    y = emb(cr.tensor(ids))
    ty = t(torch.from_numpy(ids))
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    y.backward(cr.tensor(g))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(emb.weight.grad.data, t.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_errors_name_the_layer_and_the_bad_id():
    model = nn.Sequential(nn.Embedding(100, 4))
    msg = r"Embedding\(100, 4\): token id 100 is out of range for a vocabulary of 100"
    with pytest.raises(ValueError, match=msg):
        model(cr.tensor([[1, 100]]))
    try:
        model(cr.tensor([[1, 100]]))
    except ValueError as err:
        assert "Embedding" in str(err) and "(1, 2)" in str(err)
    with pytest.raises(ValueError, match="num_embeddings must be a positive int"):
        nn.Embedding(0, 3)
    with pytest.raises(ValueError, match="padding_idx 7 must lie in"):
        nn.Embedding(5, 3, padding_idx=7)
    with pytest.raises(ValueError, match=r"_weight must have shape \(5, 3\)"):
        nn.Embedding(5, 3, _weight=np.zeros((4, 3), dtype=np.float32))
