import csv
import json

import pytest
import torch

from graphkd.eval import RunResult, accuracy, markdown_table, run_seeds, summarize, write_results


def test_accuracy():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    y = torch.tensor([0, 0, 0])
    assert accuracy(logits, y) == pytest.approx(2 / 3)
    assert accuracy(logits, y, torch.tensor([True, False, True])) == 1.0
    with pytest.raises(ValueError, match="empty set"):
        accuracy(logits, y, torch.zeros(3, dtype=torch.bool))


def test_summarize_mean_and_std():
    rows = [RunResult("gcn", s, 1, 2, 0.9, 0.8, acc, 1.0) for s, acc in enumerate([0.7, 0.8, 0.9])]
    (s,) = summarize(rows)
    assert s.test_mean == pytest.approx(0.8) and s.test_std == pytest.approx(0.1) and s.runs == 3
    assert "| gcn | 80.00 ± 10.00 |" in markdown_table([s])


def test_run_seeds_and_results_folder(tmp_path):
    trainer = {"epochs": 40, "patience": None, "progress": False}
    results = run_seeds(
        "csbm",
        ["sage", "mlp"],
        [0, 1],
        trainer_kwargs=trainer,
        dataset_kwargs={"num_nodes": 500, "num_classes": 3, "feature_noise": 3.0},
        model_kwargs={"hidden_channels": 16},
    )
    assert [(r.model, r.seed) for r in results] == [("sage", 0), ("mlp", 0), ("sage", 1), ("mlp", 1)]
    sage, mlp = summarize(results)
    assert sage.test_mean > mlp.test_mean  # the graph helps on a homophilous CSBM
    again = run_seeds(
        "csbm",
        ["sage"],
        [0],
        trainer_kwargs=trainer,
        dataset_kwargs={"num_nodes": 500, "num_classes": 3, "feature_noise": 3.0},
        model_kwargs={"hidden_channels": 16},
    )
    assert again[0] == results[0].__class__(**{**results[0].__dict__, "train_time_s": again[0].train_time_s})

    folder = write_results(tmp_path / "out", {"dataset": "csbm"}, results, "title")
    payload = json.loads((folder / "results.json").read_text())
    assert payload["config"] == {"dataset": "csbm"} and len(payload["runs"]) == 4
    assert {"torch", "graphkd", "platform"} <= set(payload["environment"])
    assert "| sage |" in (folder / "results.md").read_text()
    assert len(list(csv.DictReader((folder / "runs.csv").open()))) == 4


def test_run_seeds_needs_seeds_and_models():
    with pytest.raises(ValueError, match="at least one seed"):
        run_seeds("csbm", ["mlp"], [])
    with pytest.raises(ValueError, match="at least one model"):
        run_seeds("csbm", [], [0])
