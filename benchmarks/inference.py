"""Inference latency and throughput: teacher GNNs against MLP students, side by side in one run.

    python benchmarks/inference.py                     # arxiv-sized graph, 2 threads, CPU
    python benchmarks/inference.py --device cuda

On an ogbn-arxiv-sized csbm graph (169,343 nodes, ~2.3 M directed edges, 128 features, 40
classes) with untrained weights (the cost does not depend on them): GraphSAGE teachers of 1, 2
and 3 layers (256 hidden, batch norm, GLNN's ogbn-arxiv teacher) and MLP students (3 x 256,
GLNN's small student; 3 x 1024, its wide one; and their exported files, TorchScript and ONNX
with batch norm folded, as served by ``graphkd.deploy.load_student``). Requests of 1, 10 and 1,024 random
nodes and all nodes (``graphkd.deploy.latency``): a GNN fetches its neighbourhood (every node
within L hops from graphkd's CSR index, the same from PyG's ``k_hop_subgraph``, or 15/10/5
sampled neighbours) and gathers the features; an MLP gathers the feature rows only. Models take
turns request by request. The all-nodes MLP throughput is compared with the machine's fp32
matrix-multiply rate measured in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from bench_io import write_result

from graphkd.datasets import ogb_like
from graphkd.deploy import export_student, load_student
from graphkd.deploy.latency import (
    LatencyProtocol,
    Predictor,
    gnn_predictor,
    hardware,
    matmul_rate,
    measure_latency,
    mlp_flops,
    mlp_predictor,
)
from graphkd.nn import build_model
from graphkd.recipes import get_recipe


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="arxiv", choices=["arxiv", "products"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    data = ogb_like(args.graph).to(device)
    data.num_classes = int(data.y.max()) + 1
    recipe = get_recipe("glnn", f"ogbn-{args.graph}")
    torch.manual_seed(0)
    predictors: list[Predictor] = []
    for layers in (1, 2, 3):
        kwargs = {**recipe.teacher.model_kwargs(), "num_layers": layers}
        sage = build_model("sage", data.num_features, data.num_classes, **kwargs).to(device).eval()
        fetches = [("full", None), ("pyg", None)] + ([("sampled", [15, 10, 5])] if layers == 3 else [])
        for fetch, fanouts in fetches:
            predictors.append(gnn_predictor(sage, data, f"SAGE-{layers} ({fetch})", fetch, fanouts))
    students = {}
    for width in (256, 1024):
        kwargs = {**recipe.student.model_kwargs(), "hidden_channels": width, "num_layers": 3}
        students[width] = build_model("mlp", data.num_features, data.num_classes, **kwargs).to(device).eval()
        predictors.append(mlp_predictor(students[width], data.x, f"MLP 3x{width}"))
    with tempfile.TemporaryDirectory() as tmp:
        if device.type == "cpu":  # the deployed files, served by graphkd.deploy.load_student
            x_np = data.x.cpu().numpy()
            exports = [(1024, "student.pt", "torchscript", "TorchScript")]
            exports += [(w, f"student-{w}.onnx", "onnx", "ONNX Runtime") for w in (256, 1024)]
            for width, name, fmt, runtime in exports:
                path = Path(tmp) / name
                export_student(students[width], path, data.x[:64].cpu(), format=fmt)
                served = load_student(path, threads=args.threads)

                def run_served(ids, served=served):
                    return served.logits(x_np if ids is None else x_np[ids.numpy()])

                flops = mlp_flops(students[width])
                predictors.append(Predictor(f"MLP 3x{width}, {runtime} export", run_served, "feature rows", flops))
        protocol = LatencyProtocol(repeats=args.repeats, all_repeats=3, threads=args.threads, device=args.device)
        backends = ["torch", "onnxruntime"] if device.type == "cpu" else ["torch"]
        gemm = {b: [matmul_rate(args.device, threads=args.threads, backend=b)] for b in backends}
        results = measure_latency(predictors, data.num_nodes, protocol)
        for b in backends:
            gemm[b].append(matmul_rate(args.device, threads=args.threads, backend=b))

    rows = [r.to_dict() for r in results]
    by = {(r.model, r.batch): r for r in results}
    base = {fetch: by[(f"SAGE-3 ({fetch})", "10")].median_ms for fetch in ("full", "pyg")}
    for row in rows:
        row.pop("times_ms")
        row["speedup_vs_sage3_full_at_10"] = base["full"] / by[(row["model"], "10")].median_ms
        row["speedup_vs_sage3_pyg_at_10"] = base["pyg"] / by[(row["model"], "10")].median_ms
    torch_rate = max(gemm["torch"])
    gemm_rate = max(max(v) for v in gemm.values())  # the machine's best fp32 matrix-multiply rate
    for row in rows:
        if row["gflops"]:
            row["fraction_of_best_matmul"] = row["gflops"] / gemm_rate
            row["fraction_of_torch_matmul"] = row["gflops"] / torch_rate
    payload = {
        "graph": f"{args.graph}-like csbm",
        "num_nodes": data.num_nodes,
        "num_edges": int(data.edge_index.size(1)),
        "num_features": data.num_features,
        "protocol": vars(protocol) | {"batch_sizes": [b if b is not None else "all" for b in protocol.batch_sizes]},
        "hardware": hardware(args.device),
        "matmul_gflops": {b: {"before": v[0], "after": v[1]} for b, v in gemm.items()},
        "results": rows,
    }
    table = [
        f"Inference on an ogbn-{args.graph}-sized csbm graph ({data.num_nodes:,} nodes, "
        f"{data.edge_index.size(1):,} directed edges, {data.num_features} features), {args.device}, "
        f"{args.threads} threads ({payload['hardware']['cpu']}); median of {args.repeats} requests of random nodes "
        f"(all nodes: 3), models taking turns. Speed-up: against the 3-layer SAGE at 10 nodes. "
        f"fp32 matrix-multiply rate (2048 x 2048) in the same run: torch {torch_rate:.1f} GFLOP/s"
        + (f", ONNX Runtime {max(gemm['onnxruntime']):.1f} GFLOP/s" if "onnxruntime" in gemm else "")
        + f"; MLP rates in % of the best ({gemm_rate:.1f}) and of torch's.",
        "",
        "| model | counted per request | nodes | median (ms) | p95 (ms) | nodes/s | speed-up vs SAGE-3 full | "
        "vs SAGE-3 PyG | GFLOP/s (% of best matmul / of torch's) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        speed = ""
        if r.batch == "10":
            speed = f"{base['full'] / r.median_ms:.1f}x | {base['pyg'] / r.median_ms:.1f}x"
        else:
            speed = " | "
        flops = ""
        if r.gflops:
            flops = f"{r.gflops:.1f} ({100 * r.gflops / gemm_rate:.0f}% / {100 * r.gflops / torch_rate:.0f}%)"
        table.append(
            f"| {r.model} | {r.counted} | {r.batch} | {r.median_ms:.3f} | {r.p95_ms:.3f} | {r.nodes_per_s:,.0f} | "
            f"{speed} | {flops} |"
        )
    write_result(args.out, f"inference_{args.graph}_{args.device}", payload, table)
    return payload


if __name__ == "__main__":
    main()
