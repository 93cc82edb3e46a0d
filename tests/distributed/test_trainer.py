import re

import pytest
import torch

from graphkd import distributed as gd
from graphkd.datasets import load
from graphkd.distill import GLNN, TeacherOutputs
from graphkd.distributed.launch import main as launch
from graphkd.eval import evaluate
from graphkd.nn import MLP, build_model
from graphkd.train import Trainer


@pytest.fixture(scope="module")
def graph():
    return load("csbm")  # the embedded default: 3,000 nodes, 5 classes, with a split


def test_needs_a_process_group():
    with pytest.raises(ValueError, match="needs a process group"):
        gd.DistributedTrainer()


def test_init_outside_torchrun_names_the_missing_variables(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match="RANK, WORLD_SIZE.*torchrun"):
        gd.init()


def test_more_processes_than_gpus_fall_back_to_the_cpu_and_nccl_is_refused(monkeypatch):
    from graphkd.distributed import context

    env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29500")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert context.default_device() == torch.device("cpu")  # 2 processes, 1 GPU: gloo on the CPUs
    with pytest.raises(ValueError, match="one GPU per process, but LOCAL_RANK is 1 and 1 CUDA device"):
        context.init("nccl")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert context.default_device() == torch.device("cuda", 1)


def test_launcher_outside_torchrun_fails_with_exit_code_2(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("RANK", raising=False)
    assert launch(["--out", str(tmp_path)]) == 2
    assert "torchrun" in capsys.readouterr().err


def test_evaluation_equals_the_single_process_one(one_process_group, graph):
    torch.manual_seed(0)
    mlp = MLP(graph.num_features, 16, graph.num_classes)
    assert gd.DistributedTrainer()._evaluate(mlp, graph) == pytest.approx(evaluate(mlp, graph))


def test_a_gnn_needs_neighbour_sampling(one_process_group, graph):
    gnn = build_model("sage", graph.num_features, graph.num_classes, hidden_channels=16)
    with pytest.raises(ValueError, match="needs neighbour sampling"):
        gd.DistributedTrainer(epochs=1).fit(gnn, graph)


@pytest.mark.parametrize("batch_size", [None, 128])
def test_glnn_data_parallel_learns_from_its_teacher(one_process_group, graph, batch_size, tmp_path):
    torch.manual_seed(0)
    teacher = build_model("sage", graph.num_features, graph.num_classes, hidden_channels=32)
    trainer = gd.DistributedTrainer(epochs=40, batch_size=256, num_neighbors=[5, 5], progress=False)
    history = trainer.fit(teacher, graph, seed=0)
    assert history.best.val_acc > 0.8
    outputs = gd.sharded_teacher_outputs(teacher, graph, tmp_path)
    torch.manual_seed(0)
    student = MLP(graph.num_features, 32, graph.num_classes)
    glnn = GLNN(student, trainer=gd.DistributedTrainer(epochs=60, batch_size=batch_size, progress=False))
    glnn.fit(graph, outputs, seed=0)
    acc = evaluate(glnn.student, graph)
    assert acc["val"] == pytest.approx(glnn.history_.best.val_acc)  # the restored best checkpoint
    assert acc["test"] > 0.7


def test_a_single_process_checkpoint_is_refused(one_process_group, graph, tmp_path):
    torch.manual_seed(0)
    teacher = build_model("mlp", graph.num_features, graph.num_classes, hidden_channels=8)
    outputs = TeacherOutputs.compute(teacher, graph)
    ckpt = tmp_path / "student.ckpt"
    plain = GLNN(MLP(graph.num_features, 8, graph.num_classes), trainer=Trainer(epochs=2, progress=False))
    plain.fit(graph, outputs, checkpoint=ckpt)
    glnn = GLNN(MLP(graph.num_features, 8, graph.num_classes), trainer=gd.DistributedTrainer(epochs=2, progress=False))
    with pytest.raises(ValueError, match="another run.*trainer"):
        glnn.fit(graph, outputs, checkpoint=ckpt)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--fanout", "5", "5", "5"], r"fanout=\(5, 5, 5\) needs one fan-out per layer \(2\)"),
        (["--teacher-batch-size", "0"], "batch_size must be a positive integer"),
        (["--dataset", "coraa"], "Unknown dataset 'coraa'; valid choices"),
    ],
)
def test_the_launcher_refuses_bad_settings_before_training(one_process_group, tmp_path, capsys, flags, message):
    assert launch(["--dataset", "csbm", "--out", str(tmp_path), *flags]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "teacher.ckpt").exists()
