"""benchmarks/selection_rule.py replays the Trainer's checkpoint rule on a history trained without
early stopping; the replay must pick the epoch an early-stopped run keeps."""

import sys
from pathlib import Path

import pytest
import torch

from graphkd.datasets import load
from graphkd.nn import MLP
from graphkd.train import EpochRecord, History, Trainer

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from selection_rule import validation_rule, vqgraph_rule  # noqa: E402


@pytest.fixture(scope="module")
def graph():
    return load("csbm", num_nodes=400, num_classes=3, num_features=16, feature_noise=3.0)


def _history(graph, patience):
    torch.manual_seed(0)
    model = MLP(16, 16, 3, dropout=0.5)
    return Trainer(epochs=60, lr=0.05, patience=patience, progress=False).fit(model, graph, seed=0)


@pytest.mark.parametrize("patience", [3, 10])
def test_validation_replay_matches_an_early_stopped_run(graph, patience):
    stopped = _history(graph, patience)
    full = _history(graph, None)
    assert len(full.epochs) == 60
    assert validation_rule(full, patience) == stopped.best_epoch
    assert full.epochs[: len(stopped.epochs)] == stopped.epochs  # stopping does not change earlier epochs


def _records(val, test):
    return History([EpochRecord(i, 0.0, 1.0, v, t) for i, (v, t) in enumerate(zip(val, test, strict=True))])


def test_rules_on_a_literal_history():
    history = _records(val=[0.5, 0.7, 0.7, 0.6, 0.6, 0.6], test=[0.6, 0.6, 0.8, 0.8, 0.5, 0.9])
    assert validation_rule(history, None) == 1  # ties keep the earlier epoch
    assert vqgraph_rule(history, None) == 5  # best test; ties keep the later epoch
    assert vqgraph_rule(history, 1) == 3  # ... until `patience` epochs pass without one (epoch 4)
    assert validation_rule(history, 1) == 1
