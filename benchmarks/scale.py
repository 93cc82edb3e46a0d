"""OGB-scale runs on synthetic graphs of OGB's sizes: teacher outputs by layer-wise inference,
and a whole mini-batch distillation run.

    python benchmarks/scale.py inference --graph products   # 2.45 M nodes, ~124 M directed edges
    python benchmarks/scale.py end2end --graph arxiv         # sampled teacher -> outputs -> MLP student

``inference``: a 3-layer GraphSAGE (256 hidden; weights untrained — the cost does not depend on
them) computes the logits and hidden layers of every node one layer at a time over chunks of
nodes (:meth:`graphkd.nn.Model.inference`), then the outputs are written as memory-mapped arrays
(:meth:`graphkd.distill.TeacherOutputs.save_mmap`). Reported: wall time of each phase and the
process's peak resident memory during each (sampled every 5 ms). Target (issue 5): peak under 16 GiB.

``end2end``: a random 54/18/28 split (ogbn-arxiv's proportions), a 3-layer SAGE teacher
(256 hidden) trained on neighbour-sampled batches (fan-outs 15, 10, 5; batch 1,024), its outputs
by layer-wise inference, and a GLNN MLP student (3 x 256) distilled in node batches of 4,096.
Target (issue 5): under 30 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch
from bench_io import PeakMemory, write_result

from graphkd.datasets import ogb_like, random_split
from graphkd.distill import GLNN, TeacherOutputs
from graphkd.eval import evaluate
from graphkd.nn import MLP, GraphSAGE
from graphkd.train import Trainer


def _gib(b: int) -> float:
    return b / 2**30


def inference(args) -> tuple[dict, list[str]]:
    phases = []
    with PeakMemory() as p:
        data = ogb_like(args.graph, num_features=args.features)
    phases.append(("synthetic graph", p))
    model = GraphSAGE(data.num_features, 256, int(data.y.max()) + 1, num_layers=3).eval()
    with PeakMemory() as p:
        outputs = TeacherOutputs.compute(model, data, hidden_layers=[0, 1], batch_size=args.chunk, dataset="synthetic")
    phases.append(("teacher outputs (layer-wise inference)", p))
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp, PeakMemory() as p:
        folder = outputs.save_mmap(Path(tmp) / "outputs")
        size = sum(f.stat().st_size for f in folder.iterdir())
    phases.append(("write memory-mapped outputs", p))
    payload = {
        "graph": f"{args.graph}-like csbm",
        "num_nodes": data.num_nodes,
        "num_edges": int(data.edge_index.size(1)),
        "num_features": data.num_features,
        "model": repr(model),
        "chunk": args.chunk,
        "outputs_bytes": size,
        "phases": [{"phase": n, "seconds": p.seconds, "peak_rss_gib": _gib(p.peak)} for n, p in phases],
    }
    table = [
        f"Teacher outputs on the {args.graph}-sized synthetic graph ({data.num_nodes:,} nodes, "
        f"{data.edge_index.size(1):,} directed edges, {data.num_features} features): 3-layer SAGE, 256 hidden, "
        f"layer-wise inference in chunks of {args.chunk:,} nodes; logits and both hidden layers kept "
        f"({size / 2**30:.2f} GiB written). {torch.get_num_threads()} CPU threads.",
        "",
        "| phase | wall time (s) | peak RSS of the process (GiB) |",
        "|---|---|---|",
    ]
    table += [f"| {n} | {p.seconds:.1f} | {_gib(p.peak):.2f} |" for n, p in phases]
    return payload, table


def end2end(args) -> tuple[dict, list[str]]:
    phases = []
    start = time.perf_counter()
    with PeakMemory() as p:
        data = random_split(ogb_like(args.graph), seed=0, train=0.54, val=0.18)
    phases.append(("synthetic graph + split", p, None))
    torch.manual_seed(0)
    teacher = GraphSAGE(data.num_features, 256, int(data.y.max()) + 1, num_layers=3, dropout=0.5)
    trainer = Trainer(
        epochs=args.teacher_epochs,
        lr=0.003,
        weight_decay=0.0,
        patience=None,
        batch_size=1024,
        num_neighbors=[15, 10, 5],
        progress=False,
    )
    with PeakMemory() as p:
        hist = trainer.fit(teacher, data, seed=0)
    phases.append((f"teacher: {args.teacher_epochs} sampled epochs", p, hist.best.test_acc))
    with PeakMemory() as p:
        outputs = TeacherOutputs.compute(teacher, data, dataset="synthetic")
    phases.append(("teacher outputs (layer-wise inference)", p, None))
    student = MLP(data.num_features, 256, int(data.y.max()) + 1, num_layers=3, dropout=0.2)
    st = Trainer(epochs=args.student_epochs, lr=0.003, weight_decay=0.0, patience=None, batch_size=4096, progress=False)
    with PeakMemory() as p:
        glnn = GLNN(student, trainer=st).fit(data, outputs, seed=0)
    phases.append((f"GLNN student: {args.student_epochs} epochs of node batches", p, glnn.history_.best.test_acc))
    total = time.perf_counter() - start
    mlp_acc = evaluate(student, data)["test"]
    payload = {
        "graph": f"{args.graph}-like csbm",
        "num_nodes": data.num_nodes,
        "num_edges": int(data.edge_index.size(1)),
        "total_s": total,
        "student_test_acc": mlp_acc,
        "phases": [
            {"phase": n, "seconds": p.seconds, "peak_rss_gib": _gib(p.peak), "test_acc": acc} for n, p, acc in phases
        ],
    }
    table = [
        f"End-to-end mini-batch distillation on the {args.graph}-sized synthetic graph ({data.num_nodes:,} nodes, "
        f"{data.edge_index.size(1):,} directed edges), {torch.get_num_threads()} CPU threads: **{total / 60:.1f} min** "
        "in all. (Accuracy on a synthetic graph says nothing about OGB.)",
        "",
        "| phase | wall time (s) | peak RSS of the process (GiB) | test acc (%) |",
        "|---|---|---|---|",
    ]
    for n, p, acc in phases:
        table.append(f"| {n} | {p.seconds:.1f} | {_gib(p.peak):.2f} | {'' if acc is None else f'{100 * acc:.2f}'} |")
    return payload, table


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["inference", "end2end"])
    parser.add_argument("--graph", default=None, choices=["arxiv", "products"])
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=65536, help="target nodes per inference chunk")
    parser.add_argument("--teacher-epochs", type=int, default=3)
    parser.add_argument("--student-epochs", type=int, default=20)
    parser.add_argument("--tmp", default=None, help="folder for the memory-mapped outputs (default: the system's)")
    parser.add_argument("--max-rss-gib", type=float, default=20.0, help="stop the run past this resident memory")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    PeakMemory.limit = int(args.max_rss_gib * 2**30)
    args.graph = args.graph or ("products" if args.mode == "inference" else "arxiv")
    payload, table = inference(args) if args.mode == "inference" else end2end(args)
    payload.update(
        {
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "machine": platform.machine(),
            "args": vars(args),
        }
    )
    write_result(args.out, f"scale_{args.mode}_{args.graph}", payload, table)
    return payload


if __name__ == "__main__":
    main()
