"""`chainrule export`: a trained run and an untrained zoo model to ONNX."""

import numpy as np
import pytest
from cli_helpers import train_run

from chainrule.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_export") / "run"
    assert train_run(out, "--epochs", "1", "--no-augment") == 0
    return out


def test_export_a_run_matches_chainrule(run_dir, tmp_path, capsys):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import chainrule as cr
    from chainrule.autograd import no_grad

    path = tmp_path / "mlp.onnx"
    assert main(["export", str(run_dir), "--onnx", str(path)]) == 0
    assert "dynamic batch" in capsys.readouterr().out
    model = cr.io.load(run_dir / "checkpoint", restore_rng=False).build_model()
    model.eval()
    x = np.random.default_rng(1).standard_normal((3, 1, 28, 28)).astype(np.float32)
    with no_grad():
        expected = model(x).data
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_export_an_untrained_zoo_model(tmp_path):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "lenet.onnx"
    assert main(["export", "--zoo", "lenet5", "--onnx", str(path), "--static-batch"]) == 0
    proto = onnx.load(str(path))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1


def test_export_errors(tmp_path):
    with pytest.raises(SystemExit) as err:
        main(["export", "--onnx", str(tmp_path / "x.onnx")])
    assert "--zoo NAME" in str(err.value)
    with pytest.raises(SystemExit) as err:
        main(["export", "--zoo", "nosuchnet", "--onnx", str(tmp_path / "x.onnx")])
    assert "unknown model 'nosuchnet'" in str(err.value)
    with pytest.raises(SystemExit) as err:
        main(["export", str(tmp_path / "nowhere"), "--onnx", str(tmp_path / "x.onnx")])
    assert "does not exist" in str(err.value)
