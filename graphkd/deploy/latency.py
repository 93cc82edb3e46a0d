"""The latency harness: teacher GNNs and MLP students timed side by side under one stated
protocol (batch sizes, threads, device, warm-up, repetitions, synchronisation, and what each
model must fetch per batch)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

__all__ = [
    "FETCHES",
    "LatencyProtocol",
    "LatencyResult",
    "Predictor",
    "gnn_predictor",
    "hardware",
    "matmul_rate",
    "measure_latency",
    "mlp_flops",
    "mlp_predictor",
]

# How a GNN gets the neighbourhood of a batch of nodes: every node within L hops from graphkd's
# CSR index, the same with PyG's k_hop_subgraph (a pass over all edges per hop), or a sample.
FETCHES = ("full", "pyg", "sampled")


@dataclass(frozen=True)
class LatencyProtocol:
    r"""How latency is measured.

    Args:
        batch_sizes (tuple): nodes per request; ``None`` stands for all nodes at once
            (default: ``(1, 10, 1024, None)``).
        warmup (int): untimed calls per model and batch size first (default: :obj:`3`).
        repeats (int): timed calls per model and batch size, each on freshly drawn random nodes;
            models take turns call by call, so drifts of a shared machine hit all alike
            (default: :obj:`30`).
        all_repeats (int): timed calls for the all-nodes size (default: :obj:`5`).
        threads (int, optional): intra-op threads for the measurement (default: torch's current).
        device (str): where models run (default: ``"cpu"``); on CUDA every call is synchronised
            before the clock stops.
        seed (int): draws the random nodes (default: :obj:`0`).
    """

    batch_sizes: tuple[int | None, ...] = (1, 10, 1024, None)
    warmup: int = 3
    repeats: int = 30
    all_repeats: int = 5
    threads: int | None = None
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        for b in self.batch_sizes:
            if b is not None and (not isinstance(b, int) or b < 1):
                raise ValueError(f"batch sizes must be positive integers or None (all nodes), got {b!r}")
        if self.repeats < 1 or self.all_repeats < 1 or self.warmup < 0:
            raise ValueError(f"need repeats >= 1 and warmup >= 0, got {self.repeats}, {self.warmup}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")


@dataclass
class Predictor:
    r"""A model ready to answer requests: ``run(ids)`` returns the logits of nodes ``ids``
    (``None``: every node), doing everything a deployment would per request (``counted``).

    Args:
        name (str): how the model appears in tables.
        run (callable): ``ids -> logits``.
        counted (str): what a request includes besides the forward pass.
        flops_per_node (float, optional): multiply-adds x 2 per node (MLPs), for the fraction of
            the machine's matrix-multiply rate.
    """

    name: str
    run: Callable[[Tensor | None], Tensor]
    counted: str
    flops_per_node: float | None = None


@dataclass
class LatencyResult:
    r"""One model at one batch size: median and 95th-percentile latency of a request, and
    throughput (nodes per second at the median)."""

    model: str
    batch: str
    counted: str
    median_ms: float
    p95_ms: float
    nodes_per_s: float
    repeats: int
    gflops: float | None = None
    times_ms: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mlp_flops(model: nn.Module) -> float:
    r"""Floating-point operations per node of an MLP's forward pass: 2 x the multiply-adds of its
    linear layers (biases, norms and activations are left out)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no linear layer")
    return float(sum(2 * m.in_features * m.out_features for m in linears))


def mlp_predictor(model: nn.Module, x: Tensor, name: str = "MLP", chunk: int = 4096) -> Predictor:
    r"""An MLP student answering from features alone: a request gathers the feature rows of its
    nodes and runs the forward pass (all nodes: in chunks of ``chunk`` rows, small enough for a
    chunk's activations to stay in cache: 4,096 rows ran at 82-95% of the matrix-multiply rate
    on 2 CPU cores where 65,536 ran at 40-70%)."""
    model.eval()
    flops = mlp_flops(model)

    def run(ids: Tensor | None) -> Tensor:
        if ids is None:
            return torch.cat([model(c) for c in x.split(chunk)])
        return model(x.index_select(0, ids))

    return Predictor(name, run, "feature rows", flops)


def gnn_predictor(
    model: nn.Module,
    data: Data,
    name: str = "GNN",
    fetch: str = "full",
    fanouts: Sequence[int] | None = None,
    chunk: int = 65536,
) -> Predictor:
    r"""A GNN answering requests from the graph: a request fetches the neighbourhood its layers
    read, gathers those nodes' features and runs the forward pass; only the requested nodes'
    logits are returned. All nodes: layer-wise full-graph inference.

    With ``fetch="full"`` or ``"pyg"`` the answers equal the full-graph forward pass for
    GraphSAGE, GAT and GIN (tested). GCN's normalisation reads the degrees of the outermost
    fetched nodes, which an L-hop subgraph truncates, and APPNP propagates beyond its layers, so
    for those the fetch (and the time) is that of ``num_layers`` hops but the answers are only
    approximately the full-graph ones.

    Args:
        model (nn.Module): a :class:`graphkd.nn.Model` GNN with ``num_layers`` layers.
        data (Data): the graph (``x``, ``edge_index``) on the device to measure.
        fetch (str): ``"full"`` (every node within ``num_layers`` hops, from graphkd's CSR
            index, layers trimmed to what reaches the requested nodes), ``"pyg"`` (the same
            nodes from PyG's ``k_hop_subgraph``, one pass over all edges per hop) or
            ``"sampled"`` (``fanouts`` neighbours per hop, as the teacher was trained).
        fanouts (Sequence[int], optional): for ``"sampled"``, per hop from the requested nodes.
    """
    from torch_geometric.utils import k_hop_subgraph

    from ..sampling import NeighborSampler

    if fetch not in FETCHES:
        raise ValueError(f"Unknown fetch {fetch!r}; valid choices: {', '.join(FETCHES)}")
    hops = int(model.num_layers)
    model.eval()
    x, edge_index, n = data.x, data.edge_index, data.num_nodes
    if fetch == "sampled":
        if fanouts is None or len(fanouts) != hops:
            raise ValueError(f"fetch='sampled' needs {hops} fan-outs (one per layer), got {fanouts}")
        counted = f"sampled {hops}-hop neighbourhood ({','.join(map(str, fanouts))}) + feature rows"
    else:
        counted = f"full {hops}-hop neighbourhood ({'PyG k_hop_subgraph' if fetch == 'pyg' else 'CSR'}) + feature rows"
    sampler = (
        NeighborSampler(data, list(fanouts) if fetch == "sampled" else [-1] * hops, seed=0) if fetch != "pyg" else None
    )

    def run(ids: Tensor | None) -> Tensor:
        if ids is None:
            return model.inference(x, edge_index, batch_size=chunk)
        if sampler is None:
            subset, sub_edges, mapping, _ = k_hop_subgraph(ids, hops, edge_index, relabel_nodes=True, num_nodes=n)
            return model(x.index_select(0, subset), sub_edges)[mapping]
        out = sampler.sample(ids)
        sub_edges = torch.stack([out.row, out.col])
        logits = model(
            x.index_select(0, out.node),
            sub_edges,
            num_sampled_nodes=out.num_sampled_nodes,
            num_sampled_edges=out.num_sampled_edges,
        )
        return logits[: ids.numel()]

    return Predictor(name, run, counted)


@torch.inference_mode()
def measure_latency(predictors: Sequence[Predictor], num_nodes: int, protocol: LatencyProtocol) -> list[LatencyResult]:
    r"""Times every predictor at every batch size of ``protocol``: the same random nodes for
    all models, models taking turns request by request. Returns one result per model and batch
    size."""
    device = torch.device(protocol.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    threads = torch.get_num_threads()
    if protocol.threads is not None:
        torch.set_num_threads(protocol.threads)
    gen = torch.Generator().manual_seed(protocol.seed)
    results = []
    try:
        for batch in protocol.batch_sizes:
            size = num_nodes if batch is None else batch
            if size > num_nodes:
                raise ValueError(f"batch of {size} nodes on a graph of {num_nodes}")
            repeats = protocol.all_repeats if batch is None else protocol.repeats
            draws = [
                None if batch is None else torch.randperm(num_nodes, generator=gen)[:size].to(device)
                for _ in range(protocol.warmup + repeats)
            ]
            times: dict[str, list[float]] = {p.name: [] for p in predictors}
            for i, ids in enumerate(draws):
                for p in predictors:
                    sync()
                    start = time.perf_counter()
                    p.run(ids)
                    sync()
                    if i >= protocol.warmup:
                        times[p.name].append(time.perf_counter() - start)
            for p in predictors:
                t = sorted(times[p.name])
                median = statistics.median(t)
                p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]
                rate = size / median
                results.append(
                    LatencyResult(
                        p.name,
                        "all" if batch is None else str(batch),
                        p.counted,
                        1e3 * median,
                        1e3 * p95,
                        rate,
                        repeats,
                        p.flops_per_node * rate / 1e9 if p.flops_per_node else None,
                        [1e3 * v for v in times[p.name]],
                    )
                )
    finally:
        torch.set_num_threads(threads)
    return results


@torch.inference_mode()
def matmul_rate(
    device: str = "cpu", size: int = 2048, repeats: int = 10, threads: int | None = None, backend: str = "torch"
) -> float:
    r"""The machine's fp32 matrix-multiply rate in GFLOP/s: the median of ``repeats`` products of
    two ``size x size`` matrices (``2 size^3`` operations each), after a warm-up, with
    ``threads`` intra-op threads, through ``backend``: ``"torch"`` (its BLAS; on AMD processors
    torch's MKL may not take the fastest path) or ``"onnxruntime"`` (its own MLAS kernels, CPU
    only). The rate an MLP can approach is that of the runtime that serves it."""
    if backend not in ("torch", "onnxruntime"):
        raise ValueError(f"Unknown backend {backend!r}; valid choices: onnxruntime, torch")
    if backend == "onnxruntime":
        return _ort_matmul_rate(size, repeats, threads)
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    old = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        a, b = torch.randn(size, size, device=dev), torch.randn(size, size, device=dev)
        out = torch.empty(size, size, device=dev)
        for _ in range(2):
            torch.mm(a, b, out=out)
        times = []
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            torch.mm(a, b, out=out)
            sync()
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(old)
    return 2 * size**3 / statistics.median(times) / 1e9


def _ort_matmul_rate(size: int, repeats: int, threads: int | None) -> float:
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    b = rng.standard_normal((size, size), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "matmul",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [size, size])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [size, size])],
        [numpy_helper.from_array(b, "b")],
    )
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    # IR version 8 is opset 17's: helper.make_model would write the installed onnx's newest IR
    # version, which an older onnxruntime refuses ("Unsupported model IR version")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    a = rng.standard_normal((size, size), dtype=np.float32)
    for _ in range(2):
        session.run(None, {"a": a})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"a": a})
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


def hardware(device: str = "cpu") -> dict[str, Any]:
    r"""What the numbers were measured on: processor, cores, torch's threads, device, versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    out = {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device,
    }
    if torch.device(device).type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return out
