"""The OGB example scripts, end to end, on real Cora written in OGB's on-disk format by OGB's own
``DatasetSaver``: the same code path (``PygNodePropPredDataset`` with a ``meta_dict``, OGB's
``Evaluator``) as ogbn-arxiv and ogbn-products."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from graphkd.datasets import load, load_meta_dict, save_ogb
from graphkd.eval import OGBMetric

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "ogbn_arxiv.py"

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def cora_meta(data_root, tmp_path_factory):
    # binary bag-of-words features (not row-normalised): the recipes' batch norm then has its
    # running statistics within a few steps, as on OGB's features
    cora = load("cora", root=data_root, split="random", seed=0, normalize_features=False)
    return save_ogb(cora, "ogbn-cora", tmp_path_factory.mktemp("ogb"))


# the scripts' full code path with smaller models, so that a run takes seconds on a CPU
QUICK = ["--runs", "1", "--device", "cpu", "--no-progress", "--timing-repeats", "0", "--hidden", "64"]
QUICK += ["--student-hidden", "256"]


@pytest.mark.parametrize(
    ("script", "setting", "epochs"), [("ogbn_arxiv", "transductive", 5), ("ogbn_products", "inductive", 20)]
)
def test_ogb_script_end_to_end(cora_meta, tmp_path, capsys, example, script, setting, epochs):
    out = tmp_path / "out"
    argv = ["--dataset-meta", str(cora_meta), "--epochs", str(epochs), "--setting", setting, "--out", str(out)]
    rows = example(script).main(argv + QUICK)
    printed = capsys.readouterr().out
    assert "OGB Evaluator accuracy" in printed and "ogbn-cora" in printed
    assert f"results written to {out}/" in printed
    by_model = {r.model: r for r in rows}
    assert set(by_model) == {"sage", "mlp", "glnn"}
    # a few epochs on real Cora: the teacher is well above chance (1/7) and the student learns from it
    assert by_model["sage"].test_acc > 0.7 and by_model["glnn"].test_acc > 0.5
    if setting == "inductive":
        assert all(r.test_ind_acc is not None and r.test_prod_acc is not None for r in rows)
    saved = json.loads((out / "results.json").read_text())
    assert saved["config"]["metric"] == "OGBMetric('ogbn-cora')" and saved["config"]["setting"] == setting
    assert saved["config"]["recipe"]["teacher"]["epochs"] == epochs
    assert (out / "results.md").is_file() and (out / "runs.csv").is_file()
    assert (out / "runs" / "seed-0" / "rows.json").is_file()


def test_ogb_metric_is_ogbs_evaluator(cora_meta):
    name, meta = load_meta_dict(cora_meta)
    metric = OGBMetric(name, meta)
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    y = torch.tensor([0, 0, 0, 1])
    assert metric(logits, y) == pytest.approx(0.75)
    assert metric(logits, y, torch.tensor([True, True, False, False])) == pytest.approx(0.5)
    assert OGBMetric("ogbn-arxiv")(logits, y) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="no evaluator for 'ogbn-nothing'"):
        OGBMetric("ogbn-nothing")
    with pytest.raises(ValueError, match="rocauc"):
        OGBMetric("ogbn-proteins")


def test_bad_arguments_fail_clearly(cora_meta, tmp_path, example, capsys):
    main = example("ogbn_arxiv").main
    with pytest.raises(FileNotFoundError, match="no OGB meta_dict"):
        main(["--dataset-meta", str(tmp_path / "missing.pt")])
    with pytest.raises(ValueError, match="--runs must be >= 1"):
        main(["--dataset-meta", str(cora_meta), "--runs", "0"])
    with pytest.raises(SystemExit) as exit_:
        main(["--setting", "semi"])
    assert exit_.value.code == 2 and "--setting: invalid choice: 'semi'" in capsys.readouterr().err


def test_a_killed_run_resumes_from_its_last_checkpoint(cora_meta, tmp_path, example):
    out = tmp_path / "out"
    argv = ["--dataset-meta", str(cora_meta), "--epochs", "12", *QUICK]
    cmd = [sys.executable, str(SCRIPT), *argv, "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ckpt = out / "runs" / "seed-0" / "teacher.ckpt"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while _epochs_done(ckpt) < 3:  # kill it once the teacher has a few epochs behind it
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "no teacher checkpoint within 120 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = _epochs_done(ckpt)
    assert 3 <= done_before < 12 and not (out / "results.json").exists()

    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"GraphSAGE: resumed the run at epoch {done_before} of 12" in again.stderr
    resumed = json.loads((out / "results.json").read_text())["runs"]

    # the interrupted and resumed run ends exactly as one that was never interrupted
    reference = example("ogbn_arxiv").main([*argv, "--out", str(tmp_path / "ref")])
    for row, ref in zip(resumed, reference, strict=True):
        assert row["model"] == ref.model
        for key in ("best_epoch", "epochs_run", "train_acc", "val_acc", "test_acc"):
            assert row[key] == pytest.approx(getattr(ref, key), abs=1e-6), (row["model"], key)

    # a third start finds every run finished and only reports
    third = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert third.returncode == 0 and "resumed" not in third.stderr
    assert json.loads((out / "results.json").read_text())["runs"] == resumed


def _epochs_done(ckpt: Path) -> int:
    try:
        return int(torch.load(ckpt, weights_only=True)["epoch"])
    except Exception:  # noqa: BLE001 - not written yet, or being replaced
        return 0


def test_script_reports_bad_input_in_one_line(tmp_path):
    missing = tmp_path / "meta_dict.pt"
    run = subprocess.run([sys.executable, str(SCRIPT), "--dataset-meta", str(missing)], capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip() == f"ogbn_arxiv.py: error: no OGB meta_dict at {missing}"
