"""CIFAR ResNets and plain nets: the paper's parameter counts, structure of options A/B and plain,
and a whole ResNet-20 forward and backward against a PyTorch twin with copied weights."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, nn
from chainrule.models.resnet import ResNet
from chainrule.nn.blocks import BasicBlock, ShortcutA

# He et al. (2015), Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M (option A shortcuts)
PAPER = {20: (269_722, "0.27"), 32: (464_154, "0.46"), 44: (658_586, "0.66"),
         56: (853_018, "0.85"), 110: (1_727_962, "1.7")}  # fmt: skip


@pytest.mark.parametrize("depth", sorted(PAPER))
def test_parameter_counts_match_the_paper(depth):
    exact, paper = PAPER[depth]
    model = models.build(f"resnet{depth}")
    n = model.num_parameters()
    assert n == exact
    assert f"{n / 1e6:.{len(paper) - 2}f}" == paper
    plain = models.build(f"plain{depth}")
    assert plain.num_parameters() == exact  # option A shortcuts have no parameters
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 3 * (depth - 2) // 6
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 1 == depth  # 6n + 1 convolutions and the linear layer


def test_option_b_adds_two_projections():
    a = models.build("resnet20")
    b = models.build("resnet20", shortcut="B")
    projections = 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64
    assert b.num_parameters() == a.num_parameters() + projections == 272_474
    assert isinstance(a.layer2[0].shortcut, ShortcutA)
    assert isinstance(b.layer2[0].shortcut[0], nn.Conv2d)
    assert b.layer1[0].shortcut is None and b.layer2[1].shortcut is None


def test_plain_net_has_no_shortcuts():
    plain = models.build("plain20")
    assert all(not block.residual for block in plain.modules() if isinstance(block, BasicBlock))
    assert not any(isinstance(m, ShortcutA) for m in plain.modules())
    assert "depth=20, plain" in repr(plain).splitlines()[1]


def test_forward_shape_and_backward_reaches_every_parameter():
    model = models.build("resnet20")
    out = model(cr.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_he_initialisation_of_the_convolutions():
    model = models.build("resnet56")
    w = model.layer3[4].conv1.weight.numpy()  # fan_in = 64 * 9
    assert abs(w.std() / np.sqrt(2 / 576) - 1) < 0.03
    assert abs(w.mean()) < 0.01 * w.std() * 10


def test_bottleneck_resnet_and_bad_depths():
    model = ResNet(29, block="bottleneck", shortcut="B")
    assert model(cr.randn(1, 3, 16, 16)).shape == (1, 10)
    assert model.fc.in_features == 256
    with pytest.raises(ValueError, match="depth 21 does not fit basic blocks.*6n \\+ 2"):
        ResNet(21)
    with pytest.raises(ValueError, match="unknown block 'wide'; available: basic, bottleneck"):
        ResNet(20, block="wide")


# ------------------------------------------------------------------ PyTorch twin
def _torch_resnet20(torch, shortcut):
    tnn, tF = torch.nn, torch.nn.functional

    class PadShortcut(tnn.Module):
        def __init__(self, extra):
            super().__init__()
            self.extra = extra

        def forward(self, x):
            return tF.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 0, self.extra))

    class Block(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.shortcut = None
            if stride != 1 or cin != cout:
                if shortcut == "A":
                    self.shortcut = PadShortcut(cout - cin)
                else:
                    self.shortcut = tnn.Sequential(
                        tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout)
                    )

        def forward(self, x):
            out = tF.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return tF.relu(out + (x if self.shortcut is None else self.shortcut(x)))

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(16)
            cin = 16
            for i, width in enumerate((16, 32, 64)):
                blocks = []
                for j in range(3):
                    blocks.append(Block(cin, width, 2 if i and not j else 1))
                    cin = width
                setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
            self.fc = tnn.Linear(64, 10)

        def forward(self, x):
            x = tF.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(x.mean(dim=(2, 3)))

    return Net()


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_resnet20_matches_torch_forward_and_backward(shortcut):
    torch = pytest.importorskip("torch")
    ours = models.build("resnet20", shortcut=shortcut)
    theirs = _torch_resnet20(torch, shortcut)
    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert sorted(ours_params) == sorted(theirs_params)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for name, p in ours_params.items():
            if name.endswith("bn1.weight") or name.endswith("bn2.weight"):
                p.data[...] = rng.uniform(0.5, 1.5, p.shape)  # not all ones: a sharper check
            theirs_params[name].copy_(torch.from_numpy(p.numpy().copy()))
    x = rng.standard_normal((4, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    ours.train()
    theirs.train()  # batch norm on batch statistics
    logits = ours(x)
    cr.cross_entropy(logits, y).backward()
    t_logits = theirs(torch.from_numpy(x))
    torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(y)).backward()
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=1e-4, atol=1e-5)
    for name, p in ours_params.items():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_params[name].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name
        )
    t_buffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        if name in t_buffers and "running" in name:
            np.testing.assert_allclose(b.numpy(), t_buffers[name].numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_resnet20_imports_a_torch_state_dict(shortcut):
    torch = pytest.importorskip("torch")
    from chainrule.io import load_torch_state_dict

    theirs = _torch_resnet20(torch, shortcut)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in theirs.modules():
            if isinstance(m, torch.nn.BatchNorm2d):  # trained-looking statistics, not the defaults
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    theirs.eval()
    ours = models.build("resnet20", shortcut=shortcut)
    load_torch_state_dict(ours, theirs.state_dict())
    ours.eval()
    x = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with cr.no_grad():
        np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-4, atol=1e-5)
