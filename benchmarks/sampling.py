"""Neighbour-sampling throughput: graphkd's sampler against PyG's NeighborLoader, in one run.

    python benchmarks/sampling.py                       # arxiv-sized synthetic graph, CPU
    python benchmarks/sampling.py --device cuda         # graphkd's sampler on the GPU as well

Both backends sample the same seed batches (a fixed random order of all nodes) with fan-outs
[15, 10, 5] and batch 1,024, through the loaders users call (:func:`graphkd.sampling.neighbor_loader`,
i.e. PyG's ``NodeLoader`` around graphkd's sampler, and PyG's ``NeighborLoader`` with torch-sparse),
so the figures include relabelling and the gathering of features and labels. The backends take
turns batch by batch (round-robin) so machine noise hits both alike. Reported: batches/s and
sampled nodes/s (the sum of ``n_id`` sizes per second), and the ratio to PyG's sampler.
Target (issue 5): graphkd >= 1.5x PyG + torch-sparse in sampled nodes/s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch
from bench_io import write_result

from graphkd.datasets import ogb_like
from graphkd.sampling import neighbor_loader, pyg_sampler_available


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="arxiv", choices=["arxiv", "products"])
    parser.add_argument("--fanouts", default="15,10,5")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--batches", type=int, default=30, help="timed batches per backend")
    parser.add_argument("--device", default="cpu", help="also time graphkd's sampler on this device (e.g. cuda)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    fanouts = [int(f) for f in args.fanouts.split(",")]
    start = time.perf_counter()
    data = ogb_like(args.graph)
    build_s = time.perf_counter() - start
    order = torch.randperm(data.num_nodes, generator=torch.Generator().manual_seed(0))
    seeds = order[: args.batch_size * (args.batches + 1)]  # one warm-up batch each

    loaders = {"graphkd (cpu)": neighbor_loader(data, fanouts, seeds, args.batch_size, backend="graphkd", seed=0)}
    if args.device != "cpu":
        on_dev = data.clone().to(args.device)
        loaders[f"graphkd ({args.device})"] = neighbor_loader(
            on_dev, fanouts, seeds.to(args.device), args.batch_size, backend="graphkd", seed=0
        )
    if pyg_sampler_available():
        loaders["pyg + torch-sparse (cpu)"] = neighbor_loader(data, fanouts, seeds, args.batch_size, backend="pyg")
    iters = {name: iter(loader) for name, loader in loaders.items()}
    times = {name: 0.0 for name in loaders}
    nodes = {name: 0 for name in loaders}
    for step in range(args.batches + 1):
        for name, it in iters.items():
            sync = torch.cuda.synchronize if "cuda" in name else (lambda: None)
            sync()
            t0 = time.perf_counter()
            batch = next(it)
            sync()
            elapsed = time.perf_counter() - t0
            if step:  # the first batch warms up
                times[name] += elapsed
                nodes[name] += int(batch.n_id.numel())
    base = "pyg + torch-sparse (cpu)" if "pyg + torch-sparse (cpu)" in times else None
    rows = []
    for name in loaders:
        rate = nodes[name] / times[name]
        rows.append(
            {
                "sampler": name,
                "batches_per_s": args.batches / times[name],
                "sampled_nodes_per_s": rate,
                "nodes_per_batch": nodes[name] / args.batches,
                "ratio_to_pyg": rate / (nodes[base] / times[base]) if base else None,
            }
        )
    payload = {
        "graph": f"{args.graph}-like csbm",
        "num_nodes": data.num_nodes,
        "num_edges": int(data.edge_index.size(1)),
        "graph_build_s": build_s,
        "fanouts": fanouts,
        "batch_size": args.batch_size,
        "batches": args.batches,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "rows": rows,
    }
    table = [
        f"Neighbour sampling on the {args.graph}-sized synthetic graph ({data.num_nodes:,} nodes, "
        f"{data.edge_index.size(1):,} directed edges), fan-outs {fanouts}, batch {args.batch_size}, "
        f"{args.batches} batches per sampler taken in turns, {torch.get_num_threads()} CPU threads.",
        "",
        "| sampler | batches/s | sampled nodes/s | nodes/batch | × PyG |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio_to_pyg']:.2f}" if r["ratio_to_pyg"] is not None else "-"
        table.append(
            f"| {r['sampler']} | {r['batches_per_s']:.2f} | {r['sampled_nodes_per_s']:,.0f} | "
            f"{r['nodes_per_batch']:,.0f} | {ratio} |"
        )
    write_result(args.out, f"sampling_{args.graph}", payload, table)
    return payload


if __name__ == "__main__":
    main()
