"""NOSMOG with graphkd's DeepWalk trainer against NOSMOG's own (gensim's word2vec), same teachers.

    GRAPHKD_DATA=../shared/datasets python benchmarks/nosmog_deepwalk.py --dataset cpf-cora --seeds 10

graphkd trains DeepWalk's skip-gram itself, in PyTorch (negative sampling on batches of pairs);
NOSMOG's released code trains it with gensim (hierarchical softmax plus negative sampling, one
pair at a time). This script runs the dataset's NOSMOG recipe twice over the same seeds, once
per DeepWalk backend (``pos_backend``: ``torch`` or ``gensim``; everything else equal, so the
teachers are the same), and times each backend's embedding of the first seed's graph alone.
Needs gensim (``pip install gensim``).

Writes ``benchmarks/results/nosmog_deepwalk_<dataset>.json`` and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from bench_io import write_result

from graphkd.datasets import load
from graphkd.distill import NOSMOG
from graphkd.eval import run_distillation
from graphkd.recipes import get_recipe

BACKENDS = ("torch", "gensim")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-cora")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    try:
        import gensim  # noqa: F401
    except ImportError:
        parser.error("this benchmark compares against gensim: pip install gensim")
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    base = get_recipe("nosmog", args.dataset)
    graph = load(args.dataset, seed=0)

    results, recipes = {}, {}
    for backend in BACKENDS:
        recipe = base.override(pos_backend=backend)
        recipes[backend] = recipe.to_dict()
        positional = NOSMOG.from_recipe(recipe, graph).positional  # DeepWalk as the recipe sets it up
        start = time.perf_counter()
        positional.fit(graph, seed=0)
        embed_s = time.perf_counter() - start
        rows = run_distillation(args.dataset, seeds, "nosmog", recipe=recipe, timing_repeats=0)
        by_model = {}
        for model in (recipe.teacher.name, "nosmog"):
            mine = [r for r in rows if r.model == model]
            by_model[model] = {
                "test": [100 * r.test_acc for r in mine],
                "val": [100 * r.val_acc for r in mine],
            }
        results[backend] = {"embed_seconds": embed_s, **by_model}
        nos = by_model["nosmog"]["test"]
        print(f"{backend}: NOSMOG {statistics.fmean(nos):.2f}; DeepWalk {embed_s:.1f} s", flush=True)

    teacher = base.teacher.name
    if results["torch"][teacher]["test"] != results["gensim"][teacher]["test"]:
        raise RuntimeError("the two runs trained different teachers; run the script alone, with one thread count")

    def stats(values: list[float]) -> str:
        return f"{statistics.fmean(values):.2f} ± {statistics.stdev(values) if len(values) > 1 else 0.0:.2f}"

    speed = results["gensim"]["embed_seconds"] / results["torch"]["embed_seconds"]
    table = [
        f"NOSMOG on {args.dataset}, transductive, seeds 0-{args.seeds - 1}, the same {teacher} teachers "
        f"(test {stats(results['torch'][teacher]['test'])}): graphkd's DeepWalk trainer vs gensim's "
        f"(NOSMOG's own); DeepWalk time = one embedding of seed 0's graph, {args.threads} threads "
        "(`python benchmarks/nosmog_deepwalk.py`).",
        "",
        "| DeepWalk backend | NOSMOG test acc (%) | NOSMOG val acc (%) | DeepWalk time (s) |",
        "|---|---|---|---|",
    ]
    for backend in BACKENDS:
        r = results[backend]
        table.append(
            f"| {backend} | {stats(r['nosmog']['test'])} | {stats(r['nosmog']['val'])} | {r['embed_seconds']:.1f} |"
        )
    table += ["", f"gensim / torch DeepWalk time: {speed:.2f}x"]
    payload = {"dataset": args.dataset, "seeds": seeds, "threads": args.threads, "recipes": recipes}
    payload |= {"results": results, "gensim_over_torch_time": speed}
    write_result(args.out, f"nosmog_deepwalk_{args.dataset}", payload, table)
    return payload


if __name__ == "__main__":
    main()
