"""What every benchmark script does with its result: JSON and a Markdown table, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from graphkd.utils import atomic_write_text


def write_result(out: str | Path, stem: str, payload: dict, table: list[str]) -> None:
    r"""Writes ``<out>/<stem>.json`` and ``<out>/<stem>.md`` (the table's lines) and prints the table."""
    out = Path(out)
    atomic_write_text(out / f"{stem}.json", json.dumps(payload, indent=2) + "\n")
    atomic_write_text(out / f"{stem}.md", "\n".join(table) + "\n")
    print("\n".join(table))
