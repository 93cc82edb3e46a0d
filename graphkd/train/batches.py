"""Where training batches come from. The engine asks a :class:`BatchSource` for an epoch's
batches, so mini-batch sources (neighbour sampling) plug in without touching the engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = ["Batch", "BatchSource", "FullBatch"]


@dataclass
class Batch:
    r"""One training step's inputs.

    Args:
        x (Tensor): features of the batch's nodes.
        edge_index (Tensor, optional): the batch's graph, in local node ids (``None`` for
            graph-free batches).
        y (Tensor): labels of the batch's nodes.
        mask (Tensor): which of the batch's nodes carry a training label.
        n_id (Tensor, optional): global node ids of the batch's rows (``None``: all nodes in order).
        extras (dict): further per-node tensors aligned with the rows (e.g. teacher logits).
    """

    x: Tensor
    edge_index: Tensor | None
    y: Tensor
    mask: Tensor
    n_id: Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> Batch:
        move = lambda t: t.to(device, non_blocking=True) if isinstance(t, Tensor) else t  # noqa: E731
        return Batch(
            move(self.x),
            move(self.edge_index),
            move(self.y),
            move(self.mask),
            move(self.n_id),
            {k: move(v) for k, v in self.extras.items()},
        )


@runtime_checkable
class BatchSource(Protocol):
    r"""Anything that yields an epoch of :class:`Batch` objects when iterated."""

    def __iter__(self) -> Iterator[Batch]: ...


class FullBatch:
    r"""The whole graph as one batch per epoch, with the training mask as the labelled nodes.

    Args:
        data (Data): the graph.
        mask_key (str, optional): the mask of labelled nodes (default: ``"train_mask"``).
        extras (dict[str, Tensor], optional): per-node tensors passed along in
            :attr:`Batch.extras` (e.g. teacher logits); each must have one row per node.
    """

    def __init__(self, data: Data, mask_key: str = "train_mask", extras: dict[str, Tensor] | None = None) -> None:
        for key, value in (extras or {}).items():
            if value.size(0) != data.num_nodes:
                raise ValueError(f"extra {key!r} has {value.size(0)} rows but the graph has {data.num_nodes} nodes")
        self.data, self.mask_key, self.extras = data, mask_key, dict(extras or {})

    def __iter__(self) -> Iterator[Batch]:
        d = self.data
        yield Batch(d.x, d.edge_index, d.y, d[self.mask_key], extras=dict(self.extras))

    def __len__(self) -> int:
        return 1
