r"""Positional node features: structural embeddings appended to the node features, with a
one-hop lookup for nodes that were not in the graph they were learned on."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from ..datasets.validate import node_ids
from .deepwalk import check_backend, deepwalk

__all__ = ["PositionalFeatures"]


class PositionalFeatures:
    r"""DeepWalk embeddings :math:`\mathbf{P}` (:func:`~graphkd.features.deepwalk`) learned on a
    graph and appended to its node features, :math:`[\mathbf{X} \,\|\, \mathbf{P}]`, as NOSMOG
    (`Tian et al., ICLR 2023 <https://arxiv.org/abs/2208.10010>`_) feeds its MLP student.

    A node that was not in the graph the embeddings were learned on (an inductive test node)
    gets the mean embedding of its neighbours that were, or zeros if it has none:

    .. math::
        \mathbf{p}_v = \frac{1}{|\mathcal{N}(v) \cap \mathcal{V}_{obs}|}
            \sum_{u \in \mathcal{N}(v) \cap \mathcal{V}_{obs}} \mathbf{p}_u .

    That is a one-hop lookup in the graph at inference time: a student on positional features
    answers a new node from its features **and its neighbours' ids**, not from features alone.

    Example::

        pos = PositionalFeatures(embedding_dim=64).fit(observed, seed=0)
        student_graph = pos.transform(observed)                        # x: [N, F + 64]
        full_graph = pos.transform(full, observed_nodes=split.observed_ids)      # unseen nodes: neighbour mean

    Args:
        embedding_dim (int, optional): width of :math:`\mathbf{P}` (default: :obj:`64`).
        **deepwalk_kwargs: further arguments of :func:`~graphkd.features.deepwalk`
            (``walk_length``, ``walks_per_node``, ``window``, ``epochs``, ``negatives``,
            ``batch_size``, ``lr``, ``self_loops``, ``backend``).
    """

    #: the :func:`~graphkd.features.deepwalk` arguments it passes on
    DEEPWALK_ARGS = (
        "walk_length",
        "walks_per_node",
        "window",
        "epochs",
        "negatives",
        "batch_size",
        "lr",
        "self_loops",
        "backend",
    )

    def __init__(self, embedding_dim: int = 64, **deepwalk_kwargs: Any) -> None:
        unknown = sorted(set(deepwalk_kwargs) - set(self.DEEPWALK_ARGS))
        if unknown:
            raise ValueError(f"Unknown DeepWalk argument(s) {unknown}; valid: {', '.join(sorted(self.DEEPWALK_ARGS))}")
        if not isinstance(embedding_dim, int) or embedding_dim < 1:
            raise ValueError(f"embedding_dim must be a positive integer, got {embedding_dim!r}")
        check_backend(deepwalk_kwargs.get("backend", "torch"))  # before any training, not at fit time
        self.embedding_dim = embedding_dim
        self.deepwalk_kwargs = deepwalk_kwargs

    def fit(self, data: Data, seed: int = 0) -> PositionalFeatures:
        r"""Learns the embeddings of ``data``'s nodes from its edges (features and labels unused)."""
        self.embedding_ = deepwalk(
            data.edge_index, data.num_nodes, self.embedding_dim, seed=seed, **self.deepwalk_kwargs
        )
        return self

    def embed(self, data: Data, observed_nodes: Tensor | None = None) -> Tensor:
        r"""The positional features of ``data``'s nodes.

        Args:
            data (Data): the graph the embeddings were learned on, or a larger one that contains it.
            observed_nodes (Tensor, optional): for a larger graph, the ids in ``data`` of the
                nodes the embeddings were learned on, in their order (boolean mask or ids; e.g.
                :attr:`graphkd.datasets.InductiveSplit.observed_ids`). The other nodes get
                their observed neighbours' mean.
        """
        if not hasattr(self, "embedding_"):
            raise ValueError("PositionalFeatures is not fitted; call fit(data) first")
        emb = self.embedding_
        if observed_nodes is None:
            if data.num_nodes != emb.size(0):
                raise ValueError(
                    f"the embeddings cover {emb.size(0)} nodes but the graph has {data.num_nodes}; pass "
                    "observed_nodes to place them in a larger graph"
                )
            return emb.clone()
        ids = node_ids(observed_nodes, data.num_nodes, "observed_nodes").cpu()
        if ids.unique().numel() != ids.numel():
            raise ValueError("observed_nodes holds repeated ids")
        if ids.numel() != emb.size(0):
            raise ValueError(f"observed_nodes has {ids.numel()} nodes but the embeddings cover {emb.size(0)}")
        seen = torch.zeros(data.num_nodes, dtype=torch.bool)
        seen[ids] = True
        out = torch.zeros(data.num_nodes, emb.size(1))
        out[ids] = emb
        src, dst = data.edge_index.cpu()
        into_new = seen[src] & ~seen[dst]  # observed neighbour -> unseen node
        if bool(into_new.any()):
            mean = scatter(out[src[into_new]], dst[into_new], dim=0, dim_size=data.num_nodes, reduce="mean")
            out[~seen] = mean[~seen]
        return out

    def transform(self, data: Data, observed_nodes: Tensor | None = None) -> Data:
        r"""A shallow copy of ``data`` whose features are :math:`[\mathbf{X} \,\|\, \mathbf{P}]`
        (see :meth:`embed`)."""
        out = copy.copy(data)
        out.x = torch.cat([data.x, self.embed(data, observed_nodes).to(data.x.device, data.x.dtype)], dim=1)
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.deepwalk_kwargs.items())
        return f"PositionalFeatures(embedding_dim={self.embedding_dim}{', ' + args if args else ''})"
