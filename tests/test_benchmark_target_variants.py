"""benchmarks/target_variants.py: the weighted validation accuracy and the targets it scores."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from target_variants import VARIANTS, accuracy, class_prior, main, weighted_accuracy  # noqa: E402


def test_weighted_accuracy_weights_each_class_by_the_prior():
    y = torch.tensor([0, 0, 1, 1])
    probs = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # class 0: 2/2, class 1: 1/2
    mask = torch.ones(4, dtype=torch.bool)
    assert weighted_accuracy(probs, y, mask, torch.tensor([0.5, 0.5])) == pytest.approx(75.0)
    assert weighted_accuracy(probs, y, mask, torch.tensor([0.9, 0.1])) == pytest.approx(95.0)
    # with the mask's own class shares it is the plain accuracy
    assert weighted_accuracy(probs, y, mask, torch.tensor([0.5, 0.5])) == pytest.approx(accuracy(probs, y, mask))


def test_class_prior_reads_predictions_on_non_training_nodes_only():
    logits = torch.tensor([[0.0, 9.0], [9.0, 0.0], [9.0, 0.0], [0.0, 9.0]])
    train = torch.tensor([True, False, False, False])
    assert torch.equal(class_prior(logits, train), torch.tensor([2 / 3, 1 / 3]))


def test_every_target_is_scored_on_csbm(tmp_path):
    changes = {"teacher.epochs": 3, "student.epochs": 3}
    payload = main(
        ["--dataset", "csbm", "--seeds", "1", "--teachers", "2", "--starts", "2", "--out", str(tmp_path)], changes
    )
    (row,) = payload["rows"]
    for name in VARIANTS:
        assert all(0 <= row[name][k] <= 100 for k in ("val", "weighted_val", "test"))
    assert sum(row["val_per_class"]) > 0 and sum(row["test_per_class"]) > 0
    assert (tmp_path / "target_variants_csbm.json").is_file() and (tmp_path / "target_variants_csbm.md").is_file()


def test_bad_counts_fail_before_training(tmp_path):
    with pytest.raises(SystemExit):
        main(["--dataset", "csbm", "--teachers", "1", "--out", str(tmp_path)])
