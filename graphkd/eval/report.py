"""Results as tables and as a self-describing results folder."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from ..utils.io import atomic_write_text
from .runs import RunResult, Summary

__all__ = [
    "NUMERIC_ENVIRONMENT",
    "environment",
    "markdown_table",
    "read_distill_results",
    "results_title",
    "write_results",
]

#: the :func:`environment` fields that can change the numbers themselves (the order of
#: floating-point sums follows the thread count, the device and the library versions, and so can
#: the trained models), each with the words an error uses for it
NUMERIC_ENVIRONMENT = {
    "cpu_threads": "CPU threads",
    "cuda": "GPU",
    "torch": "torch",
    "python": "python",
    "graphkd": "graphkd",
}


def markdown_table(summaries: list[Summary], title: str | None = None, baseline: str | None = None) -> str:
    r"""A Markdown table: one row per model, accuracy as mean ± std in percent.

    Inductive results add ``ind`` and ``prod`` columns; measured inference times add a column
    for a full-graph inference and, where measured, one for the latency of a request for 10
    nodes; given ``baseline`` (a model name), the speed-up of each model over it (on the
    10-node latency when there is one, else on the full-graph time).
    """
    inductive = any(s.ind_mean is not None for s in summaries)
    timed = any(s.infer_time_s is not None for s in summaries)
    latency = any(s.latency_ms is not None for s in summaries)
    speed_of = (lambda s: s.latency_ms) if latency else (lambda s: s.infer_time_s)
    base = next((speed_of(s) for s in summaries if s.model == baseline), None)
    head = ["model", "trans acc (%)" if inductive else "test acc (%)"]
    if inductive:
        head += ["ind acc (%)", "prod acc (%)"]
    head += ["val acc (%)", "runs", "train time / run (s)"]
    if timed:
        head.append("inference, all nodes (ms)")
    if latency:
        head.append("latency, 10 nodes (ms)")
    if (timed or latency) and base:
        head.append("speed-up")
    lines = [f"### {title}", ""] if title else []
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summaries:
        row = [s.model, _pm(s.test_mean, s.test_std)]
        if inductive:
            row += [_pm(s.ind_mean, s.ind_std), _pm(s.prod_mean, s.prod_std)]
        row += [_pm(s.val_mean, s.val_std), str(s.runs), f"{s.train_time_s:.1f}"]
        if timed:
            row.append(f"{1000 * s.infer_time_s:.2f}" if s.infer_time_s is not None else "")
        if latency:
            row.append(f"{s.latency_ms:.3f}" if s.latency_ms is not None else "")
        if (timed or latency) and base:
            row.append(f"{base / speed_of(s):.1f}x" if speed_of(s) else "")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _pm(mean: float | None, std: float | None) -> str:
    return "" if mean is None else f"{100 * mean:.2f} ± {100 * (std or 0.0):.2f}"


def environment() -> dict[str, Any]:
    r"""What the numbers were measured on."""
    from .. import __version__

    return {
        "graphkd": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def results_title(config: dict[str, Any]) -> str:
    r"""The title ``graphkd train`` / ``graphkd distill`` give the table of ``config``."""
    from ..datasets import dataset_info

    split = config.get("split") or dataset_info(config["dataset"]).splits[0]
    seeds = len(config["seeds"])
    if config.get("command") == "distill":
        teacher = config["recipe"]["teacher"]["name"]
        return (
            f"{config['dataset']} ({split} split, {config['setting']}), {teacher} teacher -> {config['method']}, "
            f"{seeds} seed(s), checkpoints chosen on validation accuracy"
        )
    return f"{config['dataset']} ({split} split), {seeds} seed(s), checkpoint chosen on validation accuracy"


def write_results(
    folder: str | os.PathLike,
    config: dict[str, Any],
    results: list[RunResult],
    title: str | None = None,
    baseline: str | None = None,
    env: dict[str, Any] | None = None,
) -> Path:
    r"""Writes ``results.json`` (config, environment, summary, per-seed runs), ``results.md``
    (the table) and ``runs.csv`` (one row per model and seed) into ``folder``, atomically.
    ``env`` is what the runs were measured on (default: :func:`environment`, this process)."""
    from .runs import summarize

    folder = Path(folder)
    summaries = summarize(results)
    payload = {
        "config": config,
        "environment": environment() if env is None else env,
        "summary": [asdict(s) for s in summaries],
        "runs": [asdict(r) for r in results],
    }
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2) + "\n")
    atomic_write_text(folder / "results.md", markdown_table(summaries, title, baseline))
    buf = io.StringIO()
    fields = list(asdict(results[0]).keys()) if results else []
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    for r in results:
        writer.writerow(asdict(r))
    atomic_write_text(folder / "runs.csv", buf.getvalue())
    return folder


def read_distill_results(folder: str | os.PathLike) -> dict[str, Any]:
    r"""The ``results.json`` of a ``graphkd distill --out`` folder (config with its method and
    recipe, summary, runs), as :func:`write_results` wrote it.

    Raises:
        ValueError: if the folder has no ``results.json``, the file is not JSON, or it holds no
            distillation config (method and recipe).
    """
    path, payload = load_results_json(folder, "graphkd distill --out")
    config = payload.get("config", {}) if isinstance(payload, dict) else {}
    if "method" not in config or "recipe" not in config or "summary" not in payload:
        raise ValueError(f"{path} is not a graphkd distill result (no method, recipe or summary)")
    return payload


def load_results_json(folder: str | os.PathLike, writer: str) -> tuple[Path, Any]:
    r"""The path and parsed contents of ``folder/results.json``; ``writer`` (the command that
    writes one) goes into the error of a folder without it.

    Raises:
        ValueError: if the folder has no ``results.json`` or the file is not JSON.
    """
    path = Path(folder) / "results.json"
    if not path.is_file():
        raise ValueError(f"{folder} has no results.json (write one with {writer})")
    try:
        return path, json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(f"{path} is not JSON ({err})") from err
