"""Distillation on an OGB node-property dataset, as the OGB example scripts run it
(``examples/ogbn_arxiv.py``, ``examples/ogbn_products.py``, ``graphkd ogb``).

One run (``--runs N`` of them) trains the recipe's GraphSAGE teacher on neighbour-sampled
batches, computes its outputs by layer-wise inference, trains a plain MLP on labels and distils
the teacher into an MLP student of the same architecture, each checkpoint chosen on validation,
all three scored by OGB's own ``Evaluator``; the table shows mean ± std over runs. Every run is
resumable: killed at any point and started again with the same arguments, it continues from its
last epoch (``<out>/runs/seed-<k>/``); finished runs are not repeated.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..recipes import Recipe

__all__ = ["build_ogb_parser", "ogb_main"]


def build_ogb_parser(dataset: str, prog: str | None = None) -> argparse.ArgumentParser:
    r"""The command line of the OGB examples, its defaults taken from ``dataset``'s GLNN recipe."""
    from ..eval import METHODS, SETTINGS
    from ..recipes import get_recipe

    r = get_recipe("glnn", dataset)
    fanouts = ",".join(str(f) for f in r.teacher.trainer_kwargs().get("num_neighbors", []))
    p = argparse.ArgumentParser(prog=prog, description=f"Distil a GNN into an MLP on {dataset} (GLNN's recipe).")
    p.add_argument("--root", help="OGB data root (default: $GRAPHKD_DATA or ./datasets); OGB downloads into it")
    p.add_argument(
        "--dataset-meta",
        metavar="META_DICT.pt",
        help="run on a dataset written in OGB's format (ogb.io.DatasetSaver, `graphkd save-ogb`) instead, "
        f"through the same OGB code path as {dataset}",
    )
    p.add_argument("--device", help="cpu or cuda (default: cuda if available)")
    p.add_argument("--runs", type=int, default=10, help="independent runs (seeds 0..N-1) (default: 10)")
    p.add_argument("--epochs", type=int, help=f"maximum epochs of every model (default: {r.teacher.epochs})")
    p.add_argument("--batch-size", type=int, help=f"teacher's seed nodes per batch (default: {r.teacher.batch_size})")
    p.add_argument(
        "--student-batch-size", type=int, help=f"student's nodes per batch (default: {r.student.batch_size})"
    )
    p.add_argument("--num-workers", type=int, default=0, help="sampling worker processes (default: 0)")
    p.add_argument(
        "--fanouts",
        help=f"teacher's fan-out per hop from the seeds outward, PyG order (default: {fanouts}, GLNN's DGL 5,10,15)",
    )
    p.add_argument("--hidden", type=int, help=f"teacher's hidden channels (default: {r.teacher.hidden_channels})")
    p.add_argument(
        "--student-hidden", type=int, help=f"student's hidden channels (default: {r.student.hidden_channels})"
    )
    p.add_argument("--method", default="glnn", choices=sorted(METHODS), help="distillation method (default: glnn)")
    p.add_argument("--setting", default="transductive", choices=SETTINGS, help="(default: transductive)")
    p.add_argument("--out", help=f"results folder (default: results/{dataset}-<setting>)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other recipe change, e.g. student.dropout=0.3 or teacher.lr=0.003 (repeatable)",
    )
    p.add_argument("--timing-repeats", type=int, default=1, help="full-graph inferences timed per model (default: 1)")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="progress bars per epoch and per batch (default: on)",
    )
    return p


