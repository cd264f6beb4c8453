"""Loss modules: each matches its PyTorch twin, forward and backward, for each reduction/option."""

import numpy as np
import pytest
from helpers import assert_matches_torch

import chainrule as cr
from chainrule import nn

REDUCTIONS = ["mean", "sum", "none"]


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss"])
def test_regression_losses_match_torch(name, reduction):
    torch = pytest.importorskip("torch")
    x, t = _rng(0).standard_normal((6, 3)), _rng(1).standard_normal((6, 3))
    assert_matches_torch(
        getattr(nn, name)(reduction=reduction),
        getattr(torch.nn, name)(reduction=reduction),
        [x, t],
        requires_grad=[True, True],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(reduction, weighted):
    torch = pytest.importorskip("torch")
    p = _rng(0).uniform(0.05, 0.95, (5, 4))
    t = _rng(1).uniform(0, 1, (5, 4))
    w = _rng(2).uniform(0.5, 2, (4,)) if weighted else None
    assert_matches_torch(
        nn.BCELoss(weight=w, reduction=reduction),
        torch.nn.BCELoss(weight=None if w is None else torch.tensor(w), reduction=reduction),
        [p, t],
        requires_grad=[True, False],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits_matches_torch(reduction, pos_weight):
    torch = pytest.importorskip("torch")
    z = _rng(0).standard_normal((5, 4)) * 4
    t = (_rng(1).uniform(0, 1, (5, 4)) > 0.5).astype(np.float64)
    pw = _rng(2).uniform(0.5, 3, (4,)) if pos_weight else None
    assert_matches_torch(
        nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=pw),
        torch.nn.BCEWithLogitsLoss(
            reduction=reduction, pos_weight=None if pw is None else torch.tensor(pw)
        ),
        [z, t],
        requires_grad=[True, False],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"label_smoothing": 0.1},
        {"ignore_index": 2},
        {"weight": True},
        {"weight": True, "ignore_index": 0},
    ],
)
def test_cross_entropy_matches_torch(reduction, options):
    torch = pytest.importorskip("torch")
    x = _rng(0).standard_normal((8, 5))
    y = _rng(1).integers(0, 5, size=8)
    options = dict(options)
    ours, theirs = dict(options), dict(options)
    if options.get("weight"):
        w = _rng(2).uniform(0.5, 2, 5)
        ours["weight"], theirs["weight"] = w, torch.tensor(w)
    assert_matches_torch(
        nn.CrossEntropyLoss(reduction=reduction, **ours),
        torch.nn.CrossEntropyLoss(reduction=reduction, **theirs),
        [x, y],
    )


def test_cross_entropy_spatial_matches_torch():
    torch = pytest.importorskip("torch")
    x = _rng(0).standard_normal((2, 4, 3, 3))
    y = _rng(1).integers(0, 4, size=(2, 3, 3))
    assert_matches_torch(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    x = np.log(_rng(0).dirichlet(np.ones(5), size=7))
    y = _rng(1).integers(0, 5, size=7)
    w = _rng(2).uniform(0.5, 2, 5)
    assert_matches_torch(
        nn.NLLLoss(weight=w, ignore_index=3, reduction=reduction),
        torch.nn.NLLLoss(weight=torch.tensor(w), ignore_index=3, reduction=reduction),
        [x, y],
    )


def test_log_softmax_then_nll_equals_cross_entropy():
    x = cr.randn(6, 4, dtype="float64")
    y = cr.tensor([0, 1, 2, 3, 0, 1])
    a = nn.NLLLoss()(nn.LogSoftmax(dim=1)(x), y)
    b = nn.CrossEntropyLoss()(x, y)
    assert a.item() == pytest.approx(b.item(), rel=1e-12)


def test_weights_are_buffers_and_follow_to():
    loss = nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0])
    assert list(loss.state_dict()) == ["weight"] and loss.num_parameters() == 0
    loss.to("float64")
    assert loss.weight.dtype == np.float64
    assert list(nn.BCEWithLogitsLoss(pos_weight=cr.ones(3)).state_dict()) == ["pos_weight"]
    assert nn.MSELoss().state_dict() == {}


def test_reprs_and_bad_arguments():
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss(label_smoothing=0.1)"
    assert repr(nn.NLLLoss(ignore_index=0)) == "NLLLoss(ignore_index=0)"
    with pytest.raises(ValueError, match="unknown reduction 'avg'; available: mean, sum, none"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_out_of_range_target_names_the_loss_module():
    with pytest.raises(ValueError) as info:
        nn.CrossEntropyLoss()(cr.zeros(2, 3), cr.tensor([0, 3]))
    msg = str(info.value)
    assert "target value 3 is out of range for 3 classes" in msg
    assert "raised in model [CrossEntropyLoss] called with input shapes (2, 3), (2,)" in msg


def test_train_and_eval_give_the_same_loss():
    loss = nn.MSELoss()
    x, t = cr.randn(4), cr.randn(4)
    a = loss(x, t).item()
    assert loss.eval()(x, t).item() == a
