r"""Evaluation: accuracy, multi-seed runs (mean ± std at best validation) and reports."""

from .distillation import METHODS, SETTINGS, run_distillation
from .metrics import Metric, accuracy, evaluate, predict
from .ogb import OGBMetric
from .report import environment, markdown_table, write_results
from .runs import RunResult, Summary, run_seeds, summarize

__all__ = [
    "METHODS",
    "Metric",
    "OGBMetric",
    "SETTINGS",
    "run_distillation",
    "RunResult",
    "Summary",
    "accuracy",
    "environment",
    "evaluate",
    "markdown_table",
    "predict",
    "run_seeds",
    "summarize",
    "write_results",
]
