"""Where training batches come from. The engine asks a :class:`BatchSource` for an epoch's
batches: the whole graph (:class:`FullBatch`), neighbour-sampled subgraphs
(:class:`SampledBatches`) or graph-free batches of nodes for MLP students (:class:`NodeBatches`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.validate import node_ids
from ..sampling import neighbor_loader

__all__ = ["Batch", "BatchSource", "FullBatch", "NodeBatches", "SampledBatches", "gather_rows"]


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
        num_targets (int, optional): the first ``num_targets`` rows are the batch's targets
            (the seeds of a sampled subgraph), the others only context for message passing;
            node-level losses count the targets only (``None``: every row is a target).
        num_sampled_nodes, num_sampled_edges (list[int], optional): per hop, for batches whose
            nodes and edges are ordered by hop (neighbour sampling): lets trimming models skip
            what cannot reach the targets (:meth:`graphkd.nn.Model.forward`).
    """

    x: Tensor
    edge_index: Tensor | None
    y: Tensor
    mask: Tensor
    n_id: Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    num_targets: int | None = None
    num_sampled_nodes: list[int] | None = None
    num_sampled_edges: list[int] | None = None

    def hops(self) -> dict[str, list[int]]:
        r"""``num_sampled_nodes``/``num_sampled_edges`` as keyword arguments for a model's
        forward (empty when the batch is not hop-ordered)."""
        if self.num_sampled_nodes is None or self.num_sampled_edges is None:
            return {}
        return {"num_sampled_nodes": self.num_sampled_nodes, "num_sampled_edges": self.num_sampled_edges}

    def targets(self, value: Tensor) -> Tensor:
        r"""The target rows of a per-row tensor (all rows unless :attr:`num_targets` is set)."""
        return value if self.num_targets is None else value[: self.num_targets]

    def to(self, device: torch.device | str) -> Batch:
        move = lambda t: t.to(device, non_blocking=True) if isinstance(t, Tensor) else t  # noqa: E731
        return Batch(
            move(self.x),
            move(self.edge_index),
            move(self.y),
            move(self.mask),
            move(self.n_id),
            {k: move(v) for k, v in self.extras.items()},
            self.num_targets,
            self.num_sampled_nodes,
            self.num_sampled_edges,
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
        extras = _check_extras(extras, data.num_nodes)
        as_tensor = lambda v: v if isinstance(v, Tensor) else torch.from_numpy(np.asarray(v))  # noqa: E731
        self.data, self.mask_key, self.extras = data, mask_key, {k: as_tensor(v) for k, v in extras.items()}

    def __iter__(self) -> Iterator[Batch]:
        d = self.data
        yield Batch(d.x, d.edge_index, d.y, d[self.mask_key], extras=dict(self.extras))

    def __len__(self) -> int:
        return 1


def gather_rows(value: Tensor | np.ndarray, index: Tensor) -> Tensor:
    r"""``value[index]`` for a tensor or a (memory-mapped) NumPy array, as a tensor: teacher
    outputs too large for RAM are read row by row from disk."""
    if isinstance(value, Tensor):
        return value[index.to(value.device)]
    return torch.from_numpy(np.ascontiguousarray(value[index.cpu().numpy()]))


def _check_extras(extras: dict[str, Any] | None, num_nodes: int) -> dict[str, Any]:
    for key, value in (extras or {}).items():
        if len(value) != num_nodes:
            raise ValueError(f"extra {key!r} has {len(value)} rows but the graph has {num_nodes} nodes")
    return dict(extras or {})


class NodeBatches:
    r"""Graph-free mini-batches of nodes, for MLP students: each batch holds the features,
    labels and ``extras`` rows (teacher outputs, looked up by global node id) of
    ``batch_size`` nodes, and no edges.

    Args:
        data (Data): the graph (its ``x``, ``y`` and ``mask_key`` mask are read).
        batch_size (int): nodes per batch.
        nodes (Tensor, optional): the nodes to cover each epoch, ids or a boolean mask
            (default: all).
        mask_key (str, optional): the mask of labelled nodes (default: ``"train_mask"``).
        extras (dict, optional): per-node tensors or NumPy (memory-mapped) arrays, one row per node.
        shuffle (bool, optional): a new order every epoch, from torch's global generator
            (seeded by :meth:`Trainer.fit`'s ``seed``) (default: :obj:`True`).
        pin_memory (bool, optional): page-lock each batch so copies to the GPU overlap compute
            (default: when CUDA is available).
    """

    def __init__(
        self,
        data: Data,
        batch_size: int,
        nodes: Tensor | None = None,
        mask_key: str = "train_mask",
        extras: dict[str, Any] | None = None,
        shuffle: bool = True,
        pin_memory: bool | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.data, self.batch_size, self.mask_key, self.shuffle = data, batch_size, mask_key, shuffle
        self.nodes = torch.arange(data.num_nodes) if nodes is None else node_ids(nodes, data.num_nodes).cpu()
        self.extras = _check_extras(extras, data.num_nodes)
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory

    def __len__(self) -> int:
        return -(-self.nodes.numel() // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        d = self.data
        order = self.nodes[torch.randperm(self.nodes.numel())] if self.shuffle else self.nodes
        for idx in order.split(self.batch_size):
            dev = d.x.device
            i = idx.to(dev)
            batch = Batch(
                d.x[i],
                None,
                d.y[i],
                d[self.mask_key][i],
                n_id=i,
                extras={k: gather_rows(v, idx) for k, v in self.extras.items()},
            )
            yield _pinned(batch) if self.pin_memory and dev.type == "cpu" else batch


class SampledBatches:
    r"""Neighbour-sampled subgraphs as training batches: the seeds are the batch's targets
    (:attr:`Batch.num_targets`; only labelled seeds are in :attr:`Batch.mask`), the sampled
    nodes around them context; ``extras`` rows are looked up by global id (``n_id``) and
    ``extras["seed_mask"]`` marks the seeds for relational losses (LSP over the sampled edges
    into the seeds).

    Args:
        loader: a loader of PyG batches with ``n_id`` and ``batch_size``, e.g. from
            :func:`graphkd.sampling.neighbor_loader` (or PyG's ``NeighborLoader``).
        mask_key (str, optional): the mask of labelled nodes (default: ``"train_mask"``).
        extras (dict, optional): per-node tensors or NumPy (memory-mapped) arrays of the whole graph.
        pin_memory (bool, optional): page-lock batches built on the host, so their copies to the
            GPU overlap compute (default: when CUDA is available).
    """

    def __init__(
        self,
        loader: Any,
        mask_key: str = "train_mask",
        extras: dict[str, Any] | None = None,
        pin_memory: bool | None = None,
    ) -> None:
        self.loader, self.mask_key = loader, mask_key
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        self.extras = _check_extras(extras, loader.data.num_nodes) if hasattr(loader, "data") else dict(extras or {})

    def __len__(self) -> int:
        return len(self.loader)

    def state_dict(self) -> dict[str, Tensor]:
        r"""The states of the generators behind the next epoch's batches (the loader's seed
        order, which also seeds its workers, and graphkd's sampler), for resumable training."""
        out = {}
        order = getattr(self.loader, "generator", None)
        if order is not None:
            out["order"] = order.get_state()
        sampler = getattr(self.loader, "node_sampler", None)
        if isinstance(getattr(sampler, "generator", None), torch.Generator):
            out["sampler"] = sampler.generator.get_state()
            # workers reseed from the sampler's seed each epoch: a seed drawn at random must persist
            out["sampler_seed"] = torch.tensor(int(sampler.seed), dtype=torch.int64)
        return out

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        r"""Puts back generator states taken by :meth:`state_dict`."""
        if "order" in state and getattr(self.loader, "generator", None) is not None:
            self.loader.generator.set_state(state["order"])
        sampler = getattr(self.loader, "node_sampler", None)
        if "sampler" in state and isinstance(getattr(sampler, "generator", None), torch.Generator):
            sampler.generator.set_state(state["sampler"])
            if "sampler_seed" in state:
                sampler.seed = int(state["sampler_seed"])

    @classmethod
    def from_data(
        cls,
        data: Data,
        num_neighbors: Sequence[int],
        batch_size: int,
        nodes: Tensor | None = None,
        mask_key: str = "train_mask",
        extras: dict[str, Any] | None = None,
        pin_memory: bool | None = None,
        **loader_kwargs: Any,
    ) -> SampledBatches:
        r"""Batches over the seed ``nodes`` (default: all), shuffled every epoch, from
        :func:`graphkd.sampling.neighbor_loader` (``loader_kwargs``: ``backend``, ``device``,
        ``seed``, ``num_workers``, …)."""
        loader_kwargs.setdefault("shuffle", True)
        loader = neighbor_loader(data, num_neighbors, nodes, batch_size=batch_size, **loader_kwargs)
        return cls(loader, mask_key, extras, pin_memory)

    def __iter__(self) -> Iterator[Batch]:
        for sub in self.loader:
            n = int(sub.batch_size)
            seed = torch.zeros(sub.num_nodes, dtype=torch.bool, device=sub.n_id.device)
            seed[:n] = True
            extras = {k: gather_rows(v, sub.n_id) for k, v in self.extras.items()}
            extras["seed_mask"] = seed
            mask = sub[self.mask_key] & seed
            hops = {}
            if getattr(sub, "num_sampled_nodes", None) is not None and getattr(sub, "num_sampled_edges", None):
                hops = {
                    "num_sampled_nodes": list(sub.num_sampled_nodes),
                    "num_sampled_edges": list(sub.num_sampled_edges),
                }
            batch = Batch(sub.x, sub.edge_index, sub.y, mask, n_id=sub.n_id, extras=extras, num_targets=n, **hops)
            yield _pinned(batch) if self.pin_memory and sub.x.device.type == "cpu" else batch


def _pinned(batch: Batch) -> Batch:
    pin = lambda t: t.pin_memory() if isinstance(t, Tensor) else t  # noqa: E731
    return Batch(
        pin(batch.x),
        pin(batch.edge_index),
        pin(batch.y),
        pin(batch.mask),
        pin(batch.n_id),
        {k: pin(v) for k, v in batch.extras.items()},
        batch.num_targets,
        batch.num_sampled_nodes,
        batch.num_sampled_edges,
    )
