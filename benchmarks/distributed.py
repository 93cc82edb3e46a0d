"""1 vs 2 processes (torch.distributed, gloo, CPU) on the arxiv-sized synthetic graph: sharded
teacher inference, data-parallel teacher training with neighbour sampling, and data-parallel
GLNN distillation from the memory-mapped teacher outputs.

    python benchmarks/distributed.py                 # the configurations below, one after another
    python benchmarks/distributed.py --nodes 5000    # smoke run on a small graph
    python benchmarks/distributed.py --gpu           # one process on one GPU (NCCL), for per-node GPU costs

Each configuration is one ``torchrun --standalone --nproc_per_node=P`` job of this script
(``--worker``) with ``T`` torch threads per process: ``1x1`` (the one-core baseline), ``1x2``
(one process using both cores) and ``2x1`` (two processes, one core each). What is timed, on
every process after a barrier, the slowest process counted:

* **teacher inference**: :func:`graphkd.distributed.sharded_teacher_outputs` of a 2-layer
  GraphSAGE (128 hidden, untrained: cost does not depend on the weights) over every node,
  written into one memory-mapped folder (the second of two runs: the first warms up);
* **teacher epoch**: the second of two data-parallel epochs of that SAGE with neighbour sampling (fan-out
  ``--fanout``, global batch ``--teacher-batch-size``) over the training nodes: the steps only
  (``EpochRecord.step_time_s``; the per-epoch full-graph evaluation that follows is not sharded
  for GNNs and is reported apart);
* **student epoch**: GLNN's MLP (the default recipe, 2 x 128) distilled data-parallel from the
  mapped logits in global node batches of ``--batch-size``: the steps of each of ``--epochs``
  epochs (median), and the sharded evaluation after each (median).

Also recorded: each process's peak resident memory, and the per-node costs the README's
ogbn-papers100M calculation starts from. Absolute times on this shared 2-core machine are
noisy; read the ratios against ``1x1`` measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = [(1, 1), (1, 2), (2, 1)]  # (processes, threads per process)


def worker(args) -> None:
    import torch
    from bench_io import PeakMemory

    from graphkd import distributed as gd
    from graphkd.datasets import ogb_like, random_split
    from graphkd.distill import GLNN
    from graphkd.nn import build_model
    from graphkd.recipes import get_recipe

    rank, world = gd.init("nccl" if args.gpu else "gloo", timeout_s=1800)
    device = gd.default_device()
    torch.set_num_threads(args.threads)
    overrides = {"num_nodes": args.nodes} if args.nodes else {}
    data = random_split(ogb_like("arxiv", seed=0, **overrides), seed=0, train=0.54, val=0.18)
    data.num_classes = int(data.y.max()) + 1
    recipe = get_recipe("glnn", "default")
    torch.manual_seed(0)
    teacher = build_model("sage", data.num_features, data.num_classes, hidden_channels=128, aggregator="gcn")
    teacher = teacher.to(device)  # the graph stays on the host: chunks move to the device
    out = {"rank": rank, "world_size": world, "threads": torch.get_num_threads(), "device": str(device)}
    with PeakMemory() as mem:
        for _ in range(2):  # the second run is timed: the first warms up (CUDA kernels, caches)
            gd.barrier()
            _sync(device)
            tic = time.perf_counter()
            outputs = gd.sharded_teacher_outputs(
                teacher, data, Path(args.scratch) / "teacher_outputs", dataset="arxiv-like"
            )
        out["teacher_inference_s"] = time.perf_counter() - tic

        torch.manual_seed(0)
        trainee = build_model("sage", data.num_features, data.num_classes, hidden_channels=128, aggregator="gcn")
        fanout = [args.fanout] * 2
        trainer = gd.DistributedTrainer(
            epochs=2, patience=None, batch_size=args.teacher_batch_size, num_neighbors=fanout, progress=False
        )
        gd.barrier()
        history = trainer.fit(trainee, data, seed=0)
        second = history.epochs[1]  # the first epoch warms up
        out["teacher_epoch_s"] = second.step_time_s
        out["teacher_eval_s"] = (history.train_time_s - sum(r.step_time_s for r in history.epochs)) / 2

        torch.manual_seed(0)
        student = build_model("mlp", data.num_features, data.num_classes, **recipe.student.model_kwargs())
        trainer = gd.DistributedTrainer(epochs=args.epochs, patience=None, batch_size=args.batch_size, progress=False)
        gd.barrier()
        tic = time.perf_counter()
        method = GLNN(student, lam=recipe.lam, temperature=recipe.temperature, trainer=trainer).fit(
            data, outputs, seed=0
        )
        total = time.perf_counter() - tic
        steps = [r.step_time_s for r in method.history_.epochs]
        out["student_epoch_s"] = statistics.median(steps)
        out["student_eval_s"] = (method.history_.train_time_s - sum(steps)) / len(steps)
        out["student_fit_s"] = total
    out["peak_rss_gib"] = mem.peak / 2**30
    out["device_name"] = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    out["num_nodes"], out["num_edges"] = int(data.num_nodes), int(data.edge_index.size(1))
    out["train_nodes"] = int(data.train_mask.sum())
    out["num_features"], out["num_classes"] = int(data.num_features), int(data.num_classes)
    Path(args.scratch, f"rank-{rank}.json").write_text(json.dumps(out))
    gd.shutdown()


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def driver(args) -> None:
    from bench_io import write_result

    rows = []
    configs = [(1, args.threads_gpu)] if args.gpu else CONFIGS
    for procs, threads in configs:
        with tempfile.TemporaryDirectory(prefix="graphkd-dist-bench-") as scratch:
            cmd = [
                sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
                __file__, "--worker", "--threads", str(threads), "--scratch", scratch, *(["--gpu"] * args.gpu),
                "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
                "--teacher-batch-size", str(args.teacher_batch_size), "--fanout", str(args.fanout),
            ] + (["--nodes", str(args.nodes)] if args.nodes else [])  # fmt: skip
            env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
            tic = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, cwd=Path(__file__).parent)
            wall = time.perf_counter() - tic
            ranks = [json.loads(Path(scratch, f"rank-{r}.json").read_text()) for r in range(procs)]
        row = {"processes": procs, "threads": threads, "job_wall_s": wall, "ranks": ranks}
        for key in ("teacher_inference_s", "teacher_epoch_s", "teacher_eval_s", "student_epoch_s", "student_eval_s"):
            row[key] = max(r[key] for r in ranks)  # the slowest process sets the pace
        row["peak_rss_gib_per_process"] = max(r["peak_rss_gib"] for r in ranks)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "ranks"}), flush=True)

    base = rows[0]
    info = rows[0]["ranks"][0]
    kind = "gpu" if args.gpu else "cpu"
    stem = f"distributed_arxiv_{kind}" if not args.nodes else f"distributed_{args.nodes}_{kind}"
    payload = {
        "graph": {k: info[k] for k in ("num_nodes", "num_edges", "train_nodes", "num_features", "num_classes")},
        "settings": vars(args),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rows": rows,
        "per_node": {  # the first row (one core, or the GPU): what the papers100M calculation starts from
            "teacher_inference_us": 1e6 * base["teacher_inference_s"] / info["num_nodes"],
            "teacher_train_us_per_seed": 1e6 * base["teacher_epoch_s"] / info["train_nodes"],
            "student_train_us": 1e6 * base["student_epoch_s"] / info["num_nodes"],
        },
    }
    table = [
        (
            f"1 process on 1 GPU ({info['device_name']}, NCCL; speed-ups against the CPU figures of "
            "distributed_arxiv_cpu.md are not computed: other machine)"
            if args.gpu
            else f"1 vs 2 processes (gloo, CPU, {os.cpu_count()} cores)"
        )
        + f" on the arxiv-sized graph: {info['num_nodes']:,} nodes, "
        f"{info['num_edges']:,} directed edges; SAGE 2 x 128 teacher (fan-out {args.fanout}, global batch "
        f"{args.teacher_batch_size}), GLNN MLP student (global batch {args.batch_size}, median of {args.epochs} "
        "epochs). Times in seconds, the slowest process; speed-up against the first row.",
        "",
        "| processes x threads | teacher inference | speed-up | teacher epoch (steps) | speed-up "
        "| student epoch (steps) | speed-up | student eval / epoch | peak RSS / process (GiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        table.append(
            f"| {r['processes']} x {r['threads']} | {r['teacher_inference_s']:.2f} "
            f"| {base['teacher_inference_s'] / r['teacher_inference_s']:.2f}x | {r['teacher_epoch_s']:.1f} "
            f"| {base['teacher_epoch_s'] / r['teacher_epoch_s']:.2f}x | {r['student_epoch_s']:.2f} "
            f"| {base['student_epoch_s'] / r['student_epoch_s']:.2f}x | {r['student_eval_s']:.2f} "
            f"| {r['peak_rss_gib_per_process']:.2f} |"
        )
    pn = payload["per_node"]
    where = "on the GPU" if args.gpu else "on one core (1 x 1)"
    table += [
        "",
        f"Per node {where}: teacher inference {pn['teacher_inference_us']:.1f} us, teacher training "
        f"{pn['teacher_train_us_per_seed']:.0f} us per seed node, student training {pn['student_train_us']:.2f} us.",
    ]
    write_result(Path(__file__).parent / "results", stem, payload, table)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--scratch", help=argparse.SUPPRESS)
    p.add_argument("--gpu", action="store_true", help="one process on one GPU with NCCL (default: CPU processes)")
    p.add_argument("--threads-gpu", type=int, default=4, help=argparse.SUPPRESS)
    p.add_argument("--nodes", type=int, help="a smaller graph of the same degree (default: arxiv's 169,343)")
    p.add_argument("--epochs", type=int, default=3, help="student epochs (default: 3)")
    p.add_argument("--batch-size", type=int, default=4096, help="student global batch (default: 4096)")
    p.add_argument("--teacher-batch-size", type=int, default=1024, help="teacher global seeds per step")
    p.add_argument("--fanout", type=int, default=10, help="teacher fan-out per hop (default: 10)")
    args = p.parse_args()
    worker(args) if args.worker else driver(args)


if __name__ == "__main__":
    main()
