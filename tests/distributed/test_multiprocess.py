"""Two processes on the gloo backend, started by torchrun as a user would."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from graphkd.datasets import load
from graphkd.distill import TeacherOutputs

sys.path.insert(0, str(Path(__file__).parent))
from worker import MODELS, _teacher, tiny_graph  # noqa: E402

WORKER = str(Path(__file__).with_name("worker.py"))


def torchrun(nproc: int, *args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, float]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    tic = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return done, time.perf_counter() - tic


@pytest.mark.parametrize("tiny", [False, True], ids=["csbm", "fewer-nodes-than-processes"])
def test_sharded_outputs_of_two_processes_equal_one_process(tmp_path, tiny):
    models = list(MODELS)
    done, _ = torchrun(2, WORKER, "inference", "--out", str(tmp_path), "--model", *models, *(["--tiny"] * tiny))
    assert done.returncode == 0, done.stderr[-3000:]
    data = tiny_graph() if tiny else load("csbm")
    for name in models:
        ref = TeacherOutputs.compute(_teacher(name, data), data, hidden_layers=[0])
        out = TeacherOutputs.load(tmp_path / f"outputs-{name}", data, dataset="csbm")
        assert out.meta["shards"] == 2
        assert torch.equal(out.logits, ref.logits), name  # the same code on the same rows: bit-identical
        assert torch.equal(out.hidden[0], ref.hidden[0]), name
        assert sorted(out.extras or {}) == sorted(ref.extras or {})
    digests = [json.loads((tmp_path / f"result-{r}.json").read_text()) for r in (0, 1)]
    assert digests[0] == digests[1]  # every process maps the same finished outputs


def test_the_gathered_evaluation_equals_one_process(tmp_path):
    done, _ = torchrun(2, WORKER, "evaluation", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    for r in (0, 1):
        result = json.loads((tmp_path / f"result-{r}.json").read_text())
        assert result["sharded"] == pytest.approx(result["single"], abs=1e-7)


def test_a_killed_rank_fails_the_job_and_the_rerun_resumes_exactly(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    done, _ = torchrun(2, WORKER, "distil", "--out", str(whole))
    assert done.returncode == 0, done.stderr[-3000:]
    done, seconds = torchrun(2, WORKER, "distil", "--out", str(killed), "--kill-rank", "1", "--kill-epoch", "3")
    assert done.returncode != 0 and seconds < 120
    assert "SIGKILL" in done.stderr  # torchrun names the failed rank and its signal
    assert not (killed / "result-0.json").exists()
    done, _ = torchrun(2, WORKER, "distil", "--out", str(killed))  # the same command again: resumes
    assert done.returncode == 0, done.stderr[-3000:]
    expected = json.loads((whole / "result-0.json").read_text())
    resumed = json.loads((killed / "result-0.json").read_text())
    assert resumed["weights"] == expected["weights"] and resumed["epochs"] == expected["epochs"]


def test_a_silent_rank_fails_the_job_at_the_timeout(tmp_path):
    args = ["distil", "--out", str(tmp_path), "--hang-rank", "1", "--hang-epoch", "2", "--timeout", "5"]
    done, seconds = torchrun(2, WORKER, *args)
    assert done.returncode != 0 and seconds < 120
    assert "rank 0 of 2: training MLP failed because another process failed, died or did not answer within the 5 s" in (
        done.stderr
    )


@pytest.mark.data
def test_two_ranks_distil_cora_as_well_as_one(data_root, tmp_path):
    common = ["-m", "graphkd.distributed", "--dataset", "cpf-cora", "--root", str(data_root), "--seed", "0"]
    done, _ = torchrun(2, *common, "--out", str(tmp_path / "two"))
    assert done.returncode == 0, done.stderr[-3000:]
    two = json.loads((tmp_path / "two" / "results.json").read_text())
    assert two["world_size"] == 2 and two["backend"] == "gloo"
    assert two["teacher"]["test"] > 0.78  # the data-parallel, neighbour-sampled SAGE teacher
    outputs = tmp_path / "two" / "teacher_outputs"
    assert TeacherOutputs.load(outputs).meta["shards"] == 2
    done, _ = torchrun(1, *common, "--out", str(tmp_path / "one"), "--teacher-outputs", str(outputs))
    assert done.returncode == 0, done.stderr[-3000:]
    one = json.loads((tmp_path / "one" / "results.json").read_text())
    assert one["world_size"] == 1 and one["teacher"] == two["teacher"]
    assert abs(one["student"]["test"] - two["student"]["test"]) <= 0.01
    assert two["student"]["test"] > 0.78


def test_bad_teacher_outputs_fail_every_process_at_once(tmp_path):
    args = ["-m", "graphkd.distributed", "--dataset", "csbm", "--out", str(tmp_path / "run")]
    done, seconds = torchrun(2, *args, "--teacher-outputs", str(tmp_path / "missing"), "--timeout", "120")
    assert done.returncode != 0 and seconds < 60  # not after the 120 s timeout
    assert "--teacher-outputs" in done.stderr and "no teacher outputs at" in done.stderr


def test_every_method_keeps_its_replicas_identical(tmp_path):
    # each process trains on other nodes: only DDP's gradient averaging (and the trainer's
    # averaging of the methods' own modules) keeps the students equal
    done, _ = torchrun(2, WORKER, "methods", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    digests = [json.loads((tmp_path / f"result-{r}.json").read_text()) for r in (0, 1)]
    assert digests[0] == digests[1] and sorted(digests[0]) == ["krd", "nosmog", "vqgraph"]
    assert len(digests[0]["nosmog"]) == 2 and len(digests[0]["vqgraph"]) == 2  # their heads agree too
