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

__all__ = ["environment", "markdown_table", "write_results"]


def markdown_table(summaries: list[Summary], title: str | None = None) -> str:
    r"""A Markdown table: one row per model, accuracy as mean ± std in percent."""
    lines = [f"### {title}", ""] if title else []
    lines += [
        "| model | test acc (%) | val acc (%) | runs | train time / run (s) |",
        "|---|---|---|---|---|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.model} | {100 * s.test_mean:.2f} ± {100 * s.test_std:.2f} | "
            f"{100 * s.val_mean:.2f} ± {100 * s.val_std:.2f} | {s.runs} | {s.train_time_s:.1f} |"
        )
    return "\n".join(lines) + "\n"


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


def write_results(
    folder: str | os.PathLike, config: dict[str, Any], results: list[RunResult], title: str | None = None
) -> Path:
    r"""Writes ``results.json`` (config, environment, summary, per-seed runs), ``results.md``
    (the table) and ``runs.csv`` (one row per model and seed) into ``folder``, atomically."""
    from .runs import summarize

    folder = Path(folder)
    summaries = summarize(results)
    payload = {
        "config": config,
        "environment": environment(),
        "summary": [asdict(s) for s in summaries],
        "runs": [asdict(r) for r in results],
    }
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2) + "\n")
    atomic_write_text(folder / "results.md", markdown_table(summaries, title))
    buf = io.StringIO()
    fields = list(asdict(results[0]).keys()) if results else []
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    for r in results:
        writer.writerow(asdict(r))
    atomic_write_text(folder / "runs.csv", buf.getvalue())
    return folder
