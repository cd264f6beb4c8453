"""Optimizers: PyTorch trajectories, param groups, closures, hooks, and what they leave alone."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]
STEPS = 20

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.1, "eps": 1e-3, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "betas": (0.5, 0.9), "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.02, "alpha": 0.9, "eps": 1e-4, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "eps": 1e-5, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adadelta", {"eps": 1e-4, "maximize": True}),
]


def _initial(seed: int = 0, dtype=np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _gradients(steps: int = STEPS, seed: int = 1, dtype=np.float64) -> list[list]:
    """A gradient per parameter per step; parameter 1 has none at steps 3 and 4 (it is skipped)."""
    rng = np.random.default_rng(seed)
    seq = []
    for t in range(steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        if t in (3, 4):
            grads[1] = None
        seq.append(grads)
    return seq


def _run_chainrule(opt, params, grads) -> list[list[np.ndarray]]:
    out = []
    for gs in grads:
        for p, g in zip(params, gs, strict=True):
            p.grad = None if g is None else cr.tensor(g)
        opt.step()
        out.append([p.data.copy() for p in params])
    return out


def _run_torch(opt, params, grads) -> list[list[np.ndarray]]:
    import torch

    out = []
    for gs in grads:
        for p, g in zip(params, gs, strict=True):
            p.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def _torch_params(init):
    import torch

    return [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-9):
    for step, (a_list, b_list) in enumerate(zip(ours, theirs, strict=True)):
        for i, (a, b) in enumerate(zip(a_list, b_list, strict=True)):
            np.testing.assert_allclose(
                a, b, rtol=rtol, atol=atol, err_msg=f"step {step}, param {i}"
            )


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    init, grads = _initial(), _gradients()
    params = [cr.tensor(a, requires_grad=True) for a in init]
    ours = _run_chainrule(getattr(optim, name)(params, **kwargs), params, grads)
    tparams = _torch_params(init)
    theirs = _run_torch(getattr(torch.optim, name)(tparams, **kwargs), tparams, grads)
    _assert_same(ours, theirs)
    assert not np.allclose(ours[-1][0], init[0])  # the parameters did move


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_float32_trajectory_matches_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = {"lr": 0.01, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    init, grads = _initial(dtype=np.float32), _gradients(dtype=np.float32)
    params = [cr.tensor(a, requires_grad=True) for a in init]
    ours = _run_chainrule(getattr(optim, name)(params, **kwargs), params, grads)
    assert all(p.dtype == np.float32 for p in params)
    tparams = _torch_params(init)
    theirs = _run_torch(getattr(torch.optim, name)(tparams, **kwargs), tparams, grads)
    _assert_same(ours, theirs, rtol=1e-4, atol=1e-6)


def test_param_groups_with_different_options_match_torch():
    torch = pytest.importorskip("torch")
    init, grads = _initial(), _gradients()

    def groups(ps):
        return [
            {"params": [ps[0]]},
            {"params": [ps[1], ps[2]], "lr": 0.01, "momentum": 0.5, "nesterov": True},
        ]

    params = [cr.tensor(a, requires_grad=True) for a in init]
    opt = optim.SGD(groups(params), lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[0]["momentum"] == 0.9 and not opt.param_groups[0]["nesterov"]
    ours = _run_chainrule(opt, params, grads)
    tparams = _torch_params(init)
    theirs = _run_torch(torch.optim.SGD(groups(tparams), lr=0.1, momentum=0.9), tparams, grads)
    _assert_same(ours, theirs)


def test_add_param_group_later_matches_torch():
    torch = pytest.importorskip("torch")
    init, grads = _initial(), _gradients()
    params = [cr.tensor(a, requires_grad=True) for a in init]
    tparams = _torch_params(init)
    opt = optim.Adam(params[:2], lr=0.01)
    topt = torch.optim.Adam(tparams[:2], lr=0.01)
    ours = _run_chainrule(opt, params, grads[:5])
    theirs = _run_torch(topt, tparams, grads[:5])
    opt.add_param_group({"params": params[2], "lr": 0.05, "amsgrad": True})
    topt.add_param_group({"params": tparams[2], "lr": 0.05, "amsgrad": True})
    ours += _run_chainrule(opt, params, grads[5:])
    theirs += _run_torch(topt, tparams, grads[5:])
    _assert_same(ours, theirs)
    np.testing.assert_array_equal(ours[4][2], init[2])  # not optimized before it was added


def test_changing_group_lr_takes_effect():
    w = cr.tensor([1.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = cr.tensor([1.0], dtype="float64")
    opt.step()
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    np.testing.assert_allclose(w.data, [1.0 - 0.1 - 0.5])


@pytest.mark.parametrize(("name", "kwargs"), CASES[::3], ids=[n for n, _ in CASES[::3]])
def test_gradients_are_never_mutated(name, kwargs):
    params = [cr.tensor(a, requires_grad=True) for a in _initial()]
    opt = getattr(optim, name)(params, **kwargs)
    for gs in _gradients(steps=3):
        for p, g in zip(params, gs, strict=True):
            p.grad = None if g is None else cr.tensor(g)
        kept = [None if p.grad is None else p.grad.data.copy() for p in params]
        opt.step()
        for p, k in zip(params, kept, strict=True):
            if k is not None:
                np.testing.assert_array_equal(p.grad.data, k)


def test_step_is_not_recorded_and_keeps_the_array():
    w = cr.tensor([[1.0, 2.0]], requires_grad=True)
    data = w.data
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.grad_fn is None and w.is_leaf and w.requires_grad
    assert w.data is data  # updated in place: views and references stay valid


def test_training_with_autograd_reduces_the_loss():
    x = cr.tensor(np.random.default_rng(0).standard_normal((32, 3)))
    y = x @ cr.tensor([[1.0], [-2.0], [0.5]])
    w = cr.zeros(3, 1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(w.data.ravel(), [1.0, -2.0, 0.5], atol=1e-2)


def test_closure_is_evaluated_with_grad_enabled():
    w = cr.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(w.data, [1.5])


def test_zero_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    buf = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is buf
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_step_hooks_run_once_around_each_step():
    calls = []

    class LoggedSGD(optim.SGD):
        def step(self, closure=None):
            calls.append("step")
            return super().step(closure)

    w = cr.tensor([1.0], requires_grad=True)
    opt = LoggedSGD([w], lr=0.1)
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    post = opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    w.grad = cr.tensor([1.0])
    opt.step()
    assert calls == ["pre", "step", "post"]
    pre.remove()
    post.remove()
    opt.step()
    assert calls == ["pre", "step", "post", "step"]


def test_repr_lists_groups():
    opt = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.5, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# Large parameters go through the fused numba kernels (chainrule/optim/_numba_updates.py).
BIG = [(80, 64), (64,), (4100,)]  # first and last above the fused-kernel threshold
FUSED_CASES = [c for c in CASES if c[0] in ("SGD", "Adam", "AdamW")]


def _big_run(name, kwargs, dtype, steps=4):
    rng = np.random.default_rng(5)
    params = [cr.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in BIG]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(steps):
        for p in params:
            p.grad = cr.tensor(rng.standard_normal(p.shape).astype(dtype))
        opt.step()
    return [p.data for p in params], opt


@pytest.mark.parametrize(("name", "kwargs"), FUSED_CASES, ids=[f"{n}-{k}" for n, k in FUSED_CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernels_agree_with_numpy_bit_for_bit(name, kwargs, dtype, monkeypatch):
    pytest.importorskip("numba")
    from chainrule.optim import optimizer as base

    monkeypatch.setattr(cr.config, "use_numba", True)
    fused, opt = _big_run(name, kwargs, dtype)
    assert base._fused  # the kernels were used
    monkeypatch.setattr(cr.config, "use_numba", False)
    plain, plain_opt = _big_run(name, kwargs, dtype)
    for a, b in zip(fused, plain, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    fused_state, plain_state = opt.state_dict()["state"], plain_opt.state_dict()["state"]
    assert sorted(fused_state) == sorted(plain_state)
    for idx, entries in fused_state.items():
        for key, value in entries.items():
            np.testing.assert_array_equal(value, plain_state[idx][key])
