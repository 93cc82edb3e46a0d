"""Checks that a graph is well formed before anything trains on it."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = ["node_ids", "validate_data", "validate_edge_index"]

SPLITS = ("train_mask", "val_mask", "test_mask")


def validate_edge_index(edge_index: Tensor, num_nodes: int) -> None:
    r"""Raises :class:`ValueError` unless ``edge_index`` is a ``[2, E]`` integer tensor in
    ``[0, num_nodes)``."""
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        shape = tuple(edge_index.shape) if isinstance(edge_index, Tensor) else type(edge_index)
        raise ValueError(f"edge_index must have shape [2, num_edges], got {shape}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"edge_index must hold integers, got dtype {edge_index.dtype}")
    if edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(
                f"edge_index refers to node {lo if lo < 0 else hi}, outside [0, {num_nodes}) "
                f"for a graph of {num_nodes} nodes"
            )


def validate_data(data: Data, num_classes: int | None = None, require_splits: bool = True) -> None:
    r"""Raises :class:`ValueError` naming the first problem found in ``data``.

    Checks: ``x`` is a finite 2-D float tensor; ``y`` is a 1-D integer tensor with one label per
    node, in ``[0, num_classes)``; ``edge_index`` is in range; and, if ``require_splits``, the
    boolean ``train_mask``/``val_mask``/``test_mask`` have one entry per node, train and val
    are non-empty and the three do not overlap.

    Args:
        data (Data): the graph.
        num_classes (int, optional): number of classes (default: ``data.num_classes`` if set, else
            ``y.max() + 1``).
        require_splits (bool, optional): check the split masks (default: :obj:`True`).
    """
    x, y = getattr(data, "x", None), getattr(data, "y", None)
    if not isinstance(x, Tensor) or x.dim() != 2:
        raise ValueError(f"data.x must be a [num_nodes, num_features] tensor, got {_shape(x)}")
    if not x.is_floating_point():
        raise ValueError(f"data.x must be a float tensor, got dtype {x.dtype}")
    n = x.size(0)
    if n == 0:
        raise ValueError("data.x has no rows: the graph has no nodes")
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        rows = bad.any(dim=1).nonzero().flatten()
        raise ValueError(
            f"data.x has {int(bad.sum())} NaN/Inf entries in {rows.numel()} nodes (first node: {int(rows[0])})"
        )
    if not isinstance(y, Tensor) or y.dim() != 1:
        raise ValueError(f"data.y must have shape [{n}] (one label per node), got {_shape(y)}")
    if y.size(0) != n:
        raise ValueError(f"data.y has {y.size(0)} labels but data.x has {n} rows: one label per node is needed")
    if y.dtype != torch.long:
        raise ValueError(f"data.y must hold int64 class labels, got dtype {y.dtype}; cast with y.long()")
    if num_classes is None:
        num_classes = int(getattr(data, "num_classes", 0) or int(y.max()) + 1)
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"data.y has label {lo if lo < 0 else hi}, outside [0, {num_classes})")
    validate_edge_index(data.edge_index, n)
    if not require_splits:
        return
    masks = []
    for key in SPLITS:
        mask = getattr(data, key, None)
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != (n,):
            raise ValueError(f"data.{key} must be a boolean tensor of shape [{n}], got {_shape(mask)}")
        masks.append(mask)
    for key, mask in zip(SPLITS[:2], masks[:2], strict=True):
        if not bool(mask.any()):
            raise ValueError(f"data.{key} selects no node: the {key.split('_')[0]} split is empty")
    if bool((masks[0].int() + masks[1].int() + masks[2].int() > 1).any()):
        raise ValueError("data.train_mask, val_mask and test_mask overlap")


def _shape(value: object) -> str:
    if isinstance(value, Tensor):
        return f"shape {list(value.shape)}"
    return "None" if value is None else type(value).__name__


def node_ids(nodes: Tensor, num_nodes: int, what: str = "nodes") -> Tensor:
    r"""A node set given as ids or as a boolean mask, as a flat ``long`` tensor of ids.

    Raises:
        ValueError: for a mask of the wrong length, ids outside ``0..num_nodes - 1``, or an
            empty set (``what`` names the argument in the message).
    """
    if nodes.dtype == torch.bool:
        if nodes.numel() != num_nodes:
            raise ValueError(f"{what} mask has {nodes.numel()} entries but the graph has {num_nodes} nodes")
        nodes = nodes.nonzero().flatten()
    nodes = nodes.long().flatten()
    if nodes.numel() == 0:
        raise ValueError(f"{what} is empty: there are no nodes to sample or make batches of")
    if int(nodes.min()) < 0 or int(nodes.max()) >= num_nodes:
        raise ValueError(f"{what} must lie in 0..{num_nodes - 1}")
    return nodes
