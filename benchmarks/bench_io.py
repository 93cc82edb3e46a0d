"""What every benchmark script does with its result: JSON and a Markdown table, written atomically."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from graphkd.utils import atomic_write_text


def write_result(out: str | Path, stem: str, payload: dict, table: list[str]) -> None:
    r"""Writes ``<out>/<stem>.json`` and ``<out>/<stem>.md`` (the table's lines) and prints the table."""
    out = Path(out)
    atomic_write_text(out / f"{stem}.json", json.dumps(payload, indent=2) + "\n")
    atomic_write_text(out / f"{stem}.md", "\n".join(table) + "\n")
    print("\n".join(table))


def rss_bytes() -> int:
    r"""This process's resident memory now (Linux ``/proc``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    r"""Wall time and peak resident memory of a block, memory sampled every 5 ms by a thread.

    After the block: ``seconds``, ``peak`` (bytes, the whole process), ``above_start`` (bytes
    above the level at entry). ``PeakMemory.limit`` (bytes), when set, ends the process once its
    resident memory passes it, so a benchmark cannot exhaust a shared machine.
    """

    limit: int | None = None

    def __enter__(self) -> PeakMemory:
        self.base = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        self.start = time.perf_counter()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes())
            if self.limit is not None and self.peak > self.limit:
                print(f"resident memory passed {self.limit / 2**30:.1f} GiB: stopping", flush=True)
                os._exit(3)

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def above_start(self) -> int:
        return self.peak - self.base
