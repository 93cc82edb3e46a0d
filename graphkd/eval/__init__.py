r"""Evaluation: accuracy, multi-seed runs (mean ± std at best validation) and reports.

Names are loaded from their modules on first use: the training engine imports
:mod:`graphkd.eval.metrics`, and the protocols here import the engine, so importing this
package must not pull in the protocols before the engine exists.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "METHODS": "distillation",
    "SETTINGS": "distillation",
    "run_distillation": "distillation",
    "Metric": "metrics",
    "accuracy": "metrics",
    "evaluate": "metrics",
    "predict": "metrics",
    "OGBMetric": "ogb",
    "environment": "report",
    "markdown_table": "report",
    "merge_results": "merge",
    "results_title": "report",
    "write_results": "report",
    "RunResult": "runs",
    "Summary": "runs",
    "run_seeds": "runs",
    "summarize": "runs",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'graphkd.eval' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *globals()])
