"""What the recipe's MLP student absorbs of its targets: the teacher's soft labels, CPF's refined ones, and mixtures.

    graphkd distill --dataset cpf-a-computer --method cpf --seeds 10 --workdir W --out R
    GRAPHKD_DATA=../shared/datasets python benchmarks/refined_targets.py --dataset cpf-a-computer --cpf-workdir W

graphkd's recipe (:class:`graphkd.distill.RefinedKD`) distils an MLP from the SAGE teacher's
soft labels refined by CPF's label propagation (a PLP fitted to the teacher, training labels
clamped, chosen on validation). A CPF run with ``--workdir`` keeps each seed's teacher outputs and
its fitted PLP, which is the recipe's refiner (same recipe, same teacher; another draw of its
initialisation). This script reads them and trains the recipe's MLP student (the GLNN recipe's,
as in ``graphkd distill --method graphkd``) on the targets

    p = w * softmax(refined) + (1 - w) * softmax(teacher)

for each mixing weight ``w`` (``w = 0``: GLNN on the raw teacher; ``w = 1``: graphkd's recipe),
and reports each target's own validation / test accuracy beside the student's. Checkpoints are
chosen on validation only. Writes ``benchmarks/results/refined_targets_<dataset>.json`` and a
Markdown table beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import torch
from bench_io import write_result

from graphkd.datasets import load
from graphkd.distill import CPF, GLNN, TeacherOutputs
from graphkd.eval import metrics
from graphkd.nn import build_model
from graphkd.recipes import get_recipe
from graphkd.train import Trainer
from graphkd.utils import seed_everything


def refined_logits(dataset: str, seed: int, folder: Path) -> tuple[object, TeacherOutputs, torch.Tensor]:
    r"""Seed ``seed``'s graph, its teacher outputs and the log-probabilities of its fitted PLP,
    from ``folder`` (``<cpf workdir>/seed-<seed>``)."""
    if (folder / "student.ckpt.restart1").exists():
        raise ValueError(
            f"{folder} is a CPF run with restarts (student.ckpt.restart1): student.ckpt holds its first start, "
            "not necessarily the kept one; use a run with restarts=1"
        )
    data = load(dataset, seed=seed)
    outputs = TeacherOutputs.load(folder / "teacher_outputs.pt", data, seed=seed)
    state = torch.load(folder / "student.ckpt", map_location="cpu", weights_only=True)
    if not (isinstance(state, dict) and state.get("done") and "best_state" in state):
        raise ValueError(f"{folder / 'student.ckpt'} is not the checkpoint of a finished CPF run")
    cpf = CPF.from_recipe(get_recipe("cpf", dataset), data)
    cpf.student.load_state_dict(state["best_state"])
    cpf.prepare(data, outputs, seed)
    return data, outputs, torch.log_softmax(cpf.predict(data).float(), dim=-1).cpu()


def accuracy(logits: torch.Tensor, data, mask: str) -> float:
    r"""Percent accuracy of ``logits`` on ``data``'s nodes in the mask named ``mask``."""
    return 100 * metrics.accuracy(logits, data.y, getattr(data, mask))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-cora")
    parser.add_argument(
        "--cpf-workdir", required=True, help="the --workdir of a finished `graphkd distill --method cpf`"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--mixes", type=float, nargs="+", default=[0.0, 0.5, 0.75, 1.0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if any(not 0.0 <= w <= 1.0 for w in args.mixes):
        parser.error(f"--mixes must lie in [0, 1], got {args.mixes}")
    workdir = Path(args.cpf_workdir)
    missing = [s for s in args.seeds if not (workdir / f"seed-{s}" / "student.ckpt").is_file()]
    if missing:
        parser.error(f"{workdir} has no finished CPF seed(s) {missing}")
    spec = get_recipe("glnn", args.dataset).student  # the student of graphkd's recipe

    rows = []
    for seed in args.seeds:
        data, outputs, refined = refined_logits(args.dataset, seed, workdir / f"seed-{seed}")
        for w in args.mixes:
            start = time.perf_counter()
            mixed = (w * refined.exp() + (1 - w) * outputs.logits.softmax(-1)).clamp_min(1e-30).log()
            targets = TeacherOutputs(mixed, outputs.meta)
            seed_everything(seed)
            student = build_model(spec.name, data.num_features, data.num_classes, **spec.model_kwargs())
            method = GLNN(student, trainer=Trainer(**spec.trainer_kwargs(), progress=False)).fit(
                data, targets, seed=seed
            )
            best = method.history_.best
            row = {
                "seed": seed,
                "mix": w,
                "targets_val": accuracy(mixed, data, "val_mask"),
                "targets_test": accuracy(mixed, data, "test_mask"),
                "student_val": 100 * best.val_acc,
                "student_test": 100 * best.test_acc,
                "agreement": 100 * float((method.predict(data).argmax(-1) == mixed.argmax(-1)).float().mean()),
                "seconds": time.perf_counter() - start,
            }
            rows.append(row)
            print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)

    def cell(w: float, key: str) -> str:
        values = [r[key] for r in rows if r["mix"] == w]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.2f} ± {std:.2f}"

    table = [
        f"# The recipe's student on mixed targets, {args.dataset} ({len(args.seeds)} seeds, CPF split, SAGE teacher)",
        "",
        "Targets: w · CPF-refined + (1 − w) · teacher probabilities (w = 0: GLNN; w = 1: graphkd's recipe).",
        "Mean ± std over seeds; checkpoints chosen on validation.",
        "",
        "| w | targets val | targets test | student val | student test | student = targets' class, all nodes (%) |",
        "|---|---|---|---|---|---|",
    ]
    for w in args.mixes:
        keys = ("targets_val", "targets_test", "student_val", "student_test", "agreement")
        table.append(f"| {w:g} | " + " | ".join(cell(w, k) for k in keys) + " |")
    payload = {
        "config": {**vars(args), "student": dataclasses.asdict(spec)},
        "rows": rows,
    }
    write_result(args.out, f"refined_targets_{args.dataset}", payload, table)
    return payload


if __name__ == "__main__":
    main()
