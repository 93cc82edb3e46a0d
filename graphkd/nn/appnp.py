"""APPNP: predict with an MLP, then propagate with personalised PageRank."""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from .base import Model
from .graph import Graph

__all__ = ["APPNP"]


def _propagate(h: Tensor, h0: Tensor, edge_index: Tensor, edge_weight: Tensor, size: int, alpha: float) -> Tensor:
    src, dst = edge_index
    # index_select, not h[src]: its backward sums in a fixed order on several CPU threads (see PLP)
    agg = h.new_zeros(size, h.size(1)).index_add_(0, dst, edge_weight.view(-1, 1) * h.index_select(0, src))
    return (1 - alpha) * agg + alpha * h0


class APPNP(Model):
    r"""Predict then propagate (`Gasteiger et al., ICLR 2019 <https://arxiv.org/abs/1810.05997>`_):
    an MLP gives :math:`\mathbf{H}^{(0)}`, then :math:`K` steps of

    .. math::
        \mathbf{H}^{(k+1)} = (1-\alpha)\,\hat{\mathbf{D}}^{-1/2}\hat{\mathbf{A}}\hat{\mathbf{D}}^{-1/2}
        \mathbf{H}^{(k)} + \alpha\,\mathbf{H}^{(0)}

    give the logits. ``return_hidden`` yields the MLP's hidden layers and the propagated logits.

    Args:
        K (int, optional): propagation steps (default: :obj:`10`).
        alpha (float, optional): teleport probability (default: :obj:`0.1`).
        **kwargs: the arguments of :class:`graphkd.nn.Model`.
    """

    def __init__(
        self, in_channels: int, hidden_channels: int, out_channels: int, *, K: int = 10, alpha: float = 0.1, **kwargs
    ) -> None:
        if K < 1 or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"APPNP needs K >= 1 and alpha in [0, 1], got K={K}, alpha={alpha}")
        self.K, self.alpha = K, alpha
        super().__init__(in_channels, hidden_channels, out_channels, **kwargs)

    def init_layer(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        return nn.Linear(in_channels, out_channels)

    def prepare(self, edge_index: Tensor | None, num_nodes: int) -> Graph:
        graph = Graph.from_edge_index(edge_index, num_nodes)
        ei, ew = gcn_norm(graph.edge_index, None, num_nodes, add_self_loops=True)
        return Graph(ei, num_nodes, ew)

    def apply_layer(self, i: int, x: Tensor, graph: Graph) -> Tensor:
        return self.layers[i](x)

    def finish(self, logits: Tensor, graph: Graph) -> Tensor:
        h = logits
        for _ in range(self.K):
            h = _propagate(h, logits, graph.edge_index, graph.edge_weight, graph.num_nodes, self.alpha)
        return h

    @property
    def finish_steps(self) -> int:  # the K propagation steps, each computable by rows
        return self.K

    def finish_rows(
        self, step: int, h: Tensor, logits: Tensor, graph: Graph, start: int, stop: int, batch_size: int
    ) -> Tensor:
        device = self._device()
        out = h.new_empty(stop - start, h.size(1))
        for c in graph.chunks(batch_size, start, stop):
            rows = slice(c.start, c.start + c.size)
            out[c.start - start : c.start - start + c.size] = _propagate(
                h[c.n_id].to(device),
                logits[rows].to(device),
                c.edge_index.to(device),
                c.edge_weight.to(device),
                c.size,
                self.alpha,
            ).to(out.device)
        return out

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, K={self.K}, alpha={self.alpha}"
