"""Results folders for the accuracy-vs-latency picture: teacher GNNs of 1, 2 and 3 layers, and
plain and distilled MLPs of several widths, on one dataset, then the plot.

    GRAPHKD_DATA=../shared/datasets python benchmarks/tradeoff.py --dataset cpf-cora --seeds 5
    graphkd plot-tradeoff benchmarks/results/tradeoff/cpf-cora/* --out results/tradeoff.png   # the plot again

Each configuration is one ``graphkd distill`` run (the dataset's GLNN recipe with one change)
written to ``benchmarks/results/tradeoff/<dataset>/<configuration>/``. Latency is that of a
request for 10 random nodes (the GNN fetching its whole L-hop neighbourhood and the features,
the MLP the feature rows only), measured by ``graphkd.deploy.latency`` on this machine with
``--threads`` threads; run it alone, since concurrent processes distort small timings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from graphkd.cli.main import _log_seed
from graphkd.eval import run_distillation, write_results
from graphkd.eval.plot import plot_tradeoff
from graphkd.recipes import get_recipe

CONFIGS = {
    "sage-1-layer": {"teacher.num_layers": 1},
    "sage-2-layer": {},
    "sage-3-layer": {"teacher.num_layers": 3},
    **{f"mlp-{w}": {"student.hidden_channels": w, "baseline.hidden_channels": w} for w in (32, 64, 256, 512)},
}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-cora")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "tradeoff"))
    parser.add_argument("--plot", default="results/tradeoff.png", help="the PNG (default: git-ignored results/)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    base = get_recipe("glnn", args.dataset)
    folders = []
    for name, changes in CONFIGS.items():
        recipe = base.override(**changes)
        folder = Path(args.out) / args.dataset / name
        rows = run_distillation(args.dataset, list(range(args.seeds)), recipe=recipe, on_seed=_log_seed)
        config = {"command": "benchmarks/tradeoff.py", "dataset": args.dataset, "method": "glnn"}
        config |= {"seeds": list(range(args.seeds)), "recipe": recipe.to_dict(), "threads": args.threads}
        write_results(folder, config, rows, f"{args.dataset}: {name}", baseline=recipe.teacher.name)
        folders.append(folder)
        print(f"{name}: written to {folder}", flush=True)
    path = plot_tradeoff(folders, args.plot, title=f"{args.dataset}: accuracy vs latency ({args.threads} CPU threads)")
    print(f"plot written to {path}")
    return path


if __name__ == "__main__":
    main()
