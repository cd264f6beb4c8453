"""Optimizer checkpoints (round trips, JSON, PyTorch's layout) and clear errors on bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

SHAPES = [(3, 2), (2,)]

CONFIGS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adadelta", {"rho": 0.8}),
]


def _grads(steps: int, seed: int = 3) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def _params(values=None) -> list[cr.Tensor]:
    if values is None:
        rng = np.random.default_rng(0)
        values = [rng.standard_normal(s) for s in SHAPES]
    return [cr.tensor(v, requires_grad=True) for v in values]


def _run(opt, params, grads) -> None:
    for gs in grads:
        for p, g in zip(params, gs, strict=True):
            p.grad = cr.tensor(g)
        opt.step()


def _to_json(state_dict: dict) -> str:
    def plain(v):
        return v.tolist() if isinstance(v, np.ndarray) else v

    state = {k: {n: plain(v) for n, v in s.items()} for k, s in state_dict["state"].items()}
    return json.dumps({"state": state, "param_groups": state_dict["param_groups"]})


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=[n for n, _ in CONFIGS])
@pytest.mark.parametrize("via_json", [False, True], ids=["dict", "json"])
def test_state_dict_round_trip_continues_exactly(name, kwargs, via_json):
    cls = getattr(optim, name)
    grads = _grads(10)
    straight = _params()
    _run(cls(straight, **kwargs), straight, grads)

    first = _params()
    opt = cls(first, **kwargs)
    _run(opt, first, grads[:5])
    saved = opt.state_dict()
    if via_json:
        saved = json.loads(_to_json(saved))
    resumed = _params([p.data.copy() for p in first])
    fresh = cls(resumed, lr=123.0)  # the saved options replace these
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs.get("lr", 1.0)  # 1.0: Adadelta's default
    _run(fresh, resumed, grads[5:])
    for a, b in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_layout_and_copies():
    params = _params()
    opt = optim.SGD(
        [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1, momentum=0.9
    )
    _run(opt, params, _grads(2))
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sorted(sd["state"]) == [0, 1]
    buf = sd["state"][0]["momentum_buffer"]
    assert isinstance(buf, np.ndarray) and buf.shape == (3, 2)
    assert buf is not opt.state[params[0]]["momentum_buffer"]
    buf += 100.0  # editing the saved copy leaves the optimizer alone
    assert not np.allclose(opt.state[params[0]]["momentum_buffer"], buf)
    json.dumps(sd["param_groups"])


def test_adam_state_names_and_step_count():
    params = _params()
    opt = optim.Adam(params, amsgrad=True)
    _run(opt, params, _grads(3))
    entry = opt.state_dict()["state"][1]
    assert sorted(entry) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert entry["step"] == 3 and isinstance(entry["step"], int)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_loads_a_pytorch_state_dict(name):
    torch = pytest.importorskip("torch")
    kwargs = {"SGD": {"lr": 0.1, "momentum": 0.9}, "Adam": {"lr": 0.01}, "RMSprop": {"lr": 0.01}}[
        name
    ]
    grads = _grads(10)
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    tparams = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in init]
    topt = getattr(torch.optim, name)(tparams, **kwargs)

    def torch_run(gs_list):
        for gs in gs_list:
            for p, g in zip(tparams, gs, strict=True):
                p.grad = torch.from_numpy(g.copy())
            topt.step()

    torch_run(grads[:5])
    params = _params([p.detach().numpy().copy() for p in tparams])
    opt = getattr(optim, name)(params, **kwargs)
    opt.load_state_dict(topt.state_dict())
    torch_run(grads[5:])
    _run(opt, params, grads[5:])
    for a, b in zip(params, tparams, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10)


def test_loaded_state_is_cast_to_the_parameter_dtype():
    src = _params()
    opt = optim.Adam(src)
    _run(opt, src, _grads(1))
    dst = [cr.tensor(p.data, dtype="float32", requires_grad=True) for p in src]
    other = optim.Adam(dst)
    other.load_state_dict(opt.state_dict())
    assert other.state[dst[0]]["exp_avg"].dtype == np.float32


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_negative_lr_is_rejected(name):
    with pytest.raises(ValueError, match=rf"{name}: invalid lr -0.1"):
        getattr(optim, name)(_params(), lr=-0.1)


def test_bad_options_are_rejected():
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"invalid betas\[1\] 1.0"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="betas must be a pair"):
        optim.Adam([w], betas=(0.9,))
    with pytest.raises(ValueError, match="invalid alpha"):
        optim.RMSprop([w], alpha=1.5)
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.SGD([w], lr="0.1")
    with pytest.raises(ValueError, match="invalid momentum"):
        optim.SGD([{"params": [w], "momentum": -1.0}], lr=0.1)


def test_unknown_option_is_named():
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"unknown option 'momentun' .*available: .*momentum"):
        optim.SGD([{"params": [w], "momentun": 0.9}], lr=0.1)
    with pytest.raises(TypeError, match="momentun"):
        optim.SGD([w], lr=0.1, momentun=0.9)


def test_bad_params_are_rejected():
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(
        ValueError, match=r"parameter 1 of group 0 \(shape \(3,\)\) does not require"
    ):
        optim.SGD([w, cr.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="must be a Tensor, got ndarray"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="Wrap it in a list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([w, w], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="already in another group"):
        opt.add_param_group({"params": [w]})


def test_load_state_dict_mismatches_are_clear():
    a, b = _params()
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9)
    _run(opt, [a, b], _grads(1))
    saved = opt.state_dict()
    with pytest.raises(
        ValueError, match=r"saved state has 2 parameter group\(s\) but this optimizer has 1"
    ):
        optim.SGD([a, b], lr=0.1).load_state_dict(saved)
    one_group = optim.SGD([a, b], lr=0.1, momentum=0.9)
    _run(one_group, [a, b], _grads(1))
    with pytest.raises(ValueError, match="group 0 has 2 parameter"):
        optim.SGD([a], lr=0.1).load_state_dict(one_group.state_dict())
    wrong_shape = [cr.zeros(5, requires_grad=True), cr.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(3, 2\)"):
        optim.SGD(wrong_shape, lr=0.1).load_state_dict(one_group.state_dict())
    with pytest.raises(ValueError, match="expected a dict with keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
