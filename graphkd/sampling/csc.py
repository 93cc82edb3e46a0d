r"""The compressed in-neighbour index (CSC) a neighbour sampler walks, kept on one device."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..datasets.validate import validate_edge_index

__all__ = ["CSC"]


@dataclass
class CSC:
    r"""For every node ``i``, the sources of the edges ``j -> i`` (its in-neighbours, the nodes
    whose messages reach it under PyG's source-to-target flow).

    Args:
        colptr (Tensor): ``[N + 1]`` offsets: node ``i``'s neighbours are ``row[colptr[i]:colptr[i + 1]]``.
        row (Tensor): ``[E]`` source of every edge, grouped by target.
        edge_id (Tensor): ``[E]`` position of every edge in the original ``edge_index``.
    """

    colptr: Tensor
    row: Tensor
    edge_id: Tensor

    @property
    def num_nodes(self) -> int:
        return self.colptr.numel() - 1

    @property
    def num_edges(self) -> int:
        return self.row.numel()

    @property
    def device(self) -> torch.device:
        return self.row.device

    def degree(self, nodes: Tensor | None = None) -> Tensor:
        r"""In-degrees of ``nodes`` (default: all)."""
        if nodes is None:
            return self.colptr[1:] - self.colptr[:-1]
        return self.colptr[nodes + 1] - self.colptr[nodes]

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: int, device: torch.device | str | None = None) -> CSC:
        r"""Sorts ``edge_index`` (``[2, E]``, source-to-target) by target, stably, on ``device``
        (default: ``edge_index``'s device)."""
        validate_edge_index(edge_index, num_nodes)
        edge_index = edge_index.to(device if device is not None else edge_index.device).long()
        src, dst = edge_index
        perm = torch.argsort(dst, stable=True)
        colptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=dst.device)
        torch.cumsum(torch.bincount(dst, minlength=num_nodes), 0, out=colptr[1:])
        return cls(colptr, src[perm], perm)

    def to(self, device: torch.device | str) -> CSC:
        return CSC(self.colptr.to(device), self.row.to(device), self.edge_id.to(device))
