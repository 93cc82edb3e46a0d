"""Multi-seed experiments: train and evaluate models over seeds, summarised as mean ± std."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
from typing import Any

from ..datasets import load
from ..nn import build_model
from ..train import History, Trainer
from ..utils.seed import seed_everything

__all__ = ["RunResult", "Summary", "run_seeds", "summarize"]


@dataclass(frozen=True)
class RunResult:
    r"""One model trained with one seed, its metrics at the best-validation epoch."""

    model: str
    seed: int
    best_epoch: int
    epochs_run: int
    train_acc: float
    val_acc: float
    test_acc: float
    train_time_s: float
    test_ind_acc: float | None = None
    test_prod_acc: float | None = None
    infer_time_s: float | None = None
    latency_ms: float | None = None

    @classmethod
    def from_history(cls, model: str, seed: int, history: History, **extra: float | None) -> RunResult:
        r"""The row of a run whose checkpoint :class:`History` chose (on validation)."""
        best = history.best
        return cls(
            model,
            seed,
            best.epoch,
            len(history.epochs),
            best.train_acc,
            best.val_acc,
            float(best.test_acc),
            history.train_time_s,
            **extra,
        )


@dataclass(frozen=True)
class Summary:
    r"""Mean ± (sample) standard deviation over seeds for one model.

    In the inductive setting ``test_*`` is the transductive test accuracy, ``ind_*`` the
    accuracy on held-out nodes and ``prod_*`` the production mix ``0.8·trans + 0.2·ind``.
    ``infer_time_s`` is the mean wall time of one full-graph inference, ``latency_ms`` the mean
    over seeds of the median latency of a request for 10 nodes (a GNN fetching its neighbourhood;
    :mod:`graphkd.deploy.latency`).
    """

    model: str
    runs: int
    test_mean: float
    test_std: float
    val_mean: float
    val_std: float
    train_time_s: float
    seeds: list[int] = field(default_factory=list)
    ind_mean: float | None = None
    ind_std: float | None = None
    prod_mean: float | None = None
    prod_std: float | None = None
    infer_time_s: float | None = None
    latency_ms: float | None = None


def run_seeds(
    dataset: str,
    models: list[str],
    seeds: list[int],
    root: str | os.PathLike | None = None,
    split: str | None = None,
    model_kwargs: dict[str, Any] | None = None,
    trainer_kwargs: dict[str, Any] | None = None,
    dataset_kwargs: dict[str, Any] | None = None,
    per_model_kwargs: dict[str, dict[str, Any]] | None = None,
) -> list[RunResult]:
    r"""Trains every model in ``models`` once per seed on ``dataset`` and evaluates it.

    Seed ``s`` draws the split (where the split is random), the initial weights and dropout, so
    run ``s`` of every model sees the same split. Checkpoints are chosen on validation accuracy.

    Args:
        dataset (str): a name for :func:`graphkd.datasets.load`.
        models (list[str]): model names for :func:`graphkd.nn.build_model`.
        seeds (list[int]): one run per seed.
        root, split: passed to :func:`graphkd.datasets.load`.
        model_kwargs (dict, optional): arguments for every model (``hidden_channels``, ``num_layers`` …).
        trainer_kwargs (dict, optional): arguments for :class:`graphkd.train.Trainer`.
        dataset_kwargs (dict, optional): options for :func:`graphkd.datasets.load`.
        per_model_kwargs (dict, optional): extra arguments for one model, by name.
    """
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    if not models:
        raise ValueError("run_seeds needs at least one model name")
    results = []
    for seed in seeds:
        data = load(dataset, root=root, split=split, seed=seed, **(dataset_kwargs or {}))
        for name in models:
            kwargs = {**(model_kwargs or {}), **(per_model_kwargs or {}).get(name, {})}
            trainer = Trainer(**(trainer_kwargs or {}))
            seed_everything(seed)
            model = build_model(name, data.num_features, data.num_classes, **kwargs)
            history = trainer.fit(model, data, seed=seed)
            results.append(RunResult.from_history(name, seed, history))
    return results


def summarize(results: list[RunResult]) -> list[Summary]:
    r"""One :class:`Summary` per model, in first-seen order."""
    out = []
    for name in dict.fromkeys(r.model for r in results):
        rows = [r for r in results if r.model == name]
        test, val = [r.test_acc for r in rows], [r.val_acc for r in rows]
        extra: dict[str, float] = {}
        for key, attr in (("ind", "test_ind_acc"), ("prod", "test_prod_acc")):
            values = [getattr(r, attr) for r in rows]
            if all(v is not None for v in values):
                extra[f"{key}_mean"], extra[f"{key}_std"] = statistics.fmean(values), _std(values)
        for attr in ("infer_time_s", "latency_ms"):
            values = [getattr(r, attr) for r in rows]
            if all(v is not None for v in values):
                extra[attr] = statistics.fmean(values)
        train_time = statistics.fmean(r.train_time_s for r in rows)
        out.append(
            Summary(
                name,
                len(rows),
                statistics.fmean(test),
                _std(test),
                statistics.fmean(val),
                _std(val),
                train_time,
                [r.seed for r in rows],
                **extra,
            )
        )
    return out


def _std(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0
