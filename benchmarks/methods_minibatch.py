"""Every GNN-to-MLP distillation method of graphkd in mini-batch mode on the arxiv-sized
synthetic graph, with the time of each phase.

    python benchmarks/methods_minibatch.py                           # every method, 2 epochs each
    python benchmarks/methods_minibatch.py --methods glnn krd --epochs 1
    python benchmarks/methods_minibatch.py --nodes 5000              # smoke run on a small graph

The graph is :func:`graphkd.datasets.ogb_like` ``("arxiv")`` (169,343 nodes, ~2.3 M directed
edges, 40 classes) with a random 54/18/28 split (ogbn-arxiv's proportions); ``--nodes`` draws
a smaller graph of the same degree, features and classes instead (for a quick check; its result
file is named apart).

Teacher: one **untrained** 2-layer GraphSAGE, 128 hidden, the ``"gcn"`` aggregator (the
teacher of the methods' default recipes); what distillation costs does not depend on the
teacher's weights. Its outputs (logits and hidden layer 0, which NOSMOG's RSD reads) are
computed once by layer-wise inference and shared by every method; a method's own teacher
signals (KRD: the logits under feature noise) are timed apart, in the method's row.

Each method runs with its ``default`` recipe (:func:`graphkd.recipes.get_recipe`), overridden to
node batches of ``--batch-size`` (4,096), ``--epochs`` epochs and no early stopping; for
``graphkd`` (:class:`graphkd.distill.RefinedKD`) the CPF/PLP refiner, fitted full-batch before
the student, also trains ``--epochs`` epochs. Exceptions, stated in the table:

* ``cpf``: its PLP student propagates over the whole graph at every step and reads the graph at
  inference, so it trains full-batch by design; its full-batch epochs are timed on the same graph.
* ``krd``: the warm-up before its per-epoch update of the sampling exponent (a prediction of the
  student over all nodes and a curve fit) is set to ``--krd-warmup`` (default 0, the recipe's is
  50), so the timed epochs include that update.
* ``vqgraph``: its teacher is its recipe's VQ tokenizer (``vq-sage``, 2 x 128, 512 codes),
  untrained too, whose cost per epoch is measured on neighbour-sampled batches
  (``--teacher-batch-size``, ``--teacher-fanout``): ``--teacher-batches`` batches are timed and
  extrapolated to a whole epoch over the training nodes (0: time the whole epoch); its outputs
  (hidden layer 0 and the codebook) are then computed by layer-wise inference.

Reported per method: time of the teacher side (signals / VQ teacher), ``prepare`` (the method's
``fit`` minus the trainer's ``history_.train_time_s``: DeepWalk, reliability, the refiner, ...),
seconds per student epoch (``train_time_s / epochs``, which includes the trainer's per-epoch
evaluation of every node), the method's total wall time, the process's peak resident memory
and the best-validation epoch's test accuracy (meaningless on a synthetic graph with an
untrained teacher: reported only to show the run completed).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import platform
import time
from pathlib import Path

import torch
from bench_io import PeakMemory, write_result

from graphkd.datasets import ogb_like, random_split
from graphkd.distill import TeacherOutputs
from graphkd.eval.distillation import METHODS
from graphkd.nn import build_model
from graphkd.recipes import RECIPES, Recipe, get_recipe
from graphkd.train import Trainer, cross_entropy_loss


def _gib(b: int) -> float:
    return b / 2**30


_KRD_WARMUP = RECIPES["krd"]["default"].params.get("warmup_epochs")


def _recipe(method: str, args) -> tuple[Recipe, list[str]]:
    r"""The method's default recipe with the benchmark's overrides, and notes on what changed."""
    notes = []
    recipe = get_recipe(method, "default")
    default = dict(recipe.params)
    changes = {"student.epochs": args.epochs, "student.patience": None}
    if method == "cpf":
        notes.append("full-batch by design (PLP propagates over the whole graph; needs the graph at inference)")
    else:
        changes["student.batch_size"] = args.batch_size
    if method == "graphkd":
        changes["refine_epochs"] = args.epochs
        notes.append(f"CPF/PLP refiner: {args.epochs} full-batch epochs (K={recipe.params.get('refine_layers')})")
    if method == "nosmog":
        if args.walks_per_node is not None:
            changes["pos_walks_per_node"] = args.walks_per_node
        if args.walk_length is not None:
            changes["pos_walk_length"] = args.walk_length
    if method == "krd" and args.krd_warmup is not None:
        changes["warmup_epochs"] = args.krd_warmup
    recipe = recipe.override(**changes)
    if method == "nosmog":
        p = recipe.params
        walks, length = (
            f"{p[k]}" + (f" (recipe: {default[k]})" if p[k] != default[k] else "")
            for k in ("pos_walks_per_node", "pos_walk_length")
        )
        notes.append(
            f"DeepWalk {walks} walk(s)/node of length {length}, window {p['pos_window']}, dim {p['pos_dim']}; "
            f"PGD {p['adv_steps']} steps; RSD ({p['rsd_kernel']})"
        )
    if method == "krd":
        notes.append(f"warm-up {recipe.params['warmup_epochs']} epochs (recipe: {_KRD_WARMUP})")
    return recipe, notes


def _vq_teacher(recipe: Recipe, data, args, notes: list[str]):
    r"""The VQ tokenizer teacher, trained on ``--teacher-batches`` neighbour-sampled batches
    (or one whole epoch); returns it and the timing of its epoch."""
    spec = recipe.teacher
    torch.manual_seed(args.seed)
    teacher = build_model(spec.name, data.num_features, data.num_classes, **spec.model_kwargs())
    trainer = Trainer(
        lr=spec.lr,
        weight_decay=spec.weight_decay,
        batch_size=args.teacher_batch_size,
        num_neighbors=args.teacher_fanout,
        progress=False,
        device="cpu",
    )
    batches = trainer.make_batches(teacher, data, seed=args.seed)
    total = len(batches)
    cap = total if not args.teacher_batches else min(args.teacher_batches, total)
    opt = torch.optim.Adam(teacher.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    teacher.train()
    start = time.perf_counter()
    for i, batch in enumerate(batches):
        if i == cap:
            break
        opt.zero_grad()
        loss = cross_entropy_loss(teacher, batch)
        loss.backward()
        opt.step()
    measured = time.perf_counter() - start
    epoch = measured * total / cap
    what = "measured" if cap == total else f"{cap} of {total} batches measured ({measured:.1f} s), extrapolated"
    notes.append(
        f"teacher {spec.name} {spec.num_layers} x {spec.hidden_channels}: one sampled epoch "
        f"(batch {args.teacher_batch_size}, fan-out {tuple(args.teacher_fanout)}) {epoch:.1f} s, {what}"
    )
    return teacher.eval(), {
        "teacher": repr(teacher),
        "sampled_batches_measured": cap,
        "batches_per_epoch": total,
        "measured_s": measured,
        "epoch_s": epoch,
        "extrapolated": cap != total,
    }


def run_method(method: str, cls: type, data, shared: TeacherOutputs, teacher, args) -> dict:
    recipe, notes = _recipe(method, args)
    row: dict = {"method": method, "recipe": recipe.to_dict(), "notes": notes}
    gc.collect()
    with PeakMemory() as whole:
        t0 = time.perf_counter()
        spec = recipe.student
        trainer = Trainer(**spec.trainer_kwargs(), device="cpu", progress=False)
        torch.manual_seed(args.seed)
        distiller = cls.from_recipe(recipe, data, trainer)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if method == "vqgraph":
            vq, row["vq_teacher"] = _vq_teacher(recipe, data, args, notes)
            t1 = time.perf_counter()
            outputs = TeacherOutputs.compute(vq, data, hidden_layers=distiller.teacher_layers(), dataset="synthetic")
            row["vq_teacher"]["outputs_s"] = time.perf_counter() - t1
            notes.append(f"VQ teacher outputs (layer-wise, with codebook) {row['vq_teacher']['outputs_s']:.1f} s")
            signals_s = row["vq_teacher"]["epoch_s"] + row["vq_teacher"]["outputs_s"]
        else:
            signals = distiller.teacher_signals(teacher, data, args.seed)
            outputs = shared
            if signals:  # the shared outputs with the method's own signals (KRD's noisy logits)
                outputs = dataclasses.replace(shared, extras={**(shared.extras or {}), **signals})
                notes.append(f"teacher signals ({', '.join(signals)}) {time.perf_counter() - t0:.1f} s")
            signals_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        distiller.fit(data, outputs, seed=args.seed)
        fit_s = time.perf_counter() - t0
    hist = distiller.history_
    epochs = len(hist.epochs)
    row.update(
        {
            "batch_size": spec.batch_size,
            "epochs": epochs,
            "build_s": build_s,
            "teacher_side_s": signals_s,
            "fit_s": fit_s,
            "train_s": hist.train_time_s,
            "prepare_s": fit_s - hist.train_time_s,
            "epoch_s": hist.train_time_s / max(epochs, 1),
            "total_s": whole.seconds,
            "peak_rss_gib": _gib(whole.peak),
            "rss_above_start_gib": _gib(whole.above_start),
            "test_acc": hist.best.test_acc,
            "student": repr(distiller.student),
            "student_needs_graph": bool(getattr(cls, "student_needs_graph", False)),
        }
    )
    print(
        f"{method}: total {whole.seconds:.1f} s, prepare {row['prepare_s']:.1f} s, "
        f"{row['epoch_s']:.1f} s/epoch, peak {row['peak_rss_gib']:.2f} GiB",
        flush=True,
    )
    del distiller, outputs
    gc.collect()
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--epochs", type=int, default=2, help="student epochs (and graphkd's refiner epochs)")
    parser.add_argument("--batch-size", type=int, default=4096, help="nodes per student batch")
    parser.add_argument("--features", type=int, default=None, help="node features (default: ogb_like's, 128)")
    parser.add_argument("--nodes", type=int, default=None, help="a smaller graph of arxiv's degree (smoke runs)")
    parser.add_argument("--walks-per-node", type=int, default=None, help="NOSMOG's DeepWalk (default: recipe's)")
    parser.add_argument("--walk-length", type=int, default=None, help="NOSMOG's DeepWalk (default: recipe's)")
    parser.add_argument("--krd-warmup", type=int, default=0, help="KRD warm-up epochs (recipe: 50)")
    parser.add_argument("--teacher-batches", type=int, default=20, help="VQ teacher batches timed (0: one epoch)")
    parser.add_argument("--teacher-batch-size", type=int, default=1024)
    parser.add_argument("--teacher-fanout", type=int, nargs="+", default=[15, 10], help="per hop, PyG's order")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rss-gib", type=float, default=20.0, help="stop the run past this resident memory")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    PeakMemory.limit = int(args.max_rss_gib * 2**30)

    start = time.perf_counter()
    overrides = {}
    if args.features is not None:
        overrides["num_features"] = args.features
    if args.nodes is not None:
        overrides["num_nodes"] = args.nodes
    with PeakMemory() as graph_p:
        data = random_split(ogb_like("arxiv", seed=args.seed, **overrides), seed=args.seed, train=0.54, val=0.18)
        data.num_classes = int(data.y.max()) + 1
    spec = get_recipe("glnn", "default").teacher
    torch.manual_seed(args.seed)
    teacher = build_model(spec.name, data.num_features, data.num_classes, **spec.model_kwargs()).eval()
    with PeakMemory() as out_p:
        shared = TeacherOutputs.compute(teacher, data, hidden_layers=[0], dataset="synthetic")
    rows = [run_method(m, METHODS[m], data, shared, teacher, args) for m in args.methods]
    total = time.perf_counter() - start

    threads = torch.get_num_threads()
    graph = "arxiv" if args.nodes is None else f"arxiv-degree, {args.nodes:,}-node"
    n_train = int(data.train_mask.sum())
    table = [
        f"Every distillation method in mini-batch mode on the {graph} synthetic graph ({data.num_nodes:,} nodes, "
        f"{data.edge_index.size(1):,} directed edges, {data.num_features} features, {data.num_classes} classes; "
        f"54/18/28 split, {n_train:,} training nodes), {threads} CPU thread(s), torch {torch.__version__}: "
        f"**{total / 60:.1f} min** in all. Student: node batches of {args.batch_size:,} (all nodes are targets), "
        f"{args.epochs} epoch(s), no early stopping; default recipes otherwise. Shared teacher: an untrained "
        f"{spec.num_layers}-layer SAGE, {spec.hidden_channels} hidden (cost does not depend on its weights); "
        f"synthetic graph + split {graph_p.seconds:.1f} s, its outputs (layer-wise inference, hidden layer 0 kept) "
        f"{out_p.seconds:.1f} s, computed once. *teacher side*: the method's own teacher signals or teacher; "
        "*prepare*: `fit` minus the trainer's training time; *s / epoch* includes the per-epoch evaluation of "
        "every node; *total*: the method's whole wall time (teacher side, prepare, training; for vqgraph the "
        "teacher side is one sampled teacher epoch, extrapolated when only some batches were timed, plus its "
        "outputs, while its total counts only the batches timed). Peak RSS is the whole process's (graph and "
        "shared outputs included; memory freed by an earlier method may stay with the process), *above start* "
        "the rise during the method. Methods run in `--methods` order: "
        f"{', '.join(args.methods)}. Test accuracy is "
        "meaningless here (synthetic graph, untrained teacher): it only shows the run finished.",
        "",
        "| method | teacher side (s) | prepare (s) | s / student epoch | total (s) | peak RSS (GiB) "
        "| RSS above start (GiB) | test acc (%) | notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: list(METHODS).index(r["method"])):  # registry order
        mode = "full-batch" if r["batch_size"] is None else f"batches of {r['batch_size']:,}"
        notes = "; ".join([mode, *r["notes"]])
        table.append(
            f"| {r['method']} | {r['teacher_side_s']:.1f} | {r['prepare_s']:.1f} | {r['epoch_s']:.1f} | "
            f"{r['total_s']:.1f} | {r['peak_rss_gib']:.2f} | {r['rss_above_start_gib']:.2f} | "
            f"{100 * r['test_acc']:.2f} | {notes} |"
        )
    left_out = [m for m in METHODS if m not in args.methods]
    if left_out:
        table += ["", f"Not run (--methods): {', '.join(left_out)}."]
    payload = {
        "graph": f"{graph}-like csbm",
        "num_nodes": data.num_nodes,
        "num_edges": int(data.edge_index.size(1)),
        "num_features": data.num_features,
        "num_classes": data.num_classes,
        "train_nodes": n_train,
        "teacher": repr(teacher),
        "graph_s": graph_p.seconds,
        "teacher_outputs_s": out_p.seconds,
        "teacher_outputs_peak_rss_gib": _gib(out_p.peak),
        "total_s": total,
        "methods": rows,
        "threads": threads,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "args": vars(args),
    }
    stem = "methods_minibatch_arxiv" if args.nodes is None else f"methods_minibatch_smoke{args.nodes}"
    write_result(args.out, stem, payload, table)
    return payload


if __name__ == "__main__":
    main()
