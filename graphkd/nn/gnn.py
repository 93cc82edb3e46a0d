"""Teacher GNNs over PyG's message-passing layers: GCN, GraphSAGE, GAT, GIN."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_remaining_self_loops

from .base import Model
from .graph import Graph, csr_rows

__all__ = ["GAT", "GCN", "GIN", "GNN", "GraphSAGE"]


class GNN(Model):
    r"""Base of the message-passing teachers: each layer is a PyG convolution.

    Subclasses override :meth:`init_layer` (build the convolution); GCN also overrides
    :meth:`prepare` to normalise the adjacency once per call. Layer-wise :meth:`inference` runs
    each convolution on one-hop chunks of target nodes with all their in-edges, which is exact
    for every layer here (GCN's normalisation is computed on the full graph first).
    """

    #: whether the layers aggregate by sparse-dense products over :meth:`Graph.adj_t` (much
    #: faster than gathering one feature row per edge); attention layers cannot.
    sparse_aggregation: bool = True

    def prepare(self, edge_index: Tensor | None, num_nodes: int) -> Graph:
        # Cached for the last edge_index seen: full-batch training passes the same tensor every
        # epoch. The cache holds that tensor (identity, not address) and its version counter, so
        # a new tensor or an in-place edit through torch rebuilds the graph (edits behind
        # autograd's back, via .data or .numpy(), are not seen: pass a new tensor after those).
        # Inference-mode tensors carry no version counter, so they are never cached.
        if edge_index.is_inference():
            return self.build_graph(edge_index, num_nodes)
        cached = self.__dict__.get("_graph_cache")
        if (
            cached is not None
            and cached[0] is edge_index
            and cached[1] == edge_index._version
            and cached[2] == num_nodes
        ):
            return cached[3]
        graph = self.build_graph(edge_index, num_nodes)
        self.__dict__["_graph_cache"] = (edge_index, edge_index._version, num_nodes, graph)
        return graph

    def __getstate__(self) -> dict:
        # The graph cache is derived data (and a sparse CSR tensor cannot be deep-copied): leave
        # it out of pickles, torch.save(model) and copy.deepcopy.
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        state.pop("_graph_cache", None)
        return state

    def build_graph(self, edge_index: Tensor, num_nodes: int) -> Graph:
        r"""Turns ``edge_index`` into the :class:`Graph` the layers consume (hook)."""
        return Graph.from_edge_index(edge_index, num_nodes)

    def apply_layer(self, i: int, x: Tensor, graph: Graph) -> Tensor:
        if self.sparse_aggregation:
            return self.layers[i](x, graph.adj_t())
        return self._conv(i, x, graph.edge_index, graph.edge_weight)

    def _conv(self, i: int, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> Tensor:
        return self.layers[i](x, edge_index)

    def _sparse_input(self, i: int, x: Tensor, batch_size: int) -> Tensor:
        r"""What the chunks of layer ``i`` read, on the model's device: the layer input."""
        return x.to(self._device())

    def _sparse_rows(self, i: int, x: Tensor, rows: Tensor, start: int, stop: int) -> Tensor:
        r"""Layer ``i``'s output for target nodes ``[start, stop)`` from the adjacency rows
        ``rows`` (``[stop - start, N]`` CSR) and :meth:`_sparse_input` ``x``: the convolution in
        its bipartite (source, target) form."""
        return self.layers[i]((x, x[start:stop]), rows)

    def layer_rows(self, i: int, x: Tensor, graph: Graph, start: int, stop: int, batch_size: int) -> Tensor:
        device = self._device()
        out = x.new_empty(stop - start, self.dims[i + 1])
        if self.sparse_aggregation:
            # rows [lo, hi) of the adjacency times the whole layer input: memory is one
            # layer's input and output plus one chunk, never a per-edge tensor
            x_dev = self._sparse_input(i, x, batch_size)
            adj = graph.adj_t()
            for lo in range(start, stop, batch_size):
                hi = min(lo + batch_size, stop)
                rows = csr_rows(adj, lo, hi).to(device)
                out[lo - start : hi - start] = self._sparse_rows(i, x_dev, rows, lo, hi).to(out.device)
            return out
        for chunk in graph.chunks(batch_size, start, stop):
            w = chunk.edge_weight.to(device) if chunk.edge_weight is not None else None
            y = self._conv(i, x[chunk.n_id].to(device), chunk.edge_index.to(device), w)
            out[chunk.start - start : chunk.start - start + chunk.size] = y[: chunk.size].to(out.device)
        return out


class GCN(GNN):
    r"""Graph convolutional network (`Kipf and Welling, ICLR 2017
    <https://arxiv.org/abs/1609.02907>`_):
    :math:`\mathbf{X}' = \hat{\mathbf{D}}^{-1/2}\hat{\mathbf{A}}\hat{\mathbf{D}}^{-1/2}\mathbf{X}\mathbf{W}`
    with :math:`\hat{\mathbf{A}} = \mathbf{A} + \mathbf{I}` (self-loops added here).

    Args are those of :class:`graphkd.nn.Model`.
    """

    def init_layer(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        return GCNConv(in_channels, out_channels, normalize=False)

    def build_graph(self, edge_index: Tensor, num_nodes: int) -> Graph:
        graph = super().build_graph(edge_index, num_nodes)
        ei, ew = gcn_norm(graph.edge_index, None, num_nodes, add_self_loops=True)
        return Graph(ei, num_nodes, ew)

    def _conv(self, i: int, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> Tensor:
        return self.layers[i](x, edge_index, edge_weight)

    def _sparse_input(self, i: int, x: Tensor, batch_size: int) -> Tensor:
        # GCNConv transforms before it aggregates: every node transformed once, chunk by chunk
        lin, device = self.layers[i].lin, self._device()
        out = torch.empty(x.size(0), self.dims[i + 1], device=device, dtype=x.dtype)
        for start in range(0, x.size(0), batch_size):
            out[start : start + batch_size] = lin(x[start : start + batch_size].to(device))
        return out

    def _sparse_rows(self, i: int, x: Tensor, rows: Tensor, start: int, stop: int) -> Tensor:
        out = torch.sparse.mm(rows, x)  # rows of the normalised adjacency times the transformed input
        bias = self.layers[i].bias
        return out + bias if bias is not None else out


class GraphSAGE(GNN):
    r"""GraphSAGE (`Hamilton et al., NeurIPS 2017 <https://arxiv.org/abs/1706.02216>`_).

    ``aggregator="mean"`` (PyG's default):
    :math:`\mathbf{x}'_i = \mathbf{W}_1\mathbf{x}_i + \mathbf{W}_2\,\mathrm{mean}_{j\in N(i)}\mathbf{x}_j`.
    ``aggregator="gcn"`` (the paper's GCN variant, DGL's ``"gcn"``, used by the GLNN teachers):
    :math:`\mathbf{x}'_i = \mathbf{W}\,\mathrm{mean}_{j\in N(i)\cup\{i\}}\mathbf{x}_j`.

    Args:
        aggregator (str, optional): ``"mean"`` or ``"gcn"`` (default: :obj:`"mean"`).
        **kwargs: the arguments of :class:`graphkd.nn.Model`.
    """

    trimmable = True

    AGGREGATORS = ("mean", "gcn")

    def __init__(
        self, in_channels: int, hidden_channels: int, out_channels: int, *, aggregator: str = "mean", **kwargs
    ) -> None:
        if aggregator not in self.AGGREGATORS:
            raise ValueError(f"Unknown aggregator {aggregator!r}; valid choices: {', '.join(self.AGGREGATORS)}")
        self.aggregator = aggregator
        super().__init__(in_channels, hidden_channels, out_channels, **kwargs)

    def init_layer(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        return SAGEConv(in_channels, out_channels, aggr="mean", root_weight=self.aggregator == "mean")

    def build_graph(self, edge_index: Tensor, num_nodes: int) -> Graph:
        graph = super().build_graph(edge_index, num_nodes)
        if self.aggregator == "gcn":
            ei, _ = add_remaining_self_loops(graph.edge_index, num_nodes=num_nodes)
            graph = Graph(ei, num_nodes)
        return graph

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, aggregator={self.aggregator}"


class GAT(GNN):
    r"""Graph attention network (`Veličković et al., ICLR 2018 <https://arxiv.org/abs/1710.10903>`_).

    Aggregates over edges (attention needs each edge's score), not by a sparse product.
    Hidden layers concatenate ``heads`` heads of ``hidden_channels // heads`` channels each; the
    last layer averages ``heads`` heads of ``out_channels``. Self-loops are added by the layer.

    Args:
        heads (int, optional): attention heads (default: :obj:`8`); must divide
            ``hidden_channels``.
        attention_dropout (float, optional): dropout on attention coefficients (default: :obj:`0.0`).
        **kwargs: the arguments of :class:`graphkd.nn.Model`.
    """

    sparse_aggregation = False
    trimmable = True

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        heads: int = 8,
        attention_dropout: float = 0.0,
        **kwargs,
    ) -> None:
        if heads < 1 or hidden_channels % heads:
            raise ValueError(f"heads={heads} must be >= 1 and divide hidden_channels={hidden_channels}")
        self.heads, self.attention_dropout = heads, attention_dropout
        super().__init__(in_channels, hidden_channels, out_channels, **kwargs)

    def init_layer(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        if last:
            return GATConv(in_channels, out_channels, heads=self.heads, concat=False, dropout=self.attention_dropout)
        return GATConv(in_channels, out_channels // self.heads, heads=self.heads, dropout=self.attention_dropout)


class GIN(GNN):
    r"""Graph isomorphism network (`Xu et al., ICLR 2019 <https://arxiv.org/abs/1810.00826>`_):
    :math:`\mathbf{x}'_i = \mathrm{MLP}\big((1+\epsilon)\mathbf{x}_i + \sum_{j\in N(i)}\mathbf{x}_j\big)`
    with a two-layer MLP per layer.

    Args:
        train_eps (bool, optional): learn :math:`\epsilon` (default: :obj:`False`).
        **kwargs: the arguments of :class:`graphkd.nn.Model`.
    """

    trimmable = True

    def __init__(
        self, in_channels: int, hidden_channels: int, out_channels: int, *, train_eps: bool = False, **kwargs
    ) -> None:
        self.train_eps = train_eps
        super().__init__(in_channels, hidden_channels, out_channels, **kwargs)

    def init_layer(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        mid = self.hidden_channels
        mlp = nn.Sequential(nn.Linear(in_channels, mid), nn.ReLU(), nn.Linear(mid, out_channels))
        return GINConv(mlp, train_eps=self.train_eps)
