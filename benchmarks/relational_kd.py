"""Relational distillation experiments (issue 4): GNN->GNN and GNN->MLP, N seeds, chosen on validation.

    # GNN -> GNN (LSP's setting): GAT teacher, small GCN student
    GRAPHKD_DATA=../shared/datasets python benchmarks/relational_kd.py gnn2gnn --dataset cora --seeds 5
    # GNN -> MLP: GLNN vs GLNN + LSP on the graph's edges (used in training only)
    GRAPHKD_DATA=../shared/datasets python benchmarks/relational_kd.py gnn2mlp --dataset cpf-cora --seeds 5

Methods (``gnn2gnn``): ``student`` (labels only), ``kd`` (soft labels + labels), ``lsp`` (labels +
LSP between the hidden layers), ``kd+lsp``, ``crd`` (labels + contrastive representation
distillation between the hidden layers). ``gnn2mlp``: ``mlp`` (labels only), ``glnn`` (the
dataset's GLNN recipe), ``glnn+lsp`` (the same plus LSP on the edges). Comma-separated values of
``--lsp-weight``/``--lsp-tau``/``--crd-weight`` make variants; the table reports, per method, the
variant with the best mean validation accuracy (test accuracy is never used to choose), and the
JSON keeps every variant and seed. Writes ``benchmarks/results/relational/<setting>_<dataset>.{json,md}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import time
from pathlib import Path

from bench_io import write_result

from graphkd.datasets import load
from graphkd.distill import ComposedKD, TeacherOutputs, Term
from graphkd.losses import ContrastiveLoss, LSPLoss, SoftLabelLoss
from graphkd.nn import build_model
from graphkd.recipes import ModelSpec, get_recipe
from graphkd.train import Trainer
from graphkd.utils import seed_everything

# GNN -> GNN: a GAT teacher (2 layers, 8 heads, 64 channels) and a GCN student with 16 channels,
# both with their papers' Planetoid settings; at most 200 epochs, patience 50.
GNN2GNN_TEACHER = ModelSpec(
    "gat",
    64,
    2,
    0.6,
    lr=0.005,
    weight_decay=5e-4,
    epochs=200,
    patience=50,
    options={"heads": 8, "attention_dropout": 0.6},
)
GNN2GNN_STUDENT = ModelSpec("gcn", 16, 2, 0.5, lr=0.01, weight_decay=5e-4, epochs=200, patience=50)
SPLITS = {"cora": "public", "citeseer": "public"}  # others: the per-class cpf split, one per seed


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def variants(setting: str, args) -> dict[str, list[tuple[dict, list[tuple[str, dict]]]]]:
    r"""method -> [(parameters, [(term kind, term options)])]."""
    lsp = [
        {"lsp_weight": w, "lsp_tau": t} for w, t in itertools.product(_floats(args.lsp_weight), _floats(args.lsp_tau))
    ]
    if setting == "gnn2mlp":
        return {
            "mlp": [({}, [("ce", {})])],
            "glnn": [({}, [("glnn", {})])],
            "glnn+lsp": [(p, [("glnn", {}), ("lsp", p)]) for p in lsp],
        }
    return {
        "student": [({}, [("ce", {})])],
        "kd": [({}, [("kd", {})])],
        "lsp": [(p, [("ce", {}), ("lsp", p)]) for p in lsp],
        "kd+lsp": [(p, [("kd", {}), ("lsp", p)]) for p in lsp],
        "crd": [({"crd_weight": w}, [("ce", {}), ("crd", {"crd_weight": w})]) for w in _floats(args.crd_weight)],
    }


def make_terms(spec: list[tuple[str, dict]], recipe, student_width: int, teacher_width: int) -> list[Term]:
    terms = []
    for kind, p in spec:
        if kind == "ce":
            terms.append(Term("ce", SoftLabelLoss(lam=1.0)))
        elif kind == "kd":  # Hinton KD mixed with labels (lam 0.5, T 2)
            terms.append(Term("kd", SoftLabelLoss(lam=0.5, temperature=2.0)))
        elif kind == "glnn":
            terms.append(Term("kd", SoftLabelLoss(lam=recipe.lam, temperature=recipe.temperature)))
        elif kind == "lsp":
            loss = LSPLoss("rbf", temperature=p["lsp_tau"])
            terms.append(Term("lsp", loss, weight=p["lsp_weight"], student_layer=0, teacher_layer=0))
        elif kind == "crd":
            loss = ContrastiveLoss(student_width, teacher_width, proj_channels=64, temperature=0.1, num_samples=2048)
            terms.append(Term("crd", loss, weight=p["crd_weight"], student_layer=0, teacher_layer=0))
    return terms


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", choices=["gnn2gnn", "gnn2mlp"])
    parser.add_argument("--dataset", default="cora")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--lsp-weight", default="10")
    parser.add_argument("--lsp-tau", default="0.1")
    parser.add_argument("--crd-weight", default="1")
    parser.add_argument("--methods", default=None, help="comma-separated subset of the methods")
    parser.add_argument("--epochs", type=int, default=None, help="override the students' epochs")
    parser.add_argument("--patience", type=int, default=None, help="override the students' patience")
    parser.add_argument("--teacher-epochs", type=int, default=None, help="override the teacher's epochs")
    parser.add_argument("--teacher-patience", type=int, default=None, help="override the teacher's patience")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "relational"))
    args = parser.parse_args(argv)

    recipe = get_recipe("glnn", args.dataset) if args.setting == "gnn2mlp" else None
    caps = {k: v for k, v in (("epochs", args.epochs), ("patience", args.patience)) if v is not None}
    teacher_caps = {
        k: v for k, v in (("epochs", args.teacher_epochs), ("patience", args.teacher_patience)) if v is not None
    }
    if recipe and caps:
        recipe = recipe.override(**{f"{part}.{k}": v for part in ("student", "baseline") for k, v in caps.items()})
    teacher_spec = dataclasses.replace(recipe.teacher if recipe else GNN2GNN_TEACHER, **teacher_caps)
    gnn_student = dataclasses.replace(GNN2GNN_STUDENT, **caps)
    methods = variants(args.setting, args)
    if args.methods:
        keep = args.methods.split(",")
        unknown = sorted(set(keep) - set(methods))
        if unknown:
            raise ValueError(f"Unknown methods {unknown}; valid: {', '.join(methods)}")
        methods = {m: v for m, v in methods.items() if m in keep}
    runs: list[dict] = []
    start = time.perf_counter()
    for seed in range(args.seeds):
        data = load(args.dataset, split=SPLITS.get(args.dataset, "cpf"), seed=seed)
        seed_everything(seed)
        teacher = build_model(teacher_spec.name, data.num_features, data.num_classes, **teacher_spec.model_kwargs())
        hist = Trainer(**teacher_spec.trainer_kwargs(), progress=False).fit(teacher, data, seed=seed)
        runs.append({"method": "teacher", "params": {}, "seed": seed, **_accs(hist)})
        outputs = TeacherOutputs.compute(teacher, data, hidden_layers=[0], dataset=args.dataset, seed=seed)
        teacher_width = outputs.hidden_layer(0).size(1)
        for method, options in methods.items():
            student_spec = (
                gnn_student if recipe is None else (recipe.baseline_spec if method == "mlp" else recipe.student)
            )
            for params, spec in options:
                seed_everything(seed)
                student = build_model(
                    student_spec.name, data.num_features, data.num_classes, **student_spec.model_kwargs()
                )
                terms = make_terms(spec, recipe, student_spec.hidden_channels, teacher_width)
                trainer = Trainer(**student_spec.trainer_kwargs(), progress=False)
                kd = ComposedKD(student, terms, trainer=trainer).fit(data, outputs, seed=seed)
                runs.append({"method": method, "params": params, "seed": seed, **_accs(kd.history_)})
        print(f"seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
        payload = report(args, recipe, teacher_spec, gnn_student, methods, runs, seed + 1, time.perf_counter() - start)
    return payload


def report(args, recipe, teacher_spec, gnn_student, methods, runs, seeds_done, wall) -> dict:
    r"""Summarises the runs so far and writes them (after every seed: an interrupted run keeps them)."""
    rows = []
    for method in ["teacher", *methods]:
        groups: dict[str, list[dict]] = {}
        for r in runs:
            if r["method"] == method:
                groups.setdefault(repr(sorted(r["params"].items())), []).append(r)
        scored = [(statistics.fmean(r["val_acc"] for r in g), g) for g in groups.values()]
        val, best = max(scored, key=lambda item: item[0])
        test = [100 * r["test_acc"] for r in best]
        rows.append(
            {
                "method": method,
                "params": best[0]["params"],
                "val": 100 * val,
                "test_mean": statistics.fmean(test),
                "test_std": statistics.stdev(test) if len(test) > 1 else 0.0,
                "variants": len(groups),
            }
        )
    payload = {
        "setting": args.setting,
        "dataset": args.dataset,
        "split": SPLITS.get(args.dataset, "cpf"),
        "seeds": seeds_done,
        "teacher": dataclasses.asdict(teacher_spec),
        "student": dataclasses.asdict(gnn_student if recipe is None else recipe.student),
        "recipe": recipe.to_dict() if recipe else None,
        "wall_time_s": wall,
        "summary": rows,
        "runs": runs,
    }
    base = rows[1]["test_mean"]
    table = [
        f"{args.setting} on {args.dataset} ({payload['split']} split), {seeds_done} seeds, teacher "
        f"{teacher_spec.name}; test accuracy (%) at the best validation epoch, variant chosen on validation.",
        "",
        f"| method | test acc (%) | vs {rows[1]['method']} | val acc (%) | chosen parameters |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        params = ", ".join(f"{k}={v:g}" for k, v in r["params"].items()) or "-"
        delta = f"{r['test_mean'] - base:+.2f}" if r["method"] != "teacher" else ""
        table.append(
            f"| {r['method']} | {r['test_mean']:.2f} ± {r['test_std']:.2f} | {delta} | {r['val']:.2f} | {params} |"
        )
    write_result(args.out, f"{args.setting}_{args.dataset}", payload, table)
    return payload


def _accs(history) -> dict:
    best = history.best
    return {
        "val_acc": best.val_acc,
        "test_acc": best.test_acc,
        "best_epoch": best.epoch,
        "time_s": history.train_time_s,
    }


if __name__ == "__main__":
    main()
