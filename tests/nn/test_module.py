"""Module: registration, traversal, state_dict, modes, conversion, hooks, failing-layer messages."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.register_buffer("running", cr.zeros(8))
        self.register_buffer("scratch", cr.ones(2), persistent=False)

    def forward(self, x):
        return self.act(self.fc1(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(cr.ones(1))

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


@pytest.fixture
def net():
    cr.manual_seed(0)
    return Net()


# ----------------------------------------------------------------------------- registration
def test_named_parameters_are_dotted_and_ordered(net):
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "encoder.fc1.weight", "encoder.fc1.bias", "head.weight", "head.bias"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())


def test_buffers_children_and_modules(net):
    assert [n for n, _ in net.named_buffers()] == ["encoder.running", "encoder.scratch"]
    assert [n for n, _ in net.named_children()] == ["encoder", "head"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "encoder",
        "encoder.fc1",
        "encoder.act",
        "head",
    ]
    assert len(list(net.modules())) == 5
    assert list(net.children())[1] is net.head


def test_num_parameters(net):
    assert net.num_parameters() == 1 + (4 * 8 + 8) + (8 * 3 + 3)
    net.encoder.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 1 + 8 * 3 + 3


def test_shared_parameter_and_module_are_counted_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)
            self.b.weight = self.a.weight
            self.again = self.a

    m = Tied()
    assert [n for n, _ in m.named_parameters()] == ["a.weight", "a.bias", "b.bias"]
    assert [n for n, _ in m.named_modules()] == ["", "a", "b"]
    # the state dict names every path, as PyTorch does, and loading it round-trips
    keys = list(m.state_dict())
    assert keys == ["a.weight", "a.bias", "b.weight", "b.bias", "again.weight", "again.bias"]
    m.load_state_dict(m.state_dict())


def test_attribute_rules():
    m = nn.Module()
    m.w = nn.Parameter(cr.zeros(2))
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = cr.zeros(2)
    m.w = None
    assert m.w is None and list(m.parameters()) == []
    m.sub = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="submodule 'sub'"):
        m.sub = 3
    m.register_buffer("buf", cr.zeros(1))
    with pytest.raises(TypeError, match="buffer 'buf'"):
        m.buf = [1, 2]
    m.buf = cr.ones(3)
    assert m.buf.shape == (3,)
    del m.sub
    assert "sub" not in dict(m.named_children())
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        _ = m.missing
    assert "buf" in dir(m)


def test_registration_errors():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(1))

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        Early()
    m = nn.Module()
    with pytest.raises(TypeError, match="must be a Tensor"):
        m.register_buffer("b", np.zeros(2))
    with pytest.raises(ValueError, match="contain no '.'"):
        m.register_buffer("a.b", cr.zeros(1))
    with pytest.raises(ValueError, match="already exists"):
        m.register_buffer("forward", cr.zeros(1))
    with pytest.raises(TypeError, match="nn.Parameter"):
        m.register_parameter("p", cr.zeros(1))
    with pytest.raises(TypeError, match=r"ReLU\(\) instead of ReLU"):
        m.add_module("act", nn.ReLU)


def test_parameter_repr_and_copy():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert repr(p).startswith("Parameter containing:\ntensor([1., 2.]")
    assert "requires_grad=True" in repr(p)
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.data is not p.data
    np.testing.assert_array_equal(q.data, p.data)
    r = pickle.loads(pickle.dumps(p))
    assert isinstance(r, nn.Parameter) and r.requires_grad
    frozen = nn.Parameter(cr.zeros(1), requires_grad=False)
    assert not frozen.requires_grad


def test_parameter_shares_the_tensor_array():
    t = cr.zeros(3)
    p = nn.Parameter(t)
    assert p.data is t.data
    out = (p * 2).sum()
    assert type(out) is cr.Tensor


# ----------------------------------------------------------------------------- state dict
def test_state_dict_holds_parameters_and_persistent_buffers(net):
    sd = net.state_dict()
    assert list(sd) == [
        "scale",
        "encoder.running",
        "encoder.fc1.weight",
        "encoder.fc1.bias",
        "head.weight",
        "head.bias",
    ]  # fmt: skip  (own tensors before the children's, as in PyTorch)
    assert all(type(v) is cr.Tensor and not v.requires_grad for v in sd.values())
    assert sd["head.weight"].data is net.head.weight.data  # shares memory, as in PyTorch
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight


def test_state_dict_round_trip(net):
    cr.manual_seed(1)
    other = Net()
    x = cr.randn(5, 4)
    assert not np.allclose(net(x).data, other(x).data)
    snapshot = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    result = other.load_state_dict(snapshot)
    assert result == nn.IncompatibleKeys([], [])
    np.testing.assert_array_equal(net(x).data, other(x).data)
    # loading copies in place: the Parameter objects stay the same
    assert other.head.weight is dict(other.named_parameters())["head.weight"]


def test_deepcopy_and_pickle_give_independent_models(net):
    x = cr.randn(2, 4)
    twin = copy.deepcopy(net)
    np.testing.assert_array_equal(twin(x).data, net(x).data)
    twin.head.weight.data += 1
    assert not np.allclose(twin(x).data, net(x).data)
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(again(x).data, net(x).data)


def test_load_state_dict_strict_lists_every_bad_key(net):
    sd = net.state_dict()
    del sd["head.bias"]
    sd["extra.weight"] = cr.zeros(2)
    sd["encoder.fc1.weight"] = cr.zeros(8, 5)
    before = net.head.weight.numpy().copy()
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert "missing keys (1): head.bias" in msg
    assert "unexpected keys (1): extra.weight" in msg
    assert "encoder.fc1.weight: expected (8, 4), got (8, 5)" in msg
    assert isinstance(info.value, nn.StateDictError)
    assert info.value.missing_keys == ["head.bias"]
    np.testing.assert_array_equal(net.head.weight.data, before)  # nothing was loaded


def test_load_state_dict_non_strict_returns_the_skipped_keys(net):
    sd = net.state_dict()
    del sd["head.bias"]
    sd["extra"] = cr.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["extra"]
    missing, unexpected = result
    assert missing == ["head.bias"]
    sd["head.weight"] = cr.zeros(2, 2)
    with pytest.raises(RuntimeError, match="mis-shaped keys"):
        net.load_state_dict(sd, strict=False)  # a wrong shape is always an error


def test_load_state_dict_hints_at_a_prefix(net):
    sd = {"module." + k: v for k, v in net.state_dict().items()}
    with pytest.raises(RuntimeError, match="prefix 'module.'; strip it"):
        net.load_state_dict(sd)


def test_load_state_dict_rejects_non_mappings(net):
    with pytest.raises(TypeError, match="expected a dict"):
        net.load_state_dict([1, 2])


# ------------------------------------------------------------------------- modes and bulk changes
def test_train_eval_propagate(net):
    assert net.training and net.encoder.fc1.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.encoder.train()
    assert net.encoder.act.training and not net.training
    with pytest.raises(TypeError):
        net.train("yes")


def test_train_vs_eval_changes_a_layer_that_reads_the_flag():
    class Noisy(nn.Module):
        def forward(self, x):
            return x + 1 if self.training else x

    m = nn.Sequential(Noisy())
    x = cr.zeros(2)
    assert m(x).data.tolist() == [1.0, 1.0]
    assert m.eval()(x).data.tolist() == [0.0, 0.0]


def test_zero_grad(net):
    net(cr.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first(net):
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Encoder", "Linear", "Net"]


def test_to_dtype_converts_in_place(net):
    w = net.head.weight
    net.register_buffer("steps", cr.zeros(1, dtype="int64"))
    net(cr.randn(2, 4)).sum().backward()
    assert net.to("float64") is net
    assert net.head.weight is w and w.dtype == np.float64 and w.grad.dtype == np.float64
    assert net.encoder.running.dtype == np.float64
    assert net.steps.dtype == np.int64  # only floating tensors are cast
    assert net(cr.randn(2, 4, dtype="float64")).dtype == np.float64
    net.float()
    assert w.dtype == np.float32
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating dtype"):
        net.to("int32")


def test_requires_grad_freezes(net):
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.head.requires_grad_()
    assert [n for n, p in net.named_parameters() if p.requires_grad] == ["head.weight", "head.bias"]


def test_get_submodule_and_parameter(net):
    assert net.get_submodule("encoder.fc1") is net.encoder.fc1
    assert net.get_parameter("encoder.fc1.bias") is net.encoder.fc1.bias
    with pytest.raises(AttributeError, match="available: fc1, act"):
        net.get_submodule("encoder.fc2")


def test_repr_is_nested_with_extra_repr(net):
    assert repr(net) == (
        "Net(\n"
        "  (encoder): Encoder(\n"
        "    (fc1): Linear(4, 8, bias=True)\n"
        "    (act): ReLU()\n"
        "  )\n"
        "  (head): Linear(8, 3, bias=True)\n"
        ")"
    )


# ----------------------------------------------------------------------------- hooks
def test_forward_hooks_observe_and_replace(net):
    seen = []
    h1 = net.encoder.fc1.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    h2 = net.head.register_forward_hook(lambda m, args, out: out * 0)
    out = net(cr.randn(5, 4))
    assert seen == [(5, 8)] and not out.data.any()
    h1.remove()
    h2.remove()
    h2.remove()  # a second remove does nothing
    net(cr.randn(5, 4))
    assert seen == [(5, 8)]


def test_forward_pre_hook_replaces_inputs():
    lin = nn.Identity()
    with lin.register_forward_pre_hook(lambda m, args: args[0] + 1):
        assert lin(cr.zeros(2)).data.tolist() == [1.0, 1.0]
    assert lin(cr.zeros(2)).data.tolist() == [0.0, 0.0]  # the with block removed the hook


# ----------------------------------------------------------------------------- failing layers
def test_error_names_the_module_path_and_shapes_once(net):
    with pytest.raises(ValueError) as info:
        net(cr.randn(32, 5))
    err = info.value
    msg = str(err)
    assert msg.startswith("Linear(4, 8, bias=True) expected input of shape (N, *, 4), got (32, 5).")
    assert (
        "raised in model.encoder.fc1 [Linear] called with input shape (32, 5); model = Net" in msg
    )
    assert msg.count("raised in") == 1
    assert isinstance(err.__cause__, ValueError) and "raised in" not in str(err.__cause__)


def test_error_in_the_root_forward():
    class Broken(nn.Module):
        def forward(self, x, y):
            return x @ y

    with pytest.raises(ValueError) as info:
        Broken()(cr.zeros(2, 3), cr.zeros(4, 5))
    assert "raised in model [Broken] called with input shapes (2, 3), (4, 5)" in str(info.value)


def test_error_keeps_type_and_falls_back_to_a_note():
    class Lookup(nn.Module):
        def forward(self, x):
            return {}["k"]

    class Custom(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)

    class Raises(nn.Module):
        def forward(self, x):
            raise Custom(1, 2)

    with pytest.raises(KeyError) as info:
        nn.Sequential(Lookup())(cr.zeros(1))
    assert any("model.0 [Lookup]" in note for note in info.value.__notes__)
    with pytest.raises(Custom) as info2:
        nn.Sequential(nn.Sequential(Raises()))(cr.zeros(1))
    assert info2.value.__notes__ == [
        "(raised in model.0.0 [Raises] called with input shape (1,); model = Sequential)"
    ]


def test_unimplemented_forward_and_clean_call_stack():
    from chainrule.nn._call_errors import call_stack

    with pytest.raises(NotImplementedError, match="forward\\(\\) is not implemented"):
        nn.Sequential(nn.Module())(cr.zeros(1))
    assert call_stack() == []


def test_unregistered_module_called_inside_forward():
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.__dict__["hidden"] = nn.Linear(2, 2)  # not registered

        def forward(self, x):
            return self.hidden(x)

    with pytest.raises(ValueError, match=r"model.<Linear> \[Linear\]"):
        Wrapper()(cr.zeros(1, 3))
