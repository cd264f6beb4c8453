"""PyTorch weight import: name matching (exact, table, positional, mapping), files, reports."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.io import (
    CheckpointError,
    ImportReport,
    WeightImportError,
    load_torch_state_dict,
    register_torch_mapping,
    safetensors,
)
from chainrule.io.torch_import import torch_mappings
from chainrule.models import MLP


def _torch_like(sizes=(6, 5, 4, 3), flatten=False):
    """A dict laid out like a PyTorch nn.Sequential MLP's state_dict (float64 arrays)."""
    rng = np.random.default_rng(0)
    out = {}
    index = 1 if flatten else 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        out[f"{index}.weight"] = rng.standard_normal((n_out, n_in))
        out[f"{index}.bias"] = rng.standard_normal(n_out)
        index += 2
    return out


def _assert_loaded(model, expected_by_target):
    state = model.state_dict()
    for key, value in expected_by_target.items():
        np.testing.assert_allclose(state[key].numpy(), value, rtol=1e-6)


def test_sequential_twin_is_matched_by_position():
    source = _torch_like()
    model = MLP(6, (5, 4), 3)
    report = load_torch_state_dict(model, source)
    assert isinstance(report, ImportReport) and report.ok
    assert report.method == "positional (module order)"
    assert report.matched[0] == ("0.weight", "layers.1.weight")
    assert "0.weight -> layers.1.weight" in str(report)
    _assert_loaded(
        model, {"layers.5.bias": source["4.bias"], "layers.3.weight": source["2.weight"]}
    )


def test_twin_with_flatten_uses_the_table():
    source = _torch_like(flatten=True)
    model = MLP(6, (5, 4), 3)
    report = load_torch_state_dict(model, source)
    assert report.method == "table:MLP" and report.ok
    _assert_loaded(model, {"layers.1.weight": source["1.weight"]})
    assert "MLP" in torch_mappings()


def test_exact_names_and_prefix_and_counter():
    model = MLP(6, (5,), 3)
    donor = MLP(6, (5,), 3)
    source = {f"module.{k}": v for k, v in donor.state_dict().items()}
    source["module.layers.1.num_batches_tracked"] = np.array(3)
    report = load_torch_state_dict(model, source)
    assert report.method == "exact"
    assert report.skipped == [("module.layers.1.num_batches_tracked", "BatchNorm step counter; "
                               "chainrule keeps none")]  # fmt: skip
    assert any("module." in note for note in report.notes)
    _assert_loaded(model, {k: v.numpy() for k, v in donor.state_dict().items()})


def test_natural_order_when_the_file_sorted_the_names(tmp_path):
    source = _torch_like(sizes=(3, 4, 4, 4, 4, 4, 4, 2))  # indices 0 .. 12: "10" sorts before "2"
    path = tmp_path / "sorted.safetensors"
    safetensors.save_file({k: source[k] for k in sorted(source)}, path)
    model = MLP(3, (4,) * 6, 2)
    report = load_torch_state_dict(model, path)
    assert report.method == "positional (name order)"
    _assert_loaded(model, {"layers.13.weight": source["12.weight"]})


def test_explicit_mapping_and_function():
    source = {"fc.w": np.ones((2, 3)), "fc.b": np.zeros(2), "junk": np.ones(1)}
    model = nn.Sequential(nn.Linear(3, 2))
    report = load_torch_state_dict(
        model, source, mapping={"fc.w": "0.weight", "fc.b": "0.bias"}, strict=False
    )
    assert report.unexpected == ["junk"] and report.method == "mapping"
    report = load_torch_state_dict(
        model,
        source,
        mapping=lambda n: (
            None if n == "junk" else n.replace("fc.w", "0.weight").replace("fc.b", "0.bias")
        ),
    )
    assert report.ok and report.skipped == [("junk", "the mapping gave None")]
    with pytest.raises(ValueError, match="both 'fc.w' and 'fc.b' map to '0.weight'"):
        load_torch_state_dict(model, source, mapping=lambda n: "0.weight")
    with pytest.raises(ValueError, match="mapping must be"):
        load_torch_state_dict(model, source, mapping="sideways")


