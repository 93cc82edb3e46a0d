r"""graphkd: knowledge distillation for graph neural networks, on PyTorch Geometric.

Sub-packages: :mod:`graphkd.datasets` (load graphs and splits), :mod:`graphkd.nn` (teacher GNNs
and MLP students), :mod:`graphkd.train` (the training engine), :mod:`graphkd.eval` (metrics,
multi-seed runs, reports), :mod:`graphkd.distill` (teacher outputs and methods),
:mod:`graphkd.deploy` (export and serving of students), :mod:`graphkd.distributed`
(torch.distributed: sharded teacher inference, data-parallel training, the ``torchrun``
launcher), :mod:`graphkd.features` (positional features), :mod:`graphkd.cli` (the ``graphkd``
command).

Sub-packages are imported on first use, so that serving an exported student
(:func:`graphkd.deploy.load_student`) never imports PyTorch Geometric.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBPACKAGES = (
    "cli",
    "datasets",
    "deploy",
    "distill",
    "distributed",
    "eval",
    "features",
    "losses",
    "nn",
    "sampling",
    "train",
    "utils",
)
__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'graphkd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
