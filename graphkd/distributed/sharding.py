"""Which nodes each process works on: contiguous node ranges for sharded inference, and every
epoch's share of the training nodes with :class:`torch.utils.data.DistributedSampler`'s semantics."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Sampler
from torch_geometric.data import Data

from ..datasets.validate import node_ids
from ..train.batches import Batch, NodeBatches, SampledBatches

__all__ = ["EpochShards", "ShardedNodeBatches", "ShardedSampledBatches", "node_range"]


def node_range(num_nodes: int, rank: int, world_size: int) -> tuple[int, int]:
    r"""The contiguous nodes ``[start, stop)`` of process ``rank`` out of ``world_size``: sizes
    differ by at most one, ranges cover every node once, in order.

    Raises:
        ValueError: for a rank outside ``[0, world_size)`` or a negative node count.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in [0, {world_size})")
    if num_nodes < 0:
        raise ValueError(f"num_nodes must be >= 0, got {num_nodes}")
    base, extra = divmod(num_nodes, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + int(rank < extra)


class EpochShards(Sampler[int]):
    r"""Positions ``0 … n-1`` split over processes as
    :class:`torch.utils.data.DistributedSampler` splits a dataset (shuffled with the generator
    seeded ``seed + epoch``, padded by repeating the first positions to a multiple of
    ``world_size``, then every ``world_size``-th position from ``rank``), but drawn as one
    tensor instead of a Python list, so that 100 M positions cost a ``randperm``, not a list.

    Every process yields the same number of positions, so every process takes the same number of
    steps per epoch (what data-parallel training needs). Call :meth:`set_epoch` before each epoch.

    Args:
        n (int): the number of positions (e.g. seed nodes).
        rank (int): this process.
        world_size (int): the number of processes.
        seed (int, optional): the shuffling seed, the same on every process (default: :obj:`0`).
        shuffle (bool, optional): a new permutation every epoch (default: :obj:`True`).
    """

    def __init__(self, n: int, rank: int, world_size: int, seed: int = 0, shuffle: bool = True) -> None:
        node_range(max(n, 0), rank, world_size)  # checks rank and world size
        if n < 1:
            raise ValueError("there are no nodes to split over the processes")
        self.n, self.rank, self.world_size, self.seed, self.shuffle = n, rank, world_size, seed, shuffle
        self.epoch = 0
        self.num_samples = -(-n // world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def positions(self) -> Tensor:
        r"""This process's positions for the current epoch, in order."""
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.n, generator=g)
        else:
            order = torch.arange(self.n)
        total = self.num_samples * self.world_size
        if total > self.n:  # pad by repeating the head, as DistributedSampler does
            reps = -(-(total - self.n) // self.n)
            order = torch.cat([order, order.repeat(reps)[: total - self.n]])
        return order[self.rank : total : self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self.positions().tolist())

    def __len__(self) -> int:
        return self.num_samples


class ShardedNodeBatches:
    r"""Graph-free node batches (:class:`graphkd.train.NodeBatches`) of this process's share of
    ``nodes`` each epoch (:class:`EpochShards`): with ``batch_size`` the **global** batch size,
    each process takes ``ceil(batch_size / world_size)`` nodes per step, so that one process and
    ``P`` processes take the same number of steps of the same effective size per epoch.

    Args:
        data (Data): the graph (its ``x``, ``y`` and ``mask_key`` mask are read).
        batch_size (int): nodes per step over all processes.
        nodes (Tensor, optional): ids or mask of the nodes to cover each epoch (default: all).
        rank, world_size (int): this process and the number of processes.
        seed (int, optional): the shuffling seed, the same on every process (default: :obj:`0`).
        mask_key (str, optional): the mask of labelled nodes (default: ``"train_mask"``).
        extras (dict, optional): per-node tensors or (memory-mapped) arrays, one row per node.
    """

    def __init__(
        self,
        data: Data,
        batch_size: int,
        nodes: Tensor | None,
        rank: int,
        world_size: int,
        seed: int = 0,
        mask_key: str = "train_mask",
        extras: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.nodes = torch.arange(data.num_nodes) if nodes is None else node_ids(nodes, data.num_nodes).cpu()
        self.shards = EpochShards(self.nodes.numel(), rank, world_size, seed)
        self.per_rank = -(-batch_size // world_size)
        self.inner = NodeBatches(data, self.per_rank, self.nodes, mask_key, extras, shuffle=False)
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.shards) // self.per_rank)

    def __iter__(self) -> Iterator[Batch]:
        self.shards.set_epoch(self.epoch)
        self.epoch += 1
        self.inner.nodes = self.nodes[self.shards.positions()]
        yield from self.inner

    def state_dict(self) -> dict[str, Tensor]:
        return {"epoch": torch.tensor(self.epoch)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.epoch = int(state["epoch"])


class ShardedSampledBatches:
    r"""Neighbour-sampled batches (:class:`graphkd.train.SampledBatches`) around this process's
    share of the seed ``nodes`` each epoch (:class:`EpochShards` as the loader's sampler), with
    ``ceil(batch_size / world_size)`` seeds per process and step; each process samples its own
    subgraphs (graphkd's sampler is seeded per rank).

    Args:
        data (Data): the graph, read by every process.
        num_neighbors (Sequence[int]): fan-out per hop.
        batch_size (int): seeds per step over all processes.
        nodes (Tensor, optional): ids or mask of the seed nodes (default: all).
        rank, world_size (int): this process and the number of processes.
        seed (int, optional): the shuffling seed, the same on every process (default: :obj:`0`).
        extras (dict, optional): per-node tensors or arrays of the whole graph.
        **loader_kwargs: passed to :func:`graphkd.sampling.neighbor_loader` (``backend``, …).
    """

    def __init__(
        self,
        data: Data,
        num_neighbors: Sequence[int],
        batch_size: int,
        nodes: Tensor | None,
        rank: int,
        world_size: int,
        seed: int = 0,
        extras: dict[str, Any] | None = None,
        **loader_kwargs: Any,
    ) -> None:
        nodes = torch.arange(data.num_nodes) if nodes is None else node_ids(nodes, data.num_nodes)
        self.shards = EpochShards(nodes.numel(), rank, world_size, seed)
        per_rank = -(-batch_size // world_size)
        self.inner = SampledBatches.from_data(
            data,
            num_neighbors,
            per_rank,
            nodes,
            extras=extras,
            sampler=self.shards,
            shuffle=False,
            seed=seed * 1_000_003 + rank,  # each process samples its own neighbourhoods
            **loader_kwargs,
        )
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self) -> Iterator[Batch]:
        self.shards.set_epoch(self.epoch)
        self.epoch += 1
        yield from self.inner

    def state_dict(self) -> dict[str, Tensor]:
        return {"epoch": torch.tensor(self.epoch), **self.inner.state_dict()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.epoch = int(state["epoch"])
        self.inner.load_state_dict({k: v for k, v in state.items() if k != "epoch"})
