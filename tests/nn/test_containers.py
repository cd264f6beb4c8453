"""Sequential, ModuleList and ModuleDict."""

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


@pytest.fixture
def seq():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_sequential_chains_and_counts(seq):
    assert seq(cr.randn(5, 4)).shape == (5, 2)
    assert len(seq) == 3
    assert seq.num_parameters() == 4 * 8 + 8 + 8 * 2 + 2
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_sequential_matches_composing_its_layers(seq):
    x = cr.randn(3, 4)
    np.testing.assert_allclose(seq(x).data, seq[2](seq[1](seq[0](x))).data)


def test_sequential_indexing_and_slicing(seq):
    assert isinstance(seq[1], nn.ReLU)
    assert seq[-1] is seq[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    assert head(cr.randn(2, 4)).shape == (2, 8)
    assert [type(m).__name__ for m in seq[::2]] == ["Linear", "Linear"]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]
    with pytest.raises(TypeError, match="integers or slices"):
        seq["0"]


def test_sequential_edit(seq):
    seq.append(nn.Tanh())
    assert len(seq) == 4 and isinstance(seq[3], nn.Tanh)
    seq.insert(1, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Linear", "Identity", "ReLU", "Linear", "Tanh"]
    assert list(dict(seq.named_children())) == ["0", "1", "2", "3", "4"]
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear", "Tanh"]
    assert list(dict(seq.named_children())) == ["0", "1", "2", "3"]
    assert isinstance(seq.pop(), nn.Tanh) and len(seq) == 3
    seq[1] = nn.Sigmoid()
    assert isinstance(seq[1], nn.Sigmoid)
    both = seq + nn.Sequential(nn.ReLU())
    assert len(both) == 4


def test_sequential_from_ordered_dict_keeps_names():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert isinstance(seq.fc, nn.Linear) and seq[1] is seq.act
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert list(dict(seq[1:].named_children())) == ["act"]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match=r"Did you forget the parentheses: ReLU\(\)"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)
    with pytest.raises(TypeError, match="must be a Module"):
        nn.Sequential(lambda x: x)


def test_sequential_error_names_the_index():
    seq = nn.Sequential(nn.Linear(784, 10), nn.ReLU())
    with pytest.raises(ValueError, match=r"Hint: add nn.Flatten\(\) before this layer") as info:
        seq(cr.zeros(32, 28, 28))
    assert "raised in model.0 [Linear]" in str(info.value)


def test_module_list_registers_and_edits():
    layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == [
        "Identity",
        "Linear",
        "Linear",
        "Linear",
        "ReLU",
        "Tanh",
    ]
    sub = layers[1:4]
    assert isinstance(sub, nn.ModuleList) and len(sub) == 3 and sub[0] is layers[1]
    del layers[0]
    assert list(dict(layers.named_children())) == ["0", "1", "2", "3", "4"]
    layers += [nn.Sigmoid()]
    assert isinstance(layers[-1], nn.Sigmoid)
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        layers(cr.zeros(1))


def test_module_list_inside_a_model():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    m = Stack()
    assert [n for n, _ in m.named_parameters()][:2] == ["blocks.0.weight", "blocks.0.bias"]
    m(cr.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_module_dict():
    heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
    assert list(heads) == ["cls", "box"] and "box" in heads and len(heads) == 2
    assert heads["box"].out_features == 4
    heads["extra"] = nn.ReLU()
    assert list(heads.keys()) == ["cls", "box", "extra"]
    assert [type(m).__name__ for m in heads.values()] == ["Linear", "Linear", "ReLU"]
    assert isinstance(heads.pop("extra"), nn.ReLU)
    del heads["cls"]
    assert [k for k, _ in heads.items()] == ["box"]
    with pytest.raises(KeyError, match="available: box"):
        heads["cls"]
    heads.update([("a", nn.Tanh())])
    assert list(heads.state_dict()) == ["box.weight", "box.bias"]
    heads.clear()
    assert len(heads) == 0


def test_repr_collapses_repeated_children():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(layers) == ("ModuleList(\n  (0-2): 3 x Linear(2, 2, bias=True)\n  (3): ReLU()\n)")
