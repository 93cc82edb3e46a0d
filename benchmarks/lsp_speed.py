"""Cost of the LSP loss over every edge of a graph against the soft-label loss, side by side.

    GRAPHKD_DATA=../shared/datasets python benchmarks/lsp_speed.py --dataset cpf-a-computer

Forward + backward time of, on the same student/teacher embeddings ``[N, d]`` (random, fixed
seed; the teacher's side is fixed as in training):

* ``kd``: the soft-label loss :func:`graphkd.losses.kd_loss` (the baseline);
* ``lsp <kernel>``: :class:`graphkd.losses.LSPLoss` over all edges, as a training loop calls it
  (edges sorted and the teacher's distribution computed on the first call, then reused);
* ``lsp <kernel>, first call``: :func:`graphkd.losses.lsp_loss`, which redoes that set-up;
* ``gathered lsp (reference)``: the textbook implementation — gather both ends of every edge
  (``[E, d]``), PyG's segment softmax in log space — which graphkd's SDDMM/SpMM version replaces.

The methods are timed in turns (round-robin) and the median kept, so machine noise hits all of
them alike. Target (issue 4): LSP over Amazon-Computers' ~490k directed edges at most 3x ``kd``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
from bench_io import write_result
from torch_geometric.utils import scatter

from graphkd.datasets import load
from graphkd.losses import KERNELS, LSPLoss, edge_kernel, kd_loss, lsp_loss


def gathered_lsp(student, teacher, edge_index, kernel="rbf"):
    r"""The reference: materialise both ends of every edge, segment log-softmax with PyG's scatter."""
    src, dst = edge_index
    n = student.size(0)

    def log_softmax(x):
        x = x - scatter(x.detach(), dst, 0, dim_size=n, reduce="max")[dst]
        return x - scatter(x.exp(), dst, 0, dim_size=n, reduce="sum").log()[dst]

    log_s = log_softmax(edge_kernel(student[dst], student[src], kernel))
    with torch.no_grad():
        log_t = log_softmax(edge_kernel(teacher[dst], teacher[src], kernel))
    per_node = scatter(log_t.exp() * (log_t - log_s), dst, 0, dim_size=n, reduce="sum")
    has = torch.zeros(n, dtype=torch.bool)
    has[dst] = True
    return per_node.sum() / has.sum()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-a-computer")
    parser.add_argument("--dim", type=int, default=128, help="embedding width (GLNN's hidden size)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--kernels", default=",".join(KERNELS))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    data = load(args.dataset)
    n, e = data.num_nodes, data.edge_index.size(1)
    gen = torch.Generator().manual_seed(0)
    student = torch.randn(n, args.dim, generator=gen).requires_grad_()
    teacher = torch.randn(n, args.dim, generator=gen)
    kernels = args.kernels.split(",")

    methods = {"kd": lambda: kd_loss(student, teacher)}
    for k in kernels:
        module = LSPLoss(k)
        methods[f"lsp {k}"] = lambda m=module: m(student, teacher, data.edge_index)
    methods["lsp rbf, first call"] = lambda: lsp_loss(student, teacher, data.edge_index, "rbf")
    methods["gathered lsp rbf (reference)"] = lambda: gathered_lsp(student, teacher, data.edge_index, "rbf")

    times: dict[str, list[float]] = {name: [] for name in methods}
    for rep in range(args.repeats + 1):  # the first round warms up (and builds the caches)
        for name, fn in methods.items():
            start = time.perf_counter()
            fn().backward()
            elapsed = time.perf_counter() - start
            student.grad = None
            if rep:
                times[name].append(elapsed)
    median = {name: statistics.median(ts) for name, ts in times.items()}
    base = median["kd"]
    rows = [
        {"method": name, "median_ms": 1e3 * t, "ratio_to_kd": t / base, "runs_ms": [1e3 * x for x in times[name]]}
        for name, t in median.items()
    ]
    payload = {
        "dataset": args.dataset,
        "num_nodes": n,
        "num_edges": e,
        "dim": args.dim,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }
    table = [
        f"LSP vs soft-label loss, forward + backward, {args.dataset} ({n} nodes, {e} directed edges), "
        f"embeddings [{n}, {args.dim}], median of {args.repeats} round-robin runs, {torch.get_num_threads()} threads.",
        "",
        "| loss | median (ms) | × kd |",
        "|---|---|---|",
    ]
    table += [f"| {r['method']} | {r['median_ms']:.1f} | {r['ratio_to_kd']:.2f} |" for r in rows]
    write_result(args.out, f"lsp_speed_{args.dataset}", payload, table)
    return payload


if __name__ == "__main__":
    main()
