"""Wall time of a whole protocol-A run (CPF split, SAGE teacher -> GLNN, N seeds), by phase.

    GRAPHKD_DATA=../shared/datasets python benchmarks/protocol_a.py --dataset cpf-cora --seeds 10

Phases summed over seeds: teacher training, soft labels (the teacher's full-graph inference),
plain-MLP baseline training and student (GLNN) training; "other" is loading, splitting and
evaluation. Writes ``benchmarks/results/protocol_a_<dataset>.json`` and a Markdown table beside
it. Target (issue 3): the whole Cora run, 10 seeds, under 3 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch
from bench_io import write_result

from graphkd.eval import run_distillation, summarize
from graphkd.recipes import get_recipe


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-cora")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--setting", default="transductive")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    recipe = get_recipe("glnn", args.dataset, args.setting)
    start = time.perf_counter()
    rows = run_distillation(args.dataset, list(range(args.seeds)), recipe=recipe, setting=args.setting)
    total = time.perf_counter() - start
    teacher = recipe.teacher.name
    phases = {
        "teacher training": sum(r.train_time_s for r in rows if r.model == teacher),
        "soft labels (teacher inference)": sum(r.infer_time_s for r in rows if r.model == teacher),
        "plain MLP training": sum(r.train_time_s for r in rows if r.model == "mlp"),
        "student (GLNN) training": sum(r.train_time_s for r in rows if r.model == "glnn"),
    }
    phases["other (loading, splits, evaluation, timing)"] = total - sum(phases.values())
    result = {
        "dataset": args.dataset,
        "setting": args.setting,
        "seeds": args.seeds,
        "total_s": total,
        "phases_s": phases,
        "target_s": 180.0,
        "accuracy": {s.model: {"mean": s.test_mean, "std": s.test_std} for s in summarize(rows)},
        "machine": {"platform": platform.platform(), "threads": torch.get_num_threads(), "torch": torch.__version__},
    }
    table = ["| phase | seconds | share |", "|---|---:|---:|"]
    table += [f"| {k} | {v:.1f} | {100 * v / total:.0f}% |" for k, v in phases.items()]
    table.append(f"| **total** ({args.seeds} seeds, target < 180 s) | **{total:.1f}** | 100% |")
    write_result(args.out, f"protocol_a_{args.dataset}", result, table)
    return result


if __name__ == "__main__":
    main()