def ogb_main(dataset: str, argv: Sequence[str] | None = None, prog: str | None = None) -> list:
    r"""Parses ``argv`` (:func:`build_ogb_parser`), runs, prints the table and writes the results
    folder (``results.json``, ``results.md``, ``runs.csv``). Returns the per-run rows."""
    from ..datasets import load, load_meta_dict
    from ..eval import OGBMetric, markdown_table, run_distillation, summarize, write_results
    from ..recipes import get_recipe
    from .main import _log_seed, _parse_options

    args = build_ogb_parser(dataset, prog).parse_args(argv)
    _log_to_stderr()
    if args.runs < 1:
        raise ValueError(f"--runs must be >= 1, got {args.runs}")
    name, meta = load_meta_dict(args.dataset_meta) if args.dataset_meta else (dataset, None)
    recipe = _apply_flags(get_recipe(args.method, dataset, args.setting), args)
    recipe = recipe.override(**dict(_parse_options(args.set, "--set")))
    out = Path(args.out or f"results/{name}-{args.setting}")
    print(f"recipe ({recipe.source}):\n{json.dumps(recipe.to_dict(), indent=2)}", flush=True)

    data = load(name, root=args.root, meta_dict=meta)  # OGB's official split; made undirected
    print(f"{name}: {data.num_nodes:,} nodes, {data.edge_index.size(1):,} directed edges, {data.num_classes} classes")
    metric = OGBMetric(name, meta)
    rows = run_distillation(
        data,
        list(range(args.runs)),
        args.method,
        recipe,
        args.setting,
        device=args.device,
        progress=args.progress,
        on_seed=_log_seed,
        workdir=out / "runs",
        metric=metric,
        num_workers=args.num_workers,
        timing_repeats=args.timing_repeats,
    )
    title = (
        f"{name} ({args.setting}), {recipe.teacher.name} teacher -> {args.method}, {args.runs} run(s), "
        "OGB Evaluator accuracy at the best validation epoch"
    )
    print(markdown_table(summarize(rows), title, baseline=recipe.teacher.name))
    config = {
        "command": f"ogb {dataset}",
        "argv": list(argv) if argv is not None else sys.argv[1:],
        "dataset": name,
        "setting": args.setting,
        "method": args.method,
        "runs": args.runs,
        "recipe": recipe.to_dict(),
        "metric": repr(metric),
        "root": args.root,
        "dataset_meta": args.dataset_meta,
        "device": args.device,
    }
    write_results(out, config, rows, title, baseline=recipe.teacher.name)
    print(f"results written to {out}/ (results.json, results.md, runs.csv)")
    return rows


def _apply_flags(recipe: Recipe, args: argparse.Namespace) -> Recipe:
    # The plain-MLP baseline is the student's architecture: a recipe without a baseline of its
    # own keeps following the student through every change; one with its own gets the
    # student's architectural changes (width, batch size) and the epochs copied over.
    own = recipe.baseline is not None
    changes: dict[str, object] = {}
    if args.epochs is not None:
        changes |= {f"{m}.epochs": args.epochs for m in ("teacher", "student", *(("baseline",) if own else ()))}
    if args.fanouts:
        fanouts = tuple(int(f) for f in args.fanouts.split(","))
        changes |= {"teacher.fanout": fanouts, "teacher.num_layers": len(fanouts)}
    for flag, key in (
        ("batch_size", "teacher.batch_size"),
        ("hidden", "teacher.hidden_channels"),
        ("student_batch_size", "student.batch_size"),
        ("student_hidden", "student.hidden_channels"),
    ):
        value = getattr(args, flag)
        if value is not None:
            changes[key] = value
            if own and key.startswith("student."):
                changes[key.replace("student.", "baseline.")] = value
    return recipe.override(**changes)


def _log_to_stderr() -> None:
    # graphkd's own messages (resumed runs, the sampling backend) are part of the script's output
    logger = logging.getLogger("graphkd")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # PyG's loader configures the root logger: print each message once


def ogb_script(dataset: str, prog: str, argv: list[str] | None = None) -> None:
    r"""Runs :func:`ogb_main` as a command-line script: bad input (a :class:`ValueError` or a
    missing file) ends with one ``<prog>: error: ...`` line and exit status 2, not a traceback."""
    try:
        ogb_main(dataset, argv, prog=prog)
    except (ValueError, FileNotFoundError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
