r"""graphkd's neighbour sampler: vectorised, in plain torch, on the device that holds the graph."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.sampler import BaseSampler, NodeSamplerInput, SamplerOutput

from .csc import CSC

__all__ = ["NeighborSampler", "sample_without_replacement"]


def sample_without_replacement(deg: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
    r"""For each ``deg[i] > k``, ``k`` distinct offsets drawn uniformly from ``[0, deg[i])``,
    ``[len(deg), k]``: Floyd's algorithm (`Bentley and Floyd, CACM 1987
    <https://doi.org/10.1145/30401.315746>`_) run for all rows at once — ``k`` rounds, in round
    ``r`` a draw :math:`t \in [0, d - k + r]` that is replaced by :math:`d - k + r` when
    already taken — so every ``k``-subset is equally likely and the cost is :math:`O(k^2)` per
    row, whatever the degree."""
    n = deg.numel()
    picks = torch.empty(n, k, dtype=torch.long, device=deg.device)
    if n == 0:
        return picks
    for r in range(k):
        top = deg - k + r  # the draw is uniform on [0, top]
        # float64 keeps the draw uniform for degrees far beyond float32's 24 bits
        u = torch.rand(n, dtype=torch.float64, device=deg.device, generator=generator)
        t = torch.minimum((u * (top + 1)).long(), top)
        if r:
            t = torch.where((picks[:, :r] == t.unsqueeze(1)).any(1), top, t)
        picks[:, r] = t
    return picks


class NeighborSampler(BaseSampler):
    r"""Uniform neighbour sampling without replacement, hop by hop, in plain torch.

    The in-neighbour index (:class:`~graphkd.sampling.CSC`) lives on ``device`` (the GPU when
    the model trains there, so batches are built where they are consumed); each hop draws, for
    every node added in the previous hop, ``min(fan-out, degree)`` distinct in-neighbours
    (all of them for fan-out ``-1``) and relabels new nodes to local ids in order of first
    appearance, with a node-indexed lookup table instead of a sort. No compiled extension is
    needed.

    It is a PyG :class:`~torch_geometric.sampler.BaseSampler`, so PyG's
    :class:`~torch_geometric.loader.NodeLoader` turns its output into the same batches as
    :class:`~torch_geometric.loader.NeighborLoader`: ``n_id`` (seeds first), ``batch_size``,
    local ``edge_index`` (source-to-target), ``e_id``, ``num_sampled_nodes`` and
    ``num_sampled_edges`` per hop (see :func:`graphkd.sampling.neighbor_loader`).

    Args:
        data (Data or Tensor): the graph, or its ``edge_index``.
        num_neighbors (Sequence[int]): fan-out per hop (``-1``: every neighbour).
        num_nodes (int, optional): number of nodes (default: ``data.num_nodes``; required for an
            ``edge_index``).
        device (str, optional): where the index lives and sampling runs (default: the graph's device).
        seed (int, optional): seeds the sampler's own generator, so the same seed gives the same
            batches (default: a seed drawn from torch's global generator).
    """

    def __init__(
        self,
        data: Data | Tensor,
        num_neighbors: Sequence[int],
        num_nodes: int | None = None,
        device: torch.device | str | None = None,
        seed: int | None = None,
    ) -> None:
        edge_index = data if isinstance(data, Tensor) else data.edge_index
        if num_nodes is None:
            if isinstance(data, Tensor):
                raise ValueError("num_nodes is required when sampling from an edge_index")
            num_nodes = data.num_nodes
        self.num_neighbors = _check_fanouts(num_neighbors)
        self.csc = CSC.from_edge_index(edge_index, num_nodes, device)
        self.device = self.csc.device
        if seed is None:
            seed = int(torch.randint(2**62, (1,)))
        self.seed = seed
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        # global -> local id of the nodes of the batch being built (-1: not in it); and a
        # scratch table for first occurrences; both are reset after every batch
        self._local = torch.full((num_nodes,), -1, dtype=torch.long, device=self.device)
        self._first = torch.full((num_nodes,), _BIG, dtype=torch.long, device=self.device)

    @property
    def num_nodes(self) -> int:
        return self.csc.num_nodes

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs) -> SamplerOutput:
        out = self.sample(index.node)
        out.metadata = (index.input_id, index.time)
        return out

    def sample_from_edges(self, index, neg_sampling=None):
        raise NotImplementedError("graphkd's NeighborSampler samples from nodes; use PyG's for link prediction")

    @property
    def edge_permutation(self) -> None:
        return None  # ``edge`` holds positions in the original edge_index

    def sample(self, seeds: Tensor) -> SamplerOutput:
        r"""The sampled subgraph around ``seeds`` (global ids), as a PyG :class:`SamplerOutput`
        on the sampler's device: ``node`` (seeds first, then each hop's new nodes), ``row``/``col``
        (local source/target), ``edge`` (ids in the original ``edge_index``)."""
        self._reseed_in_worker()
        seeds = seeds.to(self.device).long().flatten()
        if seeds.numel() and (int(seeds.min()) < 0 or int(seeds.max()) >= self.num_nodes):
            raise ValueError(f"seed nodes must lie in 0..{self.num_nodes - 1}")
        local, csc = self._local, self.csc
        nodes = [seeds]
        count = seeds.numel()
        positions = torch.arange(count, device=self.device)
        rows, cols, edges = [], [], []
        num_nodes, num_edges = [count], []
        try:
            # a seed given twice keeps both rows; its neighbours point to its first row
            local.scatter_reduce_(0, seeds, positions, reduce="amin", include_self=False)
            frontier, frontier_local = seeds, positions
            for fanout in self.num_neighbors:
                pos, owner = self._pick(frontier, fanout)
                src = csc.row[pos]
                edges.append(csc.edge_id[pos])
                cols.append(frontier_local[owner])
                new = self._new_nodes(src)
                nodes.append(new)  # before it enters the table, so the table is always cleaned
                local[new] = torch.arange(count, count + new.numel(), device=self.device)
                rows.append(local[src])
                frontier, frontier_local = new, local[new]
                count += new.numel()
                num_nodes.append(new.numel())
                num_edges.append(src.numel())
        except BaseException:
            local.fill_(-1)  # whatever was half-written (e.g. an interrupt inside an op)
            self._first.fill_(_BIG)
            raise
        local[torch.cat(nodes)] = -1
        empty = seeds.new_empty(0)
        return SamplerOutput(
            node=torch.cat(nodes),
            row=torch.cat(rows) if rows else empty,
            col=torch.cat(cols) if cols else empty,
            edge=torch.cat(edges) if edges else empty,
            num_sampled_nodes=num_nodes,
            num_sampled_edges=num_edges,
        )

    def _reseed_in_worker(self) -> None:
        # DataLoader workers each hold a copy of this sampler: give each its own random stream,
        # and a new one every epoch (a worker's seed is drawn per epoch from the loader's generator)
        info = torch.utils.data.get_worker_info()
        if info is not None and getattr(self, "_worker_seed", None) != info.seed:
            self._worker_seed = info.seed
            self.generator.manual_seed((self.seed * 1_000_003 + info.seed) % 2**63)

    def _pick(self, frontier: Tensor, fanout: int) -> tuple[Tensor, Tensor]:
        # positions in csc.row of the sampled in-edges of every frontier node, and the index
        # (into frontier) of the node each belongs to
        start = self.csc.colptr[frontier]
        deg = self.csc.colptr[frontier + 1] - start
        full = deg <= fanout if fanout >= 0 else torch.ones_like(deg, dtype=torch.bool)
        whole = full.nonzero().flatten()
        counts = deg[whole]
        owner_all = torch.repeat_interleave(whole, counts)
        offset = torch.arange(owner_all.numel(), device=self.device) - torch.repeat_interleave(
            counts.cumsum(0) - counts, counts
        )
        pos_all = start[owner_all] + offset
        if fanout < 0:
            return pos_all, owner_all
        part = (~full).nonzero().flatten()
        picks = sample_without_replacement(deg[part], fanout, self.generator)
        pos_part = (start[part].unsqueeze(1) + picks).flatten()
        owner_part = part.repeat_interleave(fanout)
        return torch.cat([pos_all, pos_part]), torch.cat([owner_all, owner_part])

    def _new_nodes(self, src: Tensor) -> Tensor:
        # the nodes of src not yet in the batch, once each, in order of first appearance
        cand_pos = (self._local[src] < 0).nonzero().flatten()
        cand = src[cand_pos]
        first = self._first
        first.scatter_reduce_(0, cand, cand_pos, reduce="amin")
        new = cand[first[cand] == cand_pos]
        first[cand] = _BIG
        return new

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_neighbors={self.num_neighbors}, num_nodes={self.num_nodes}, "
            f"device={str(self.device)!r})"
        )


_BIG = 2**62


def _check_fanouts(num_neighbors: Sequence[int]) -> list[int]:
    fanouts = list(num_neighbors)
    if not fanouts or not all(isinstance(k, int) and not isinstance(k, bool) and (k >= 0 or k == -1) for k in fanouts):
        raise ValueError(
            f"num_neighbors must be a non-empty list of integers >= 0 (or -1 for all), got {num_neighbors!r}"
        )
    return fanouts
