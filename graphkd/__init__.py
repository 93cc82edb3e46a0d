r"""graphkd: knowledge distillation for graph neural networks, on PyTorch Geometric.

Sub-packages: :mod:`graphkd.datasets` (load graphs and splits), :mod:`graphkd.nn` (teacher GNNs
and MLP students), :mod:`graphkd.train` (the training engine), :mod:`graphkd.eval` (metrics,
multi-seed runs, reports), :mod:`graphkd.cli` (the ``graphkd`` command).
"""

__version__ = "0.1.0"

from . import datasets, eval, nn, train  # noqa: E402

__all__ = ["__version__", "datasets", "eval", "nn", "train"]