def test_strict_failure_lists_everything_and_loads_nothing():
    model = MLP(6, (7, 4), 3)
    before = model.layers[5].weight.numpy().copy()
    with pytest.raises(WeightImportError) as info:
        load_torch_state_dict(model, _torch_like(flatten=True))
    message = str(info.value)
    assert "nothing was loaded" in message and "shape mismatches" in message
    assert "1.weight (5, 6) -> layers.1.weight (7, 6)" in message
    assert info.value.report.mismatched[0][:2] == ("1.weight", "layers.1.weight")
    assert ("layers.1.weight", (7, 6), (5, 6)) in info.value.mismatched
    assert isinstance(info.value, nn.StateDictError)
    np.testing.assert_array_equal(model.layers[5].weight.numpy(), before)


def test_non_strict_transfer_keeps_a_new_head():
    source = _torch_like(sizes=(6, 5, 4, 10), flatten=True)  # 10 classes; ours has 3
    model = MLP(6, (5, 4), 3)
    head = model.layers[5].weight.numpy().copy()
    report = load_torch_state_dict(model, source, strict=False)
    assert [m[:2] for m in report.mismatched] == [("5.weight", "layers.5.weight"),
                                                  ("5.bias", "layers.5.bias")]  # fmt: skip
    _assert_loaded(model, {"layers.1.weight": source["1.weight"]})
    np.testing.assert_array_equal(model.layers[5].weight.numpy(), head)


def test_forced_positional_with_other_counts():
    model = MLP(6, (5,), 3)
    with pytest.raises(WeightImportError, match="positional matching needs as many tensors"):
        load_torch_state_dict(model, _torch_like(), mapping="positional")


def test_registered_table():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 4)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.body(x))

    register_torch_mapping(Net, [(r"^features\.0\.", "body."), (r"^classifier\.", "head.")])
    source = {
        "classifier.weight": np.ones((2, 4)), "classifier.bias": np.ones(2),
        "features.0.weight": np.ones((4, 3)), "features.0.bias": np.ones(4),
    }  # fmt: skip
    report = load_torch_state_dict(Net(), source)
    assert report.method == "table:Net"


def test_bad_sources(tmp_path):
    model = MLP(6, (5,), 3)
    with pytest.raises(ValueError, match="cannot tell the format"):
        load_torch_state_dict(model, tmp_path / "w.npz")
    with pytest.raises(TypeError, match="source must be"):
        load_torch_state_dict(model, 42)
    with pytest.raises(CheckpointError, match="no such file"):
        load_torch_state_dict(model, tmp_path / "none.safetensors")


def test_pt_without_torch_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    (tmp_path / "w.pt").write_bytes(b"x")
    with pytest.raises(ImportError, match=r"needs PyTorch \(pip install torch\).*safetensors"):
        load_torch_state_dict(MLP(6, (5,), 3), tmp_path / "w.pt")


# ----------------------------------------------------------------------------- with PyTorch
def _torch_twin(torch, flatten):
    torch.manual_seed(0)
    layers = [torch.nn.Flatten()] if flatten else []
    layers += [torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(8, 5))
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("flatten", [False, True])
@pytest.mark.parametrize("via", ["dict", "module", "pt", "safetensors", "wrapped-pt"])
def test_torch_twin_gives_the_same_logits(tmp_path, flatten, via):
    torch = pytest.importorskip("torch")
    twin = _torch_twin(torch, flatten)
    if via == "dict":
        source = twin.state_dict()
    elif via == "module":
        source = twin
    elif via == "safetensors":
        source = tmp_path / "twin.safetensors"
        safetensors.save_file(twin.state_dict(), source)
    else:
        source = tmp_path / "twin.pt"
        payload = twin.state_dict()
        if via == "wrapped-pt":
            payload = {"model_state_dict": payload, "epoch": 3}
        torch.save(payload, source)
    model = MLP(12, (16, 8), 5)
    report = load_torch_state_dict(model, source)
    assert report.ok and len(report.matched) == 6
    if via == "wrapped-pt":
        assert "model_state_dict" in report.notes[0]
    x = np.random.default_rng(1).standard_normal((7, 3, 4)).astype(np.float32)
    want = twin(torch.from_numpy(x if flatten else x.reshape(7, 12))).detach().numpy()
    got = model(cr.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_corrupt_pt_file(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "bad.pt").write_bytes(b"definitely not a pickle")
    with pytest.raises(CheckpointError, match=r"bad.pt: torch.load\(weights_only=True\) could not"):
        load_torch_state_dict(MLP(6, (5,), 3), tmp_path / "bad.pt")
    import torch

    torch.save({"epoch": 3, "lr": 0.1}, tmp_path / "meta.pt")
    with pytest.raises(CheckpointError, match="not a state dict"):
        load_torch_state_dict(MLP(6, (5,), 3), tmp_path / "meta.pt")
