"""Distillation targets on the CPF split (teacher, label propagation, CPF's refiner) by validation and test.

    GRAPHKD_DATA=../shared/datasets python benchmarks/target_variants.py --dataset cpf-cora --seeds 10

graphkd's recipe (:class:`graphkd.distill.RefinedKD`) distils an MLP from targets: the SAGE
teacher's soft labels refined by a PLP fitted to them (CPF's label propagation). Its student
follows its targets (``benchmarks/refined_targets.py``), so better targets are the way to a better
student. For each seed this script trains the recipe's teacher (as ``graphkd distill`` does) and
``--teachers - 1`` more initialisations of it, and scores these targets, without any student:

* ``teacher``: the recipe's teacher;
* ``teacher ensemble``: the mean of the ``--teachers`` teachers' probabilities;
* ``label propagation``: the teacher's probabilities smoothed over the graph with the training
  labels clamped (PyG's :class:`~torch_geometric.nn.models.CorrectAndSmooth`, smoothing step,
  50 layers, ``alpha`` 0.8);
* ``PLP``: the recipe's refiner (CPF's PLP fitted to the teacher), as the recipe uses it;
* ``PLP, mean of R starts``: the mean probabilities of ``--starts`` refiners from other
  initialisations (start 0 is ``PLP``);
* ``PLP on the ensemble``: the refiner fitted to the teacher ensemble.

Each is scored on validation, on validation **weighted by an estimated class prior** and on
test. The CPF split draws its validation nodes evenly from the classes (30 a class) while its
test nodes keep the graph's class sizes; the weighted score averages the per-class validation
accuracies with weights from the teacher's predicted classes on the non-training nodes (no label
read beyond the validation labels), an estimate of test accuracy under that shift. Writes
``benchmarks/results/target_variants_<dataset>.json`` and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from bench_io import write_result
from bench_teacher import trained_teacher
from torch import Tensor
from torch_geometric.nn.models import CorrectAndSmooth

from graphkd.datasets import load
from graphkd.distill import CPF, TeacherOutputs
from graphkd.distill.cpf import RESTART_STRIDE
from graphkd.eval import metrics
from graphkd.recipes import Recipe, get_recipe
from graphkd.train import Trainer
from graphkd.utils import seed_everything

VARIANTS = (
    "teacher",
    "teacher ensemble",
    "label propagation",
    "PLP",
    "PLP, mean of R starts",
    "PLP on the ensemble",
)


def class_prior(logits: Tensor, train_mask: Tensor) -> Tensor:
    r"""The share of each class among the teacher's predictions on the non-training nodes."""
    pred = logits[~train_mask].argmax(-1)
    counts = torch.bincount(pred, minlength=logits.size(1)).float()
    return counts / counts.sum()


def weighted_accuracy(probs: Tensor, y: Tensor, mask: Tensor, prior: Tensor) -> float:
    r"""Percent accuracy on ``mask``'s nodes with each class weighted by ``prior``:
    :math:`\sum_c \pi_c \cdot \mathrm{acc}_c`; a class without nodes in ``mask`` adds nothing."""
    pred, y = probs[mask].argmax(-1), y[mask]
    total = 0.0
    for c in range(prior.numel()):
        nodes = y == c
        if nodes.any():
            total += float(prior[c]) * float((pred[nodes] == c).float().mean())
    return 100 * total


def accuracy(probs: Tensor, y: Tensor, mask: Tensor) -> float:
    r"""Percent accuracy of ``probs`` on ``mask``'s nodes."""
    return 100 * metrics.accuracy(probs, y, mask)


def refine(recipe: Recipe, data: Any, outputs: TeacherOutputs, seed: int) -> Tensor:
    r"""The probabilities of the recipe's refiner (CPF's PLP) fitted to ``outputs`` with ``seed``."""
    seed_everything(seed)
    cpf = CPF.from_recipe(recipe, data, Trainer(**recipe.student.trainer_kwargs(), progress=False))
    cpf.fit(data, outputs, seed=seed)
    return torch.softmax(cpf.predict(data).float(), dim=-1).cpu()


