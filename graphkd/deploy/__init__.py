r"""Deployment of distilled students: export (TorchScript, ONNX, int8), serving without the graph
or PyTorch Geometric, and the latency harness that compares them with their teachers.

:func:`load_student` and :func:`export_student` import no PyTorch Geometric; the latency harness
(:mod:`graphkd.deploy.latency`), which fetches GNN neighbourhoods, is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .export import FORMATS, ExportReport, export_bundle, export_student, plain_mlp, quantize_int8
from .serve import Student, load_student

_LATENCY = ("LatencyProtocol", "LatencyResult", "hardware", "matmul_rate", "measure_latency", "mlp_flops")

__all__ = [
    "FORMATS",
    "ExportReport",
    "Student",
    "export_bundle",
    "export_student",
    "load_student",
    "plain_mlp",
    "quantize_int8",
    *_LATENCY,
]


def __getattr__(name: str) -> Any:
    if name in _LATENCY:
        return getattr(importlib.import_module(".latency", __name__), name)
    raise AttributeError(f"module 'graphkd.deploy' has no attribute {name!r}")
