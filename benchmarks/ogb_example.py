"""The OGB example script end to end on an OGB-sized synthetic graph written in OGB's format.

    python benchmarks/ogb_example.py --graph arxiv --epochs 3            # 2 CPU cores: ~25 min
    python benchmarks/ogb_example.py --graph arxiv --epochs 20 --device cuda

Writes an ``ogb_like`` csbm graph of ogbn-arxiv's (or ogbn-products') size with a random split of
arxiv's proportions in OGB's on-disk format (``graphkd save-ogb --synthetic``), then runs
``examples/ogbn_<graph>.py --dataset-meta ... --runs 1`` on it in a child process: the very code
path of the real dataset (OGB's loader and ``Evaluator``), with the recipe's defaults except
``--epochs``. Reported: the child's wall time and peak resident memory (``getrusage``), and each
model's training time per epoch (evaluation on the full graph after every epoch included).
Accuracy on a synthetic graph says nothing about OGB accuracy and is not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_io import write_result

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="arxiv", choices=["arxiv", "products"])
    parser.add_argument("--epochs", type=int, default=3, help="maximum epochs of every model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tmp", help="folder for the dataset and the run (default: the system's)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    env = {"OMP_NUM_THREADS": str(args.threads), "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        start = time.perf_counter()
        _run([sys.executable, "-m", "graphkd", "save-ogb", "--synthetic", args.graph, "--out", tmp], env)
        write_s = time.perf_counter() - start
        meta = Path(tmp) / f"submission_ogbn_synthetic_{args.graph}" / "meta_dict.pt"
        out = Path(tmp) / "out"
        script = ROOT / "examples" / f"ogbn_{args.graph}.py"
        cmd = [sys.executable, str(script), "--dataset-meta", str(meta), "--runs", "1", "--epochs", str(args.epochs)]
        cmd += ["--device", args.device, "--out", str(out), "--no-progress"]
        start = time.perf_counter()
        peak_kib = _run(cmd, env)
        wall = time.perf_counter() - start
        results = json.loads((out / "results.json").read_text())
    rows = results["runs"]
    payload = {
        "graph": f"ogbn-{args.graph}-sized csbm in OGB's format",
        "command": " ".join(Path(c).name if c.startswith(tmp) else c for c in cmd[1:]),
        "epochs": args.epochs,
        "device": args.device,
        "threads": args.threads,
        "write_dataset_s": write_s,
        "wall_s": wall,
        "peak_rss_gib": peak_kib / 2**20,
        "recipe": results["config"]["recipe"],
        "runs": rows,
        "machine": platform.platform(),
        "environment": results["environment"],
    }
    table = [
        f"`examples/ogbn_{args.graph}.py --runs 1 --epochs {args.epochs}` on an ogbn-{args.graph}-sized csbm graph "
        f"written in OGB's format, {args.device}, {args.threads} threads: wall time {wall / 60:.1f} min, "
        f"peak RSS {peak_kib / 2**20:.2f} GiB (writing the dataset: {write_s:.0f} s, not included).",
        "",
        "| model | epochs run | train time (s) | per epoch (s) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        per_epoch = r["train_time_s"] / r["epochs_run"]
        table.append(f"| {r['model']} | {r['epochs_run']} | {r['train_time_s']:.1f} | {per_epoch:.1f} |")
    write_result(args.out, f"ogb_example_{args.graph}_{args.device}", payload, table)
    return payload


def _run(cmd: list[str], env: dict[str, str]) -> int:
    r"""Runs ``cmd``; returns its own peak resident memory in KiB (``wait4``: this child only)."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-4000:]}")
    print(text[-2500:], flush=True)
    return usage.ru_maxrss


if __name__ == "__main__":
    main()
