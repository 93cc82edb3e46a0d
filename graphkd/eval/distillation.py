"""The distillation protocols: transductive and inductive (production), over seeds."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from torch_geometric.data import Data

from ..datasets import inductive_split, load
from ..distill import GLNN, TeacherOutputs
from ..nn import build_model
from ..nn.base import Model
from ..recipes import Recipe, get_recipe
from ..resolver import resolve
from ..train import History, Trainer
from ..utils.seed import seed_everything
from .metrics import accuracy, predict
from .runs import RunResult

__all__ = ["METHODS", "SETTINGS", "run_distillation"]

SETTINGS = ("transductive", "inductive")
METHODS = {"glnn": GLNN}
TIMING_REPEATS = 5
PRODUCTION_WEIGHT = 0.8  # GLNN: production accuracy = 0.8 * transductive + 0.2 * inductive


def run_distillation(
    dataset: str,
    seeds: list[int],
    method: str = "glnn",
    recipe: Recipe | None = None,
    setting: str = "transductive",
    root: str | os.PathLike | None = None,
    split: str | None = None,
    ind_fraction: float = 0.2,
    teacher_outputs_dir: str | os.PathLike | None = None,
    device: str | None = None,
    progress: bool | None = False,
    on_seed: Callable[[int, list[RunResult]], None] | None = None,
) -> list[RunResult]:
    r"""For each seed: train the teacher GNN, compute its outputs, train a plain MLP on labels
    and distil the teacher into an MLP of the same architecture; evaluate all three.

    * ``transductive``: teacher and students train on the whole graph (soft labels of all nodes).
    * ``inductive`` (GLNN's production setting): ``ind_fraction`` of the test nodes and all their
      edges are held out from everything seen in training; teacher outputs exist only for the
      observed nodes. At test time the GNN sees the full graph, the MLP only node features.
      Rows then carry transductive (``test_acc``), inductive and production
      (``0.8·trans + 0.2·ind``) accuracy.

    Checkpoints are chosen on validation accuracy only. Each row's ``infer_time_s`` is the median
    of 5 full-graph inferences after a warm-up (the GNN with its graph, the MLP on features
    alone), on the training device.

    Args:
        dataset (str): a :func:`graphkd.datasets.load` name.
        seeds (list[int]): one run per seed; seed ``s`` also draws the split where it is random.
        method (str, optional): the distillation method (default: ``"glnn"``).
        recipe (Recipe, optional): hyper-parameters (default: :func:`graphkd.recipes.get_recipe`).
        setting (str, optional): ``"transductive"`` or ``"inductive"``.
        root, split: passed to :func:`graphkd.datasets.load`.
        ind_fraction (float, optional): held-out share of test nodes (default: :obj:`0.2`).
        teacher_outputs_dir (str, optional): save each seed's teacher outputs there (atomic).
        device (str, optional): training device (default: CUDA if available).
        progress (bool, optional): progress bars.
        on_seed (callable, optional): called as ``on_seed(seed, rows)`` with each seed's rows
            (teacher, plain MLP, student) as soon as they exist, e.g. to log progress.
    """
    if setting not in SETTINGS:
        raise ValueError(f"Unknown setting {setting!r}; valid choices: {', '.join(SETTINGS)}")
    if not seeds:
        raise ValueError("run_distillation needs at least one seed")
    method_cls = resolve(method, METHODS, "method")
    recipe = recipe or get_recipe(method, dataset, setting)
    rows: list[RunResult] = []
    for seed in seeds:
        data = load(dataset, root=root, split=split, seed=seed)
        if setting == "inductive":
            parts = inductive_split(data, ind_fraction, seed)
            observed, full = parts.observed, parts.full
        else:
            observed, full = data, None

        def trainer(spec):
            return Trainer(**spec.trainer_kwargs(), device=device, progress=progress)

        seed_everything(seed)
        teacher = _build(recipe.teacher.name, observed, recipe.teacher.model_kwargs())
        history = trainer(recipe.teacher).fit(teacher, observed, seed=seed)
        outputs = TeacherOutputs.compute(
            teacher, observed, dataset=dataset, split=split or "default", seed=seed, setting=setting
        )
        if teacher_outputs_dir is not None:
            outputs.save(Path(teacher_outputs_dir) / f"{dataset}-{setting}-seed{seed}.pt")
        rows.append(_row(recipe.teacher.name, seed, teacher, history, observed, full))

        seed_everything(seed)
        mlp = _build(recipe.baseline_spec.name, observed, recipe.baseline_spec.model_kwargs())
        history = trainer(recipe.baseline_spec).fit(mlp, observed, seed=seed)
        rows.append(_row("mlp", seed, mlp, history, observed, full))

        seed_everything(seed)
        student = _build(recipe.student.name, observed, recipe.student.model_kwargs())
        distiller = method_cls(student, lam=recipe.lam, temperature=recipe.temperature, trainer=trainer(recipe.student))
        distiller.fit(observed, outputs, seed=seed)
        rows.append(_row(method, seed, student, distiller.history_, observed, full))
        if on_seed is not None:
            on_seed(seed, rows[-3:])
    return rows


def _build(name: str, data: Data, kwargs: dict) -> Model:
    return build_model(name, data.num_features, data.num_classes, **kwargs)


def _row(name: str, seed: int, model: Model, history: History, observed: Data, full: Data | None) -> RunResult:
    graph = full if full is not None else observed
    logits = predict(model, graph)  # warm-up (and the GNN's cached graph)
    times = []
    for _ in range(TIMING_REPEATS):
        start = time.perf_counter()
        predict(model, graph)
        times.append(time.perf_counter() - start)
    infer = statistics.median(times)
    ind = prod = None
    if full is not None:
        ind = accuracy(logits, full.y, full.ind_test_mask)
        prod = PRODUCTION_WEIGHT * float(history.best.test_acc) + (1 - PRODUCTION_WEIGHT) * ind
    return RunResult.from_history(name, seed, history, test_ind_acc=ind, test_prod_acc=prod, infer_time_s=infer)
