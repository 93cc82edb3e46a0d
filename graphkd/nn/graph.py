"""The graph a GNN consumes, and its split into one-hop chunks for layer-wise inference."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch_geometric.utils import coalesce

from ..datasets.validate import validate_edge_index

__all__ = ["Chunk", "Graph", "csr_rows"]


def csr_rows(adj: Tensor, start: int, stop: int) -> Tensor:
    r"""Rows ``[start, stop)`` of a sparse CSR matrix, as a ``[stop - start, num_cols]`` CSR
    matrix sharing the column indices and values (views, no copy)."""
    crow = adj.crow_indices()
    lo, hi = int(crow[start]), int(crow[stop])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            crow[start : stop + 1] - lo,
            adj.col_indices()[lo:hi],
            adj.values()[lo:hi],
            (stop - start, adj.size(1)),
            check_invariants=False,
        )


@dataclass
class Chunk:
    r"""Target nodes ``[start, start + size)`` with all their in-edges.

    ``n_id`` lists the local nodes (targets first, then the other sources) and ``edge_index``
    is relabelled to them, so a message-passing layer run on ``x[n_id]`` gives exact outputs
    for the first ``size`` rows.
    """

    start: int
    size: int
    n_id: Tensor
    edge_index: Tensor
    edge_weight: Tensor | None


@dataclass
class Graph:
    r"""``edge_index`` (and optional ``edge_weight``) of a graph with ``num_nodes`` nodes."""

    edge_index: Tensor
    num_nodes: int
    edge_weight: Tensor | None = None
    _chunks: dict[int, list[Chunk]] = field(default_factory=dict, repr=False)
    _adj_t: Tensor | None = field(default=None, repr=False)
    _sorted: tuple | None = field(default=None, repr=False)

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: int) -> Graph:
        r"""Checks ``edge_index`` and removes duplicate edges (a graph, not a multigraph)."""
        validate_edge_index(edge_index, num_nodes)
        edge_index = edge_index.long()
        if not _sorted_unique(edge_index, num_nodes):  # already coalesced (e.g. PyG's datasets): keep it
            edge_index = coalesce(edge_index, num_nodes=num_nodes)
        return cls(edge_index, num_nodes)

    def adj_t(self) -> Tensor:
        r"""The transposed adjacency as a sparse CSR tensor (row ``i`` holds ``i``'s in-edges,
        valued by ``edge_weight`` or 1), for sparse-dense aggregation. Cached."""
        if self._adj_t is None:
            # rows = targets, columns sorted within each row (torch's CSR invariant)
            src, dst = self.edge_index
            perm = torch.argsort(dst * self.num_nodes + src)
            crow = torch.zeros(self.num_nodes + 1, dtype=torch.long, device=dst.device)
            torch.cumsum(torch.bincount(dst, minlength=self.num_nodes), 0, out=crow[1:])
            col = src[perm]
            if self.edge_weight is not None:
                values = self.edge_weight[perm]
            else:
                values = torch.ones(col.numel(), device=col.device)
            del perm
            with warnings.catch_warnings():  # torch flags sparse CSR as beta on every build
                warnings.simplefilter("ignore", UserWarning)
                self._adj_t = torch.sparse_csr_tensor(
                    crow, col, values, (self.num_nodes, self.num_nodes), check_invariants=False
                )
        return self._adj_t

    def chunks(self, batch_size: int, start: int = 0, stop: int | None = None) -> list[Chunk]:
        r"""The target nodes ``[start, stop)`` (default: all) cut into chunks of ``batch_size``
        with their in-edges (the whole graph's chunks are computed once and cached)."""
        stop = self.num_nodes if stop is None else stop
        if not 0 <= start <= stop <= self.num_nodes:
            raise ValueError(f"node range [{start}, {stop}) is not within the graph's {self.num_nodes} nodes")
        if start != 0 or stop != self.num_nodes:
            return list(self._make_chunks(batch_size, start, stop))
        if batch_size not in self._chunks:
            self._chunks[batch_size] = list(self._make_chunks(batch_size, 0, self.num_nodes))
        return self._chunks[batch_size]

    def _in_edges(self) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
        # edges sorted by target with the targets' offsets, computed once (every node range reads them)
        if self._sorted is None:
            src, dst = self.edge_index
            perm = torch.argsort(dst, stable=True)
            src, dst = src[perm], dst[perm]
            weight = self.edge_weight[perm] if self.edge_weight is not None else None
            ptr = torch.zeros(self.num_nodes + 1, dtype=torch.long, device=dst.device)
            ptr[1:] = torch.cumsum(torch.bincount(dst, minlength=self.num_nodes), 0)
            self._sorted = (src, dst, weight, ptr)
        return self._sorted

    def _make_chunks(self, batch_size: int, first: int, last: int):
        src, dst, weight, ptr = self._in_edges()
        for start in range(first, last, batch_size):
            stop = min(start + batch_size, last)
            lo, hi = int(ptr[start]), int(ptr[stop])
            s, d = src[lo:hi], dst[lo:hi] - start
            inside = (s >= start) & (s < stop)
            others = torch.unique(s[~inside])
            local_src = torch.where(inside, s - start, stop - start + torch.searchsorted(others, s))
            n_id = torch.cat([torch.arange(start, stop, device=s.device), others])
            w = weight[lo:hi] if weight is not None else None
            yield Chunk(start, stop - start, n_id, torch.stack([local_src, d]), w)


def _sorted_unique(edge_index: Tensor, num_nodes: int) -> bool:
    # sorted by (source, target) without repeats, i.e. what coalesce would return
    if edge_index.size(1) < 2:
        return True
    key = edge_index[0] * num_nodes + edge_index[1]
    return bool((key[1:] > key[:-1]).all())
