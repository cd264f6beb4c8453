"""Resuming is exact: 4 epochs in one go == 2 epochs, save, load into fresh objects, 2 epochs."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.io import load, save
from chainrule.models import MLP

_DATA = np.random.default_rng(42)
X = _DATA.standard_normal((96, 10)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5)


def _build(kind):
    model = MLP(10, (64, 64), 3)  # 64 * 64 = 4096 weights: large enough for Adam's fused kernel
    if kind == "sgd":
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
        sched = optim.StepLR(opt, step_size=1, gamma=0.7)
    else:
        opt = optim.Adam(model.parameters(), lr=3e-3, amsgrad=True)
        sched = optim.CosineAnnealingLR(opt, T_max=4)
    return model, opt, sched


def _epochs(model, opt, sched, n):
    """A hand-written loop; data order and input noise come from the package's generator, and
    label noise from NumPy's global one, so the RNG states must be restored too."""
    for _ in range(n):
        order = cr.get_rng().permutation(len(X))
        for start in range(0, len(X), 16):
            idx = order[start : start + 16]
            x = X[idx] + 0.05 * cr.get_rng().standard_normal((len(idx), 10)).astype(np.float32)
            y = np.where(np.random.random(len(idx)) < 0.1, 0, Y[idx])
            loss = cr.cross_entropy(model(cr.tensor(x)), cr.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_resume_is_bit_identical(tmp_path, kind):
    cr.manual_seed(7)
    model, opt, sched = _build(kind)
    _epochs(model, opt, sched, 4)
    straight = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    cr.manual_seed(7)
    model, opt, sched = _build(kind)
    _epochs(model, opt, sched, 2)
    save(tmp_path / "ckpt", model, opt, sched, epoch=2)
    del model, opt, sched

    cr.manual_seed(999)  # a different process state: other weights, other random streams
    np.random.random(17)
    model, opt, sched = _build(kind)
    ckpt = load(tmp_path / "ckpt", model, opt, sched)
    _epochs(model, opt, sched, 4 - ckpt.epoch)
    resumed = {k: v.numpy() for k, v in model.state_dict().items()}

    assert list(resumed) == list(straight)
    for key, value in straight.items():
        assert np.array_equal(resumed[key], value), key
