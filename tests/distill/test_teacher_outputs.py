import json

import pytest
import torch

from graphkd.datasets import load
from graphkd.distill import TeacherOutputs, fingerprint
from graphkd.nn import GraphSAGE


@pytest.fixture(scope="module")
def setup():
    data = load("csbm", num_nodes=300, num_classes=3, num_features=8)
    torch.manual_seed(0)
    teacher = GraphSAGE(8, 16, 3).eval()
    return data, teacher


def test_compute_matches_forward_and_records_provenance(setup):
    data, teacher = setup
    outs = TeacherOutputs.compute(teacher, data, hidden_layers=[0], dataset="csbm", seed=0)
    assert torch.allclose(outs.logits, teacher(data.x, data.edge_index), atol=1e-5)
    n = data.num_nodes
    assert outs.hidden[0].shape == (n, 16)
    assert outs.meta["num_nodes"] == n and outs.meta["dataset"] == "csbm" and "GraphSAGE" in outs.meta["teacher"]
    assert outs.meta["fingerprint"] == fingerprint(data)
    with pytest.raises(ValueError, match="hidden layer 5 out of range"):
        TeacherOutputs.compute(teacher, data, hidden_layers=[5])


def test_round_trip(setup, tmp_path):
    data, teacher = setup
    outs = TeacherOutputs.compute(teacher, data, hidden_layers=[0], dataset="csbm", seed=1)
    path = outs.save(tmp_path / "t.pt")
    back = TeacherOutputs.load(path, data, dataset="csbm", seed=1)
    assert torch.equal(back.logits, outs.logits) and torch.equal(back.hidden[0], outs.hidden[0])
    assert back.meta == outs.meta
    assert [p.name for p in tmp_path.iterdir()] == ["t.pt"]  # no temporary file left


def test_mismatch_is_detected(setup, tmp_path):
    data, teacher = setup
    path = TeacherOutputs.compute(teacher, data, dataset="csbm", seed=1).save(tmp_path / "t.pt")
    other = data.clone()
    other.x = other.x + 1e-3
    with pytest.raises(ValueError, match="other features or another node order"):
        TeacherOutputs.load(path, other)
    perm = data.clone()
    perm.x = data.x.flip(0)  # same features, other node order
    with pytest.raises(ValueError, match="other features or another node order"):
        TeacherOutputs.load(path, perm)
    with pytest.raises(ValueError, match=f"cover {data.num_nodes} nodes but the graph has {data.num_nodes - 1}"):
        TeacherOutputs.load(path, data.subgraph(torch.arange(data.num_nodes - 1)))
    with pytest.raises(ValueError, match="seed=1, expected 2"):
        TeacherOutputs.load(path, seed=2)


def test_corrupt_and_missing_files(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable teacher-outputs file"):
        TeacherOutputs.load(tmp_path / "bad.pt")
    torch.save({"something": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a graphkd teacher-outputs file"):
        TeacherOutputs.load(tmp_path / "foreign.pt")
    with pytest.raises(FileNotFoundError, match="no teacher outputs at"):
        TeacherOutputs.load(tmp_path / "missing.pt")


def test_malformed_files_raise_value_errors(setup, tmp_path):
    data, teacher = setup
    outs = TeacherOutputs.compute(teacher, data, hidden_layers=[0], dataset="csbm", seed=1)
    good = torch.load(outs.save(tmp_path / "t.pt"), weights_only=True)
    short = [good["hidden"][0][:-1]]
    cases = {
        "no-meta": ({k: v for k, v in good.items() if k != "meta"}, "not a graphkd teacher-outputs file"),
        "hidden-tensor": ({**good, "hidden": good["hidden"][0]}, "hidden must be a list of tensors, got Tensor"),
        "hidden-rows": ({**good, "hidden": short}, rf"layer 0 has shape \[{data.num_nodes - 1}, 16\]"),
    }
    for name, (payload, match) in cases.items():
        torch.save(payload, tmp_path / f"{name}.pt")
        with pytest.raises(ValueError, match=match):
            TeacherOutputs.load(tmp_path / f"{name}.pt")
    folder = outs.save_mmap(tmp_path / "mm")
    manifest = json.loads((folder / "meta.json").read_text())
    for broken in ({**manifest, "meta": None}, {**manifest, "arrays": {**manifest["arrays"], "logits": "x.npy"}}):
        (folder / "meta.json").write_text(json.dumps(broken))
        with pytest.raises(ValueError, match="not a graphkd memory-mapped teacher-outputs folder"):
            TeacherOutputs.load(folder)


def test_non_finite_teacher_outputs_are_refused():
    data = load("csbm", num_nodes=600, num_classes=3, num_features=8)
    teacher = GraphSAGE(8, 16, 3)
    with torch.no_grad():
        next(teacher.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="teacher produced non-finite"):
        TeacherOutputs.compute(teacher, data, hidden_layers=[0])


def test_memory_mapped_round_trip_replace_and_corruption(setup, tmp_path):
    data, teacher = setup
    outs = TeacherOutputs.compute(teacher, data, hidden_layers=[0], dataset="csbm", seed=1)
    folder = outs.save_mmap(tmp_path / "mm")
    back = TeacherOutputs.load(folder, data, dataset="csbm", seed=1)
    assert torch.equal(back.logits, outs.logits) and torch.equal(back.hidden[0], outs.hidden[0])
    assert back.meta == outs.meta
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".npy", ".npy"]
    # a second save replaces the arrays; the old ones are removed once meta.json points away
    TeacherOutputs.compute(teacher, data, dataset="csbm", seed=2).save_mmap(folder)
    assert TeacherOutputs.load(folder).meta["seed"] == 2 and len(list(folder.glob("*.npy"))) == 1
    npy = next(folder.glob("*.npy"))
    raw = bytearray(npy.read_bytes())
    raw[-1] ^= 0xFF
    npy.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="does not match its checksum"):
        TeacherOutputs.load(folder)
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a graphkd memory-mapped teacher-outputs folder"):
        TeacherOutputs.load(folder)


def test_memory_mapped_save_keeps_other_files(setup, tmp_path):
    data, teacher = setup
    (tmp_path / "mine.npy").write_bytes(b"user data")
    TeacherOutputs.compute(teacher, data).save_mmap(tmp_path)
    TeacherOutputs.compute(teacher, data).save_mmap(tmp_path)
    assert (tmp_path / "mine.npy").read_bytes() == b"user data" and len(list(tmp_path.glob("*.npy"))) == 2
