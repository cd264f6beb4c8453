"""Fixtures for the ONNX export tests: export, check, and compare with onnxruntime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import chainrule as cr

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run_chainrule(model: cr.nn.Module, inputs: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    model.eval()
    with cr.no_grad():
        out = model(*(cr.Tensor._make(a) for a in inputs))
    return [np.asarray(o.data) for o in _leaves(out)]


def _leaves(out: Any) -> list[Any]:
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _leaves(item)]
    return [out]


@pytest.fixture
def roundtrip(tmp_path: Path) -> Callable[..., Any]:
    """``roundtrip(model, make_input, batches=(1, 3), **export_kwargs)`` -> the ModelProto.

    Exports with an example of batch ``batches[0]``, runs ``onnx.checker`` (full check), then
    compares onnxruntime with chainrule at every batch size to 1e-4.
    """

    def run(
        model: cr.nn.Module,
        make_input: Callable[[int], Any],
        batches: tuple[int, ...] = (1, 3),
        **kwargs: Any,
    ) -> Any:
        from chainrule.io.onnx import export_onnx

        path = tmp_path / "model.onnx"
        example = make_input(batches[0])
        proto = export_onnx(model, example, path, **kwargs)
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        for b in batches:
            x = make_input(b)
            xs = tuple(x) if isinstance(x, (tuple, list)) else (x,)
            arrays = tuple(np.asarray(t.data if isinstance(t, cr.Tensor) else t) for t in xs)
            want = _run_chainrule(model, arrays)
            got = session.run(None, dict(zip(names, arrays, strict=True)))
            assert len(got) == len(want)
            for g, w in zip(got, want, strict=True):
                assert g.shape == w.shape, (b, g.shape, w.shape)
                np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4, err_msg=f"batch {b}")
        return proto

    return run


def _batches(shape: tuple[int, ...], seed: int = 0) -> Callable[[int], np.ndarray]:
    def make(batch: int) -> np.ndarray:
        rng = np.random.default_rng(seed + batch)
        return rng.standard_normal((batch, *shape)).astype(np.float32)

    return make


@pytest.fixture
def batches() -> Callable[..., Callable[[int], np.ndarray]]:
    """``batches(shape)`` -> a maker of seeded float32 inputs ``(batch, *shape)``."""
    return _batches
