import json

import pytest
import torch

from graphkd.datasets import load
from graphkd.deploy import export_bundle, export_student, load_student, plain_mlp, quantize_int8
from graphkd.nn import MLP, GraphSAGE


def _trained_mlp(norm, residual, act="relu", layers=3):
    torch.manual_seed(0)
    m = MLP(16, 16, 4, num_layers=layers, norm=norm, residual=residual, act=act)
    m.train()
    for _ in range(5):  # running statistics away from their initial values
        m(torch.randn(64, 16) * 3 + 1)
    return m.eval()


CASES = [(None, False, "relu"), ("batch", False, "relu"), ("layer", False, "gelu"), ("batch", True, "relu")]
CASES += [("layer", True, "elu"), (None, True, "tanh")]


@pytest.mark.parametrize(("norm", "residual", "act"), CASES)
def test_plain_mlp_equals_the_student(norm, residual, act):
    m = _trained_mlp(norm, residual, act, layers=4)
    x = torch.randn(30, 16)
    plain = plain_mlp(m)
    assert torch.allclose(plain(x), m(x), atol=1e-5)
    assert not any(isinstance(mod, torch.nn.BatchNorm1d) for mod in plain.modules())  # folded away
    assert not any(isinstance(mod, torch.nn.Dropout) for mod in plain.modules())


@pytest.mark.parametrize(("norm", "residual", "act"), CASES[:4])
def test_torchscript_export_parity(tmp_path, norm, residual, act):
    m = _trained_mlp(norm, residual, act)
    report = export_student(m, tmp_path / "s.pt", torch.randn(8, 16), metadata={"dataset": "x"})
    assert report.max_abs_diff <= 1e-5 and report.format == "torchscript" and report.size_bytes > 0
    student = load_student(tmp_path / "s.pt")
    x = torch.randn(50, 16)
    assert abs(student.logits(x) - m(x).detach().numpy()).max() <= 1e-5
    assert student.meta["dataset"] == "x" and student.meta["in_channels"] == 16


@pytest.mark.parametrize(("norm", "residual", "act"), CASES[:4])
def test_onnx_export_parity(tmp_path, norm, residual, act):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    m = _trained_mlp(norm, residual, act)
    report = export_student(m, tmp_path / "s.onnx", torch.randn(8, 16), format="onnx")
    assert report.max_abs_diff <= 1e-5
    student = load_student(tmp_path / "s.onnx")
    x = torch.randn(1000, 16)  # another batch size than the one exported with
    assert abs(student.logits(x) - m(x).detach().numpy()).max() <= 1e-5
    assert json.loads((tmp_path / "s.onnx.json").read_text())["out_channels"] == 4


def test_export_refuses_bad_input_and_leaves_nothing_behind(tmp_path):
    m = _trained_mlp("batch", False)
    with pytest.raises(ValueError, match="only MLP students"):
        export_student(GraphSAGE(16, 8, 4), tmp_path / "g.pt", torch.randn(4, 16))
    with pytest.raises(ValueError, match=r"shape \[n, 16\], got \[4, 3\]"):
        export_student(m, tmp_path / "s.pt", torch.randn(4, 3))
    with pytest.raises(ValueError, match="finite"):
        export_student(m, tmp_path / "s.pt", torch.full((4, 16), float("nan")))
    with pytest.raises(ValueError, match="Unknown export format 'tflite'"):
        export_student(m, tmp_path / "s.pt", torch.randn(4, 16), format="tflite")
    with pytest.raises(ValueError, match="differs from the eager model"):
        export_student(m, tmp_path / "s.pt", torch.randn(4, 16), atol=-1.0)  # a check that cannot pass
    assert list(tmp_path.iterdir()) == []  # no file, no temporary left


def test_int8_student_and_bundle_report_accuracy(tmp_path):
    data = load("csbm", num_nodes=600, num_classes=3, num_features=16)
    m = _trained_mlp(None, False)
    q = quantize_int8(m)
    x = data.x[:100]
    assert (q(x) - m(x)).abs().max() < 0.5  # close, not equal
    report = export_bundle(m, tmp_path, data.x, data.y, data.test_mask, onnx=False)
    files = report["files"]
    assert set(files) == {"student.pt", "student-int8.pt"} and files["student-int8.pt"]["quantized"]
    fp32 = (m(data.x[data.test_mask]).argmax(1) == data.y[data.test_mask]).float().mean()
    assert files["student.pt"]["accuracy"] == pytest.approx(float(fp32))
    assert 0.0 <= files["student-int8.pt"]["accuracy"] <= 1.0
    assert json.loads((tmp_path / "export.json").read_text()) == report
