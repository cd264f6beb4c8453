"""Learning-rate schedules: the same lr sequences as PyTorch, checkpoints, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

EPOCHS = 30
LRS = (0.1, 0.02)  # two parameter groups with different starting lrs

SCHEDULES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1, "gamma": 0.9}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 30}),
]


def _optimizer():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    return optim.SGD([{"params": [a], "lr": LRS[0]}, {"params": [b], "lr": LRS[1]}], momentum=0.9)


def _torch_optimizer():
    import torch

    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))
    return torch.optim.SGD(
        [{"params": [a], "lr": LRS[0]}, {"params": [b], "lr": LRS[1]}], momentum=0.9
    )


def _sequence(opt, sched, epochs=EPOCHS):
    seq = []
    for _ in range(epochs):
        seq.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == seq[-1]
        opt.step()
        sched.step()
    return np.array(seq)


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[f"{n}-{k}" for n, k in SCHEDULES])
def test_lr_sequence_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    opt = _optimizer()
    ours = _sequence(opt, getattr(lr_scheduler, name)(opt, **kwargs))
    topt = _torch_optimizer()
    theirs = _sequence(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kwargs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_known_values():
    opt = _optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    seq = _sequence(opt, sched, epochs=9)[:, 0]
    expected = [0.1 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(9)]
    np.testing.assert_allclose(seq, expected, atol=1e-15)
    assert seq[4] == 0.0 and seq[8] == pytest.approx(0.1)
    opt = _optimizer()
    seq = _sequence(opt, lr_scheduler.MultiStepLR(opt, [2, 4, 4], gamma=0.5), epochs=6)[:, 1]
    np.testing.assert_allclose(seq, [0.02, 0.02, 0.01, 0.01, 0.0025, 0.0025])


def test_step_with_epoch_uses_the_closed_form():
    opt = _optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
    sched.step(epoch=7)
    np.testing.assert_allclose(sched.get_last_lr(), [0.1 * 0.01, 0.02 * 0.01])
    assert sched.last_epoch == 7


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {"patience": 1, "factor": 0.5, "cooldown": 2},
        {"mode": "max", "patience": 0, "threshold": 0.1, "threshold_mode": "abs"},
        {"mode": "max", "patience": 1, "threshold": 0.05, "threshold_mode": "rel"},
        {"patience": 0, "threshold_mode": "abs", "threshold": 0.01, "min_lr": [0.01, 0.001]},
        {"patience": 0, "factor": 0.2, "min_lr": 0.005, "eps": 1e-3},
    ],
)
def test_reduce_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    # a loss that falls, stalls, falls again, then wanders
    metrics = np.concatenate(
        [np.linspace(1.0, 0.5, 6), np.full(6, 0.5), np.linspace(0.5, 0.3, 4), rng.random(14)]
    )
    results = []
    for opt, cls in [
        (_optimizer(), lr_scheduler.ReduceLROnPlateau),
        (_torch_optimizer(), torch.optim.lr_scheduler.ReduceLROnPlateau),
    ]:
        sched = cls(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(float(m))
            seq.append(list(sched.get_last_lr()))
        results.append(seq)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    assert results[0][0] != results[0][-1]  # the schedule did cut the lr


def test_reduce_on_plateau_accepts_a_tensor_metric():
    opt = _optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(cr.tensor(1.0))
    sched.step(cr.tensor(2.0))
    np.testing.assert_allclose(sched.get_last_lr(), [0.01, 0.002])


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [*SCHEDULES[::2], ("ReduceLROnPlateau", {"patience": 1})],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_state_dict_round_trip(name, kwargs):
    metrics = list(np.random.default_rng(1).random(EPOCHS))

    def advance(opt, sched, epochs):
        out = []
        for _ in range(epochs):
            opt.step()
            if name == "ReduceLROnPlateau":
                sched.step(metrics.pop(0))
            else:
                sched.step()
            out.append(sched.get_last_lr())
        return out

    cls = getattr(lr_scheduler, name)
    opt = _optimizer()
    straight = advance(opt, cls(opt, **kwargs), 20)

    metrics = list(np.random.default_rng(1).random(EPOCHS))
    opt = _optimizer()
    sched = cls(opt, **kwargs)
    first = advance(opt, sched, 10)
    saved_sched = json.loads(json.dumps(sched.state_dict()))
    saved_opt = opt.state_dict()
    opt2 = _optimizer()
    sched2 = cls(opt2, **kwargs)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.last_epoch == 10
    rest = advance(opt2, sched2, 10)
    np.testing.assert_allclose(first + rest, straight, rtol=1e-15)


def test_resuming_needs_initial_lr():
    opt = _optimizer()
    with pytest.raises(ValueError, match="'initial_lr' in every parameter group"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)
    lr_scheduler.StepLR(opt, step_size=2)
    sched = lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)  # initial_lr is there now
    assert sched.last_epoch == 5


def test_bad_input_is_rejected():
    opt = _optimizer()
    with pytest.raises(TypeError, match="expected an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="milestones must be increasing"):
        lr_scheduler.MultiStepLR(opt, milestones=[5, 3])
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="unknown mode 'avg'; available: min, max"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="unknown threshold_mode"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match=r"factor must be a number in \[0, 1\)"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match=r"one min_lr per parameter group \(2\), got 3"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="pass the monitored metric"):
        lr_scheduler.ReduceLROnPlateau(opt).step()
