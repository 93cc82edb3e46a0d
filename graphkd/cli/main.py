"""The ``graphkd`` command line: ``datasets``, ``train``, ``distill``, ``predict``, ``ogb`` and ``save-ogb``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _cmd_datasets(args: argparse.Namespace) -> int:
    from ..datasets import DATASETS, data_root

    root = data_root(args.root)
    print(f"data root: {root}  (set GRAPHKD_DATA or --root to change)\n")
    print("| name | source | nodes | edges | features | classes | splits | offline |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    for info in DATASETS.values():
        here = "yes" if info.available(root) else "no"
        print(
            f"| {info.name} | {info.source} | {info.nodes:,} | {info.edges:,} | {info.features:,} | "
            f"{info.classes} | {', '.join(info.splits)} | {here} |"
        )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from ..eval import markdown_table, results_title, run_seeds, summarize, write_results

    seeds = args.seed_list if args.seed_list else list(range(args.seeds))
    model_kwargs = {
        "hidden_channels": args.hidden,
        "num_layers": args.layers,
        "dropout": args.dropout,
        "norm": args.norm,
        "residual": args.residual,
    }
    trainer_kwargs = {
        "epochs": args.epochs,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "optimizer": args.optimizer,
        "patience": args.patience,
        "device": args.device,
        "progress": args.progress,
    }
    dataset_kwargs = dict(_parse_options(args.option, "--option"))
    per_model = _per_model_options(args.model_option, args.model)
    results = run_seeds(
        args.dataset,
        args.model,
        seeds,
        root=args.root,
        split=args.split,
        model_kwargs=model_kwargs,
        trainer_kwargs=trainer_kwargs,
        dataset_kwargs=dataset_kwargs,
        per_model_kwargs=per_model,
    )
    config = {
        "command": "train",
        "dataset": args.dataset,
        "split": args.split,
        "models": args.model,
        "seeds": seeds,
        "model": model_kwargs,
        "trainer": {**trainer_kwargs, "progress": None},
        "model_options": per_model,
        "dataset_options": dataset_kwargs,
        "root": args.root,
    }
    title = results_title(config)
    print(markdown_table(summarize(results), title))
    if args.out:
        folder = write_results(args.out, config, results, title)
        print(f"results written to {folder}/ (results.json, results.md, runs.csv)")
    return 0


def _log_seed(seed: int, rows) -> None:
    parts = []
    for row in rows:
        acc = f"{row.model} {100 * row.test_acc:.2f}"
        if row.test_ind_acc is not None:
            acc += f" (ind {100 * row.test_ind_acc:.2f})"
        parts.append(acc)
    seconds = sum(row.train_time_s for row in rows)
    print(f"seed {seed}: test accuracy {', '.join(parts)}; trained in {seconds:.1f} s", file=sys.stderr, flush=True)


def _cmd_distill(args: argparse.Namespace) -> int:
    from ..datasets import dataset_info
    from ..eval import markdown_table, results_title, run_distillation, summarize, write_results
    from ..recipes import get_recipe

    dataset_info(args.dataset)  # a wrong name fails here, before the recipe is printed
    seeds = args.seed_list if args.seed_list else list(range(args.seeds))
    recipe = get_recipe(args.method, args.dataset, args.setting)
    if args.teacher:
        recipe = recipe.with_teacher(args.teacher)
    recipe = recipe.override(**dict(_parse_options(args.set, "--set")))
    print(f"recipe ({recipe.source or 'custom'}):")
    print(json.dumps(recipe.to_dict(), indent=2))
    results = run_distillation(
        args.dataset,
        seeds,
        args.method,
        recipe,
        args.setting,
        root=args.root,
        split=args.split,
        ind_fraction=args.ind_fraction,
        device=args.device,
        progress=args.progress,
        teacher_outputs_dir=f"{args.out}/teacher_outputs" if args.out and args.save_teacher_outputs else None,
        on_seed=_log_seed,
        export_dir=args.export,
        workdir=args.workdir,
    )
    config = {
        "command": "distill",
        "dataset": args.dataset,
        "split": args.split,
        "setting": args.setting,
        "method": args.method,
        "seeds": seeds,
        "recipe": recipe.to_dict(),
        "ind_fraction": args.ind_fraction,
        "root": args.root,
        "device": args.device,
    }
    title = results_title(config)
    print(markdown_table(summarize(results), title, baseline=recipe.teacher.name))
    if args.out:
        folder = write_results(args.out, config, results, title, baseline=recipe.teacher.name)
        print(f"results written to {folder}/ (results.json, results.md, runs.csv)")
    if args.export:
        _print_exports(args.export, seeds)
    return 0


def _print_exports(folder: str, seeds: list[int]) -> None:
    from pathlib import Path

    print(f"\nexported students ({folder}/seed-<s>/, each checked against the eager model):")
    print("| seed | file | format | max abs diff | test acc (%) | size (KiB) |")
    print("|---|---|---|---|---|---|")
    for seed in seeds:
        report = json.loads((Path(folder) / f"seed-{seed}" / "export.json").read_text())
        for name, r in report["files"].items():
            kind = r["format"] + (" int8" if r["quantized"] else "")
            acc = f"{100 * r['accuracy']:.2f}" if "accuracy" in r else ""
            print(f"| {seed} | {name} | {kind} | {r['max_abs_diff']:.1e} | {acc} | {r['size_bytes'] / 1024:.0f} |")


def _cmd_predict(args: argparse.Namespace) -> int:
    # the serving path: no PyTorch Geometric, no graph (an ONNX student needs no torch either)
    from pathlib import Path

    import numpy as np

    from ..deploy.serve import load_student

    student = load_student(args.model, threads=args.threads)
    path = Path(args.features)
    if not path.is_file():
        raise FileNotFoundError(f"no features file at {path}")
    try:
        x = np.load(path, allow_pickle=False)
    except ValueError as err:
        raise ValueError(f"{path} is not a .npy array of features ({err})") from None
    out = student.predict_proba(x) if args.proba else student.predict(x)
    if args.out:
        np.save(args.out, out)
        print(f"{len(out)} predictions written to {args.out}")
    else:
        for row in out[: args.show]:
            print(" ".join(f"{v:.4f}" for v in row) if args.proba else int(row))
        if len(out) > args.show:
            print(f"... ({len(out)} rows; --out FILE.npy writes them all)")
    return 0


def _cmd_plot_tradeoff(args: argparse.Namespace) -> int:
    from ..eval.plot import plot_tradeoff, tradeoff_points

    points = tradeoff_points(args.results, args.metric, args.latency)
    path = plot_tradeoff(args.results, args.out, args.metric, args.latency, args.title)
    print("| model | kind | accuracy (%) | latency (ms) | results |")
    print("|---|---|---|---|---|")
    for p in sorted(points, key=lambda p: p.latency_ms):
        print(f"| {p.label} | {p.kind} | {p.accuracy:.2f} ± {p.accuracy_std:.2f} | {p.latency_ms:.3f} | {p.folder} |")
    print(f"plot written to {path}")
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    from ..eval.merge import merge_results

    folder = merge_results(args.results, args.out, replace=args.replace)
    print((folder / "results.md").read_text(), end="")
    print(f"results written to {folder}/ (results.json, results.md, runs.csv)")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..eval.compare import compare_table
    from ..utils.io import atomic_write_text

    table = compare_table(args.results, args.metric, args.other_teachers)
    print(table, end="")
    if args.out:
        atomic_write_text(args.out, table)
        print(f"table written to {args.out}")
    return 0


def _cmd_save_ogb(args: argparse.Namespace) -> int:
    from ..datasets import load, ogb_like, random_split, save_ogb

    if args.synthetic:
        # OGB-sized csbm graph; a random split with ogbn-arxiv's proportions (54 / 18 / 28 %)
        data = random_split(ogb_like(args.synthetic, seed=args.seed), seed=args.seed, train=0.54, val=0.18)
        name = args.name or f"ogbn-synthetic-{args.synthetic}"
    else:  # argparse requires exactly one of --dataset and --synthetic
        options = dict(_parse_options(args.option, "--option"))
        data = load(args.dataset, root=args.root, split=args.split, seed=args.seed, **options)
        name = args.name or f"ogbn-{args.dataset}"
    path = save_ogb(data, name, args.out)
    print(f"{name}: {data.num_nodes:,} nodes, {data.edge_index.size(1):,} edges written in OGB's format")
    print(f"meta_dict: {path}")
    return 0


def _cmd_ogb(args: argparse.Namespace) -> int:
    from .ogb import ogb_main

    ogb_main(args.dataset, args.args, prog=f"graphkd ogb {args.dataset}")
    return 0


def _per_model_options(items: list[str], models: list[str]) -> dict[str, dict[str, object]]:
    # "KEY=VALUE" applies to every model, "MODEL.KEY=VALUE" to that model only.
    out: dict[str, dict[str, object]] = {}
    for key, value in _parse_options(items, "--model-option"):
        target, dot, name = key.rpartition(".")
        if dot and target not in models:
            raise ValueError(f"--model-option {key}: model {target!r} is not among --model {' '.join(models)}")
        for model in [target] if dot else models:
            out.setdefault(model, {})[name] = value
    return out


def _parse_options(items: list[str], flag: str) -> list[tuple[str, object]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        out.append((key.strip(), _literal(value.strip())))
    return out


def _literal(value: str) -> object:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
        return int(number) if number.is_integer() and "e" in value.lower() else number  # 1e3 -> 1000
    except (ValueError, OverflowError):
        pass
    return {"true": True, "false": False}.get(value.lower(), value)


def _add_run_arguments(p: argparse.ArgumentParser, default_seeds: int) -> None:
    # The flags every experiment verb shares.
    p.add_argument("--seeds", type=int, default=default_seeds, help=f"run seeds 0..N-1 (default: {default_seeds})")
    p.add_argument("--seed-list", type=int, nargs="+", help="explicit seeds (overrides --seeds)")
    p.add_argument("--split", help="public, cpf or random (default: the dataset's first split)")
    p.add_argument("--root", help="data root (default: $GRAPHKD_DATA or ./datasets)")
    p.add_argument("--device", help="cpu or cuda (default: cuda if available)")
    p.add_argument("--out", help="write results.json, results.md and runs.csv into this folder")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: when stderr is a terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphkd", description="Knowledge distillation for graph neural networks.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("datasets", help="list dataset names, sizes and whether they are available offline")
    p.add_argument("--root", help="data root (default: $GRAPHKD_DATA or ./datasets)")
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser("train", help="train and evaluate models on a dataset over several seeds")
    p.add_argument("--dataset", default="csbm", help="dataset name (see `graphkd datasets`; default: csbm)")
    p.add_argument(
        "--model", nargs="+", default=["gcn"], help="one or more of gcn, sage, gat, gin, appnp, mlp (default: gcn)"
    )
    _add_run_arguments(p, default_seeds=5)
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dataset option, e.g. homophily=0.5 or train_per_class=20 (repeatable)",
    )
    p.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="[MODEL.]KEY=VALUE",
        help="model argument, for all models or one, e.g. sage.aggregator=gcn or gat.heads=4",
    )
    p.add_argument("--hidden", type=int, default=64, help="hidden channels (default: 64)")
    p.add_argument("--layers", type=int, default=2, help="number of layers (default: 2)")
    p.add_argument("--dropout", type=float, default=0.5, help="dropout (default: 0.5)")
    p.add_argument("--norm", choices=["batch", "layer"], help="normalisation after hidden layers")
    p.add_argument("--residual", action="store_true", help="residual connections")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default: 0.01)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="weight decay (default: 5e-4)")
    p.add_argument("--optimizer", default="adam", help="adam or adamw (default: adam)")
    p.add_argument("--epochs", type=int, default=500, help="maximum epochs (default: 500)")
    p.add_argument("--patience", type=int, default=100, help="early-stopping patience (default: 100)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("distill", help="distil a GNN teacher into an MLP and compare teacher, MLP and student")
    p.add_argument("--dataset", default="csbm", help="dataset name (default: csbm)")
    p.add_argument(
        "--method",
        default="glnn",
        help="distillation method (graphkd.eval.METHODS): glnn, nosmog, krd, cpf, vqgraph or graphkd (default: glnn)",
    )
    p.add_argument("--setting", choices=["transductive", "inductive"], default="transductive")
    p.add_argument(
        "--teacher",
        help="replace the recipe's teacher by a preset: gcn, sage or gat (graphkd.recipes.TEACHERS); "
        "--set teacher.<field> still applies after it",
    )
    _add_run_arguments(p, default_seeds=10)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override the recipe, e.g. student.hidden_channels=256, teacher.dropout=0.3, lam=0.5",
    )
    p.add_argument("--ind-fraction", type=float, default=0.2, help="held-out share of test nodes (inductive)")
    p.add_argument("--save-teacher-outputs", action="store_true", help="also save teacher outputs under --out")
    p.add_argument(
        "--export",
        metavar="DIR",
        help="export each seed's distilled MLP to DIR/seed-<s>/ (TorchScript, ONNX if installed, int8), "
        "each checked against the eager model",
    )
    p.add_argument(
        "--workdir",
        metavar="DIR",
        help="keep each seed's checkpoints, teacher outputs and rows in DIR/seed-<s>/: the same command run "
        "again skips finished seeds and resumes an interrupted one (files of another run are refused)",
    )
    p.set_defaults(func=_cmd_distill)

    p = sub.add_parser("predict", help="predict classes with an exported student, from node features alone")
    p.add_argument("--model", required=True, help="an exported student: .pt (TorchScript) or .onnx")
    p.add_argument("--features", required=True, help="a .npy array of node features [n, in_channels]")
    p.add_argument("--out", help="write the predictions to this .npy file (default: print them)")
    p.add_argument("--proba", action="store_true", help="class probabilities instead of class ids")
    p.add_argument("--threads", type=int, help="intra-op threads of the runtime")
    p.add_argument("--show", type=int, default=20, help="rows to print without --out (default: 20)")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("plot-tradeoff", help="accuracy vs inference latency of every model in results folders (PNG)")
    p.add_argument("results", nargs="+", help="results folders of `graphkd distill --out`")
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--metric", default="test", choices=["test", "ind", "prod"], help="accuracy to plot")
    p.add_argument(
        "--latency",
        default="request",
        choices=["request", "full-graph"],
        help="a request for 10 nodes (the GNN fetching its neighbourhood) or all nodes at once",
    )
    p.add_argument("--title", help="the figure's title")
    p.set_defaults(func=_cmd_plot_tradeoff)

    p = sub.add_parser("compare", help="one table of methods side by side from results folders")
    p.add_argument("results", nargs="+", help="results folders of `graphkd distill --out` (any methods, datasets)")
    p.add_argument(
        "--metric",
        default="auto",
        choices=["auto", "test", "ind", "prod"],
        help="accuracy to show (auto: test for transductive rows, 'ind / prod' for inductive ones)",
    )
    p.add_argument(
        "--other-teachers",
        default="refuse",
        choices=["refuse", "mark"],
        help="a folder whose teachers differ from its row's (on any seed both ran): refuse it, or show it "
        "with '; other teachers <accuracy>' in its cell (default: refuse)",
    )
    p.add_argument("--out", help="also write the table to this Markdown file")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("merge", help="one results folder of an experiment run on disjoint seeds in several folders")
    p.add_argument("results", nargs="+", help="results folders of `graphkd train/distill --out` (same config)")
    p.add_argument("--out", required=True, help="the merged folder (results.json, results.md, runs.csv)")
    p.add_argument(
        "--replace",
        action="store_true",
        help="a seed in several folders is taken from the last of them (seeds re-run after a fix); "
        "without it a seed in two folders is refused",
    )
    p.set_defaults(func=_cmd_merge)

    p = sub.add_parser(
        "ogb",
        help="distil on an OGB dataset as examples/ogbn_*.py do (`graphkd ogb ogbn-arxiv --help` for its options)",
        add_help=False,
    )
    p.add_argument("dataset", choices=["ogbn-arxiv", "ogbn-products"], help="its GLNN recipe gives the defaults")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the example's own options")
    p.set_defaults(func=_cmd_ogb)

    p = sub.add_parser("save-ogb", help="write a dataset (or an OGB-sized synthetic graph) in OGB's on-disk format")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="a graphkd dataset name, written with its split")
    src.add_argument("--synthetic", choices=["arxiv", "products"], help="an OGB-sized csbm graph with a random split")
    p.add_argument("--name", help="the OGB name to give it, ogbn-<name> (default: ogbn-<dataset>)")
    p.add_argument("--out", required=True, help="folder to write into (gets submission_ogbn_<name>/)")
    p.add_argument("--split", help="the dataset's split to write (default: its first)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split (and of a synthetic graph) (default: 0)")
    p.add_argument("--root", help="data root (default: $GRAPHKD_DATA or ./datasets)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="dataset option (repeatable)")
    p.set_defaults(func=_cmd_save_ogb)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    r"""Entry point of the ``graphkd`` command. Bad input exits with status 2 and one line."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"graphkd: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