def main(argv: list[str] | None = None, recipe_changes: dict[str, Any] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-cora")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--teachers", type=int, default=5, help="teachers in the ensemble (>= 2)")
    parser.add_argument("--starts", type=int, default=5, help="refiner starts averaged (>= 2)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.teachers < 2 or args.starts < 2:
        parser.error(
            f"need --seeds >= 1, --teachers >= 2 and --starts >= 2, got {args.seeds}, {args.teachers}, {args.starts}"
        )
    changes = recipe_changes or {}
    # the refiner is the CPF recipe's PLP, the teacher the recipe's (graphkd's recipe reads both)
    cpf_recipe = get_recipe("cpf", args.dataset).override(**changes)
    teacher_recipe = get_recipe("graphkd", args.dataset).override(**changes)

    rows = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        data = load(args.dataset, seed=seed)
        # teacher / refiner start k >= 1 of a seed trains with CPF's restart seeds
        teachers = [
            trained_teacher(teacher_recipe.teacher, data, seed + k * RESTART_STRIDE) for k in range(args.teachers)
        ]
        outputs = teachers[0]
        probs = [t.logits.softmax(-1) for t in teachers]
        ensemble = torch.stack(probs).mean(0)
        ensemble_outputs = TeacherOutputs(ensemble.clamp_min(1e-30).log(), outputs.meta)
        train = data.train_mask
        smooth = CorrectAndSmooth(1, 1.0, num_smoothing_layers=50, smoothing_alpha=0.8)
        starts = [refine(cpf_recipe, data, outputs, seed + r * RESTART_STRIDE) for r in range(args.starts)]
        targets = {
            "teacher": probs[0],
            "teacher ensemble": ensemble,
            "label propagation": smooth.smooth(probs[0], data.y[train].view(-1, 1), train, data.edge_index),
            "PLP": starts[0],
            "PLP, mean of R starts": torch.stack(starts).mean(0),
            "PLP on the ensemble": refine(cpf_recipe, data, ensemble_outputs, seed),
        }
        prior = class_prior(outputs.logits, train)
        row: dict[str, Any] = {"seed": seed}
        for name, p in targets.items():
            row[name] = {
                "val": accuracy(p, data.y, data.val_mask),
                "weighted_val": weighted_accuracy(p, data.y, data.val_mask, prior),
                "test": accuracy(p, data.y, data.test_mask),
            }
        row["val_per_class"] = torch.bincount(data.y[data.val_mask], minlength=data.num_classes).tolist()
        row["test_per_class"] = torch.bincount(data.y[data.test_mask], minlength=data.num_classes).tolist()
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(f"seed {seed}: " + ", ".join(f"{k} {row[k]['test']:.2f}" for k in VARIANTS), flush=True)

    def cell(name: str, key: str) -> str:
        values = [r[name][key] for r in rows]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.2f} ± {std:.2f}"

    val_sizes = sorted({n for r in rows for n in r["val_per_class"]})
    test_sizes = [n for r in rows for n in r["test_per_class"]]
    table = [
        f"# Distillation targets, {args.dataset} ({args.seeds} seeds, CPF split, the graphkd recipe's teacher)",
        "",
        f"Teacher ensemble: {args.teachers} initialisations; PLP mean: {args.starts} starts. Validation nodes per "
        f"class: {', '.join(map(str, val_sizes))}; test nodes per class: {min(test_sizes)} to {max(test_sizes)}.",
        "Weighted validation: per-class validation accuracy weighted by the teacher's predicted class shares on",
        "the non-training nodes. Mean ± std over seeds.",
        "",
        "| targets | validation | weighted validation | test |",
        "|---|---|---|---|",
    ]
    for name in VARIANTS:
        table.append(f"| {name} | " + " | ".join(cell(name, k) for k in ("val", "weighted_val", "test")) + " |")
    payload = {
        "config": {**vars(args), "recipe_changes": changes, "teacher": teacher_recipe.teacher.name},
        "rows": rows,
    }
    write_result(args.out, f"target_variants_{args.dataset}", payload, table)
    return payload


if __name__ == "__main__":
    main()
