import json

import pytest
import torch

from graphkd.datasets import csbm
from graphkd.distill import TeacherOutputs
from graphkd.distributed import sharded_teacher_outputs
from graphkd.nn import build_model


@pytest.fixture(scope="module")
def graph():
    data = csbm(num_nodes=400, num_classes=3, num_features=12, seed=0)
    data.num_classes = 3
    return data


def _model(name, data, **kwargs):
    torch.manual_seed(0)
    return build_model(name, data.num_features, data.num_classes, hidden_channels=16, **kwargs)


@pytest.mark.parametrize("name", ["sage", "gcn", "gat", "gin", "appnp", "mlp", "vq-sage"])
def test_one_process_equals_teacher_outputs_compute(graph, tmp_path, name):
    kwargs = {"num_layers": 3} if name != "vq-sage" else {"num_layers": 2, "codebook_size": 8}
    teacher = _model(name, graph, **kwargs)
    ref = TeacherOutputs.compute(teacher, graph, hidden_layers=[0, -1], dataset="csbm")
    out = sharded_teacher_outputs(teacher, graph, tmp_path, hidden_layers=[0, -1], batch_size=37, dataset="csbm")
    assert torch.allclose(out.logits, ref.logits, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(out.hidden, ref.hidden, strict=True))
    assert out.meta["shards"] == 1 and out.meta["hidden_layers"] == ref.meta["hidden_layers"]
    assert sorted(out.extras or {}) == sorted(ref.extras or {})
    out.check(graph)
    assert TeacherOutputs.load(tmp_path, graph, dataset="csbm").digest() == ref.digest()


def test_layers_not_kept_are_removed_and_a_rerun_replaces_the_arrays(graph, tmp_path):
    teacher = _model("sage", graph, num_layers=3)
    sharded_teacher_outputs(teacher, graph, tmp_path)
    first = set(p.name for p in tmp_path.glob("*.npy"))
    assert len(first) == 1  # the logits; layers 0 and 1 were scratch
    (tmp_path / "layer_0-deadbeef.npy").write_bytes(b"left by an interrupted run")
    sharded_teacher_outputs(teacher, graph, tmp_path)
    second = set(p.name for p in tmp_path.glob("*.npy"))
    assert len(second) == 1 and not (first & second)
    manifest = json.loads((tmp_path / "meta.json").read_text())
    assert manifest["arrays"]["logits"]["file"] in second


def test_non_finite_outputs_raise_and_leave_earlier_outputs(graph, tmp_path):
    teacher = _model("sage", graph)
    good = sharded_teacher_outputs(teacher, graph, tmp_path).digest()
    with torch.no_grad():
        teacher.layers[0].lin_l.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite"):
        sharded_teacher_outputs(teacher, graph, tmp_path)
    assert TeacherOutputs.load(tmp_path, graph).digest() == good


def test_bad_arguments_fail_before_any_work(graph, tmp_path):
    teacher = _model("sage", graph)
    with pytest.raises(ValueError, match="hidden layer 5 out of range"):
        sharded_teacher_outputs(teacher, graph, tmp_path, hidden_layers=[5])
    with pytest.raises(ValueError, match="batch_size"):
        sharded_teacher_outputs(teacher, graph, tmp_path, batch_size=0)
    other = csbm(num_nodes=50, num_classes=3, num_features=7, seed=0)
    other.num_classes = 3
    with pytest.raises(ValueError, match="expects x of shape"):
        sharded_teacher_outputs(teacher, other, tmp_path)
    assert not list(tmp_path.iterdir())
