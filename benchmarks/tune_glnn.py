"""Choose a GLNN student's training settings on validation nodes only, over seeds.

    GRAPHKD_DATA=../shared/datasets python benchmarks/tune_glnn.py --dataset cpf-cora \
        --setting inductive --seeds 10 --grid "lr=0.01,0.005 weight_decay=0,5e-4,5e-3 dropout=0.3,0.6"

For each seed the teacher of the dataset's recipe is trained once and its outputs cached; then
every point of the grid distils a student from them. No test label is read:

* ``transductive``: the score is the student's best validation accuracy.
* ``inductive``: GLNN's protocol selects checkpoints on *observed* validation nodes, whose soft
  labels the student also fits, so that accuracy says nothing about unseen nodes. Here the real
  inductive split is made first (its held-out test nodes never enter), then ``--val-holdout`` of
  the validation nodes are held out too, with all their edges, from teacher and student; the
  score is the student's accuracy on those unseen validation nodes (features only), with the
  checkpoint chosen on the remaining validation nodes.

``--method graphkd`` tunes graphkd's recipe (:class:`graphkd.distill.RefinedKD`) the same way:
each seed's teacher outputs are refined once by the recipe's label-propagation refiner (fitted
on the training graph only, chosen on its validation nodes), and every grid point distils a
student from the refined soft labels with GLNN's loss, which is what the recipe's student does
with its NOSMOG terms off; grid axes ``adv_eps``, ``adv_weight`` and ``adv_steps`` turn on NOSMOG's
adversarial feature augmentation (PGD) for that student.

``--method cpf`` tunes CPF's label-propagation student (:class:`graphkd.distill.CPF`, whose
recipe's PLP is also graphkd's refiner): every grid point fits the PLP to each seed's teacher
(axes: its optimiser's ``lr``, ``weight_decay``, ``epochs``, ``patience``, the feature
``dropout``, the FT width ``hidden_channels`` and the propagation steps ``num_layers``), and the
score is the PLP's accuracy as above (inductive: on unseen validation nodes, graph included).

Writes ``benchmarks/results/tune_<method>_<dataset>_<setting>.json`` and a Markdown table beside
it, best first.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import json
import statistics
import time
from pathlib import Path

from bench_io import write_result
from bench_teacher import trained_teacher

from graphkd.datasets import inductive_split, load
from graphkd.distill import CPF, GLNN, RefinedKD, TeacherOutputs
from graphkd.eval.metrics import accuracy, predict
from graphkd.nn import build_model
from graphkd.recipes import get_recipe
from graphkd.train import Trainer
from graphkd.utils import seed_everything

STUDENT_KEYS = ("lr", "weight_decay", "dropout", "epochs", "patience", "hidden_channels", "batch_size", "fanout")
METHOD_KEYS = ("lam", "temperature")
# CPF's PLP student: no batches (full batch by design), one more axis (its propagation steps K)
CPF_KEYS = ("lr", "weight_decay", "dropout", "epochs", "patience", "hidden_channels", "num_layers")
INT_KEYS = ("epochs", "patience", "hidden_channels", "batch_size", "fanout", "adv_steps", "num_layers")
# NOSMOG's adversarial feature augmentation (PGD) on the student, for --method graphkd only
ADV_KEYS = ("adv_eps", "adv_weight", "adv_steps")


def parse_grid(text: str, method: str = "glnn") -> list[dict]:
    r"""``"lr=0.01,0.005 dropout=0.3"`` -> every combination; ``teacher.<key>`` axes retrain the teacher;
    ``batch_size=none`` (or ``fanout=none``) means full-batch; ``adv_eps``, ``adv_weight`` and
    ``adv_steps`` (``method="graphkd"`` only) add NOSMOG's PGD augmentation to the student;
    ``method="cpf"`` takes :data:`CPF_KEYS` for its PLP student (and ``teacher.<key>`` axes)."""
    if method == "cpf":
        student_keys, method_keys = CPF_KEYS, ()
    else:
        student_keys, method_keys = STUDENT_KEYS, METHOD_KEYS + (ADV_KEYS if method == "graphkd" else ())
    axes = {}
    for item in text.split():
        key, _, values = item.partition("=")
        field = key.removeprefix("teacher.")
        valid_here = (STUDENT_KEYS if key != field else student_keys) + method_keys
        if field not in valid_here or (key != field and field in method_keys):
            valid = student_keys + method_keys + tuple(f"teacher.{k}" for k in STUDENT_KEYS)
            raise ValueError(f"Unknown grid key {key!r} for --method {method}; valid: {', '.join(valid)}")
        cast = int if field in INT_KEYS else float
        # "none" for batch_size / fanout: full-batch training (the recipe's default when unset)
        nullable = field in ("batch_size", "fanout")
        try:
            axes[key] = [None if nullable and v.lower() == "none" else cast(v) for v in values.split(",")]
        except ValueError:
            kind = "integers" + (" or none" if nullable else "") if cast is int else "numbers"
            raise ValueError(f"Grid key {key!r} takes {kind}, got {values!r}") from None
    if any(k in axes for k in ADV_KEYS) and "adv_eps" not in axes:
        raise ValueError("Grid keys adv_weight / adv_steps need an adv_eps axis (PGD is off without it)")
    return [dict(zip(axes, point, strict=True)) for point in itertools.product(*axes.values())]


def tuning_graphs(dataset: str, setting: str, seed: int, holdout: float):
    r"""The graph to train on and, for ``inductive``, the graph holding unseen validation nodes."""
    data = load(dataset, seed=seed)
    if setting == "transductive":
        return data, None
    observed = inductive_split(data, 0.2, seed).observed  # the real held-out test nodes never enter
    proxy = copy.copy(observed)
    proxy.test_mask = observed.val_mask  # hold out part of the validation nodes instead
    parts = inductive_split(proxy, holdout, seed)
    train_graph, full = parts.observed, parts.full
    train_graph.val_mask = train_graph.test_mask  # the remaining validation nodes
    train_graph.test_mask = observed.test_mask[parts.observed_ids]  # the trainer tracks it; never read here
    return train_graph, full


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-cora")
    parser.add_argument("--method", default="glnn", choices=["glnn", "graphkd", "cpf"])
    parser.add_argument("--setting", default="transductive", choices=["transductive", "inductive"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="tune on seeds FIRST..FIRST+N-1 (e.g. apart from the reported 0..9)"
    )
    parser.add_argument("--grid", default="lr=0.01 weight_decay=0,5e-4,5e-3 dropout=0.3,0.6")
    parser.add_argument("--val-holdout", type=float, default=0.5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")

    recipe = get_recipe(args.method, args.dataset, args.setting)
    grid = parse_grid(args.grid, args.method)  # a bad grid fails here, before any graph is loaded or teacher trained
    graphs = {
        seed: tuning_graphs(args.dataset, args.setting, seed, args.val_holdout)
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    }
    teachers: dict[tuple, dict[int, TeacherOutputs]] = {}  # teacher changes -> outputs per seed

    def teacher_outputs(changes: dict) -> dict[int, TeacherOutputs]:
        key = tuple(sorted(changes.items()))
        if key not in teachers:
            start, spec, teachers[key] = time.perf_counter(), recipe.override(**changes).teacher, {}
            for seed, (graph, _) in graphs.items():
                outputs = trained_teacher(spec, graph, seed, dataset=args.dataset, setting=args.setting)
                teachers[key][seed] = refine(outputs, graph, seed) if args.method == "graphkd" else outputs
            print(f"teachers {dict(key)}: {time.perf_counter() - start:.0f} s", flush=True)
        return teachers[key]

    def refine(outputs: TeacherOutputs, graph, seed: int) -> TeacherOutputs:
        # the recipe's refiner, fitted once per seed: its soft labels become the student's targets
        method = RefinedKD.from_recipe(recipe, graph)
        method.prepare(graph, outputs, seed=seed)
        return dataclasses.replace(outputs, logits=method.refined_logits_)

    results = []
    for point in grid:
        teacher_changes = {k: v for k, v in point.items() if k.startswith("teacher.")}
        student_changes = {f"student.{k}": v for k, v in point.items() if k in STUDENT_KEYS + CPF_KEYS}
        method_changes = {k: v for k, v in point.items() if k in METHOD_KEYS}
        adv = {k: v for k, v in point.items() if k in ADV_KEYS}
        outputs = teacher_outputs(teacher_changes)
        r = recipe.override(**student_changes, **method_changes)
        scores, vals = [], []
        for seed, (graph, full) in graphs.items():
            seed_everything(seed)
            trainer = Trainer(**r.student.trainer_kwargs(), progress=False)
            if args.method == "cpf":  # the PLP student reads the graph, so it predicts through the method
                cpf = CPF.from_recipe(r, graph, trainer).fit(graph, outputs[seed], seed=seed)
                vals.append(100 * cpf.history_.best.val_acc)
                if full is not None:
                    scores.append(100 * accuracy(cpf.predict(full), full.y, full.ind_test_mask))
                continue
            student = build_model(r.student.name, graph.num_features, graph.num_classes, **r.student.model_kwargs())
            if adv.get("adv_eps", 0) > 0:  # PGD on: RefinedKD without refiner (NOSMOG's defaults otherwise)
                glnn = RefinedKD(student, lam=r.lam, temperature=r.temperature, trainer=trainer, **adv)
            else:
                glnn = GLNN(student, lam=r.lam, temperature=r.temperature, trainer=trainer)
            glnn.fit(graph, outputs[seed], seed=seed)
            vals.append(100 * glnn.history_.best.val_acc)
            if full is not None:
                scores.append(100 * accuracy(predict(student, full), full.y, full.ind_test_mask))
        score = scores or vals
        row = {
            **point,
            "score": statistics.fmean(score),
            "score_std": statistics.stdev(score) if len(score) > 1 else 0.0,
            "val": statistics.fmean(vals),
        }
        results.append(row)
        print(json.dumps({k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in row.items()}), flush=True)

    results.sort(key=lambda row: -row["score"])
    metric = "unseen validation nodes" if args.setting == "inductive" else "validation"
    stem = f"tune_{args.method}_{args.dataset}_{args.setting}"
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    payload = {"dataset": args.dataset, "setting": args.setting, "seeds": seeds, "metric": metric}
    payload |= {"val_holdout": args.val_holdout, "base_recipe": recipe.to_dict(), "results": results}
    keys = list(results[0])[:-3]
    table = [f"| {' | '.join(keys)} | score ({metric}) | observed val |", "|" + "---|" * (len(keys) + 2)]
    for row in results:
        cells = " | ".join("none" if row[k] is None else f"{row[k]:g}" for k in keys)
        table.append(f"| {cells} | {row['score']:.2f} ± {row['score_std']:.2f} | {row['val']:.2f} |")
    write_result(args.out, stem, payload, table)
    return results


if __name__ == "__main__":
    main()
