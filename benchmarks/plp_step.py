"""PLP's sparse products (graphkd.nn.sparse.sparse_matmul) against the ways they replace, and a whole training step.

    GRAPHKD_DATA=../shared/datasets python benchmarks/plp_step.py --dataset cpf-a-computer

Forward + backward time, on the dataset's graph and features, of the two products a training
step of CPF's PLP student makes :math:`K` times:

* **propagation**: :math:`\\mathbf{W}\\mathbf{h}`, the edge weights (with gradient) times the
  ``[N, C]`` label distribution (with gradient), edges with self-loops;
  ``gather + index_add_`` (graphkd's PLP before: ``h.index_select(src)``, scale, ``index_add_``
  over targets), ``torch CSR`` (``torch.sparse_csr_tensor(...) @ h`` with autograd) and
  ``sparse_matmul``;
* **features**: dropped-out features (no gradient) times the FT layer's ``[F, hidden]`` weight
  and the confidence's ``[F, 1]`` vector (with gradient); ``dense scatter`` (the non-zeros
  scattered into a dense matrix, then ``mm``: PLP's path for features above 10% non-zeros, as
  the Amazon datasets), ``torch CSR`` and ``sparse_matmul`` (PLP's path at most 10%, as Cora);

and a whole training step of the dataset's CPF recipe PLP (forward, the CPF loss, backward,
Adam). The methods are timed in turns (round-robin) and the median kept. Each row's ratio is
against the first way in it. A whole step before the change (gather + ``index_add_``
propagation, ``F.dropout``'s Bernoulli draws, autograd's CSR backward on sparse features, the
non-zeros found again at every step) against after, on 2 threads, the same script at both
commits: cpf-cora 74 → 31 ms, cpf-a-photo 0.49 → 0.36 s, cpf-a-computer 1.71 → 1.27 s.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from bench_io import write_result

from graphkd.datasets import load
from graphkd.nn.plp import PLP, plp_inputs
from graphkd.nn.sparse import CSRLayout, sparse_matmul
from graphkd.recipes import get_recipe


def round_robin(fns: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    r"""Median milliseconds of each function, called in turns after one warm-up call each."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def torch_csr(layout: CSRLayout, values: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(layout.crow, layout.col, values, layout.shape)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cpf-a-computer")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = load(args.dataset, seed=0)
    n, c = data.num_nodes, int(data.y.max()) + 1
    spec = get_recipe("cpf", args.dataset).student
    plp = PLP(
        data.num_features,
        spec.hidden_channels,
        c,
        n,
        num_layers=spec.num_layers,
        dropout=spec.dropout,
        attention_dropout=spec.options.get("attention_dropout", 0.2),
    )

    # propagation: the prepared graph (deduplicated, one self-loop per node), rows = targets
    adjacency = plp.adjacency(data.edge_index, n)
    src, dst = adjacency.col, adjacency.row
    w = torch.rand(src.numel(), requires_grad=True)
    h = torch.rand(n, c, requires_grad=True)

    def backward(out: torch.Tensor) -> None:
        out.sum().backward()
        w.grad = h.grad = None

    propagation = round_robin(
        {
            "gather + index_add_": lambda: backward(
                h.new_zeros(n, c).index_add_(0, dst, w.view(-1, 1) * h.index_select(0, src))
            ),
            "torch CSR": lambda: backward(torch_csr(adjacency, w) @ h),
            "sparse_matmul": lambda: backward(sparse_matmul(w, adjacency, h)),
        },
        args.repeats,
    )

    # features: the non-zeros, dropped out as in training (values without gradient)
    features = data.x.float()
    nz = plp.train().nonzeros(features)
    if nz is None:
        parser.error(f"{args.dataset}'s features are too dense for PLP's non-zero dropout")
    kept = nz.scaled * torch.rand_like(nz.scaled).ge_(plp.dropout)
    products = {}
    for name, width in (
        (f"features x FT weight [F, {spec.hidden_channels}]", spec.hidden_channels),
        ("features x confidence vector", 1),
    ):
        weight = torch.randn(data.num_features, width, requires_grad=True)

        def step(out: torch.Tensor, weight: torch.Tensor = weight) -> None:
            out.sum().backward()
            weight.grad = None

        products[name] = round_robin(
            {
                "dense scatter": lambda weight=weight, step=step: step(
                    features.new_zeros(features.numel()).index_put_((nz.flat,), kept).view(features.shape) @ weight
                ),
                "torch CSR": lambda weight=weight, step=step: step(torch_csr(nz.layout, kept) @ weight),
                "sparse_matmul": lambda weight=weight, step=step: step(sparse_matmul(kept, nz.layout, weight)),
            },
            args.repeats,
        )

    # a whole training step of the recipe's PLP (the CPF loss: Frobenius norm to the teacher)
    train = data.train_mask.nonzero().flatten()
    x = plp_inputs(features, c, train, data.y[train], torch.arange(n))
    target = torch.softmax(torch.randn(n, c), dim=-1)
    optimizer = torch.optim.Adam(plp.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)

    def training_step() -> None:
        optimizer.zero_grad()
        loss = (torch.softmax(plp(x, data.edge_index), dim=-1) - target).norm()
        loss.backward()
        optimizer.step()

    whole = round_robin({"PLP training step": training_step}, max(3, args.repeats // 2))

    table = [
        f"# PLP's sparse products, {args.dataset} ({n} nodes, {src.numel()} edges with self-loops, "
        f"{nz.values.numel()} feature non-zeros = {nz.values.numel() / features.numel():.0%}), "
        f"{args.threads} threads",
        "",
        f"Forward + backward, median ms of {args.repeats} round-robin repeats; ratio: time / the row's first way.",
        "",
        "| product | way | ms | ratio |",
        "|---|---|---|---|",
    ]
    rows = [("propagation (edge weights x [N, C])", propagation)] + list(products.items())
    for label, timing in rows:
        base = next(iter(timing.values()))
        for way, ms in timing.items():
            table.append(f"| {label} | {way} | {ms:.1f} | {ms / base:.2f} |")
    k = spec.num_layers
    table += [
        "",
        f"A whole training step of the recipe's PLP (K = {k}, forward, loss, backward, Adam): "
        f"{whole['PLP training step']:.0f} ms.",
    ]
    payload = {
        "dataset": args.dataset,
        "threads": args.threads,
        "repeats": args.repeats,
        "num_nodes": n,
        "num_edges_with_self_loops": src.numel(),
        "feature_nonzeros": nz.values.numel(),
        "plp": repr(plp),
        "propagation_ms": propagation,
        "products_ms": products,
        "training_step_ms": whole["PLP training step"],
        "environment": {"torch": torch.__version__, "platform": platform.platform()},
    }
    write_result(args.out, f"plp_step_{args.dataset}", payload, table)
    return payload


if __name__ == "__main__":
    main()
