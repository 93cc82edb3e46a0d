"""The MLP student: the model that answers without the graph."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .base import Model

__all__ = ["MLP"]


class MLP(Model):
    r"""A multi-layer perceptron on node features alone.

    It accepts and ignores ``edge_index``, so one training loop serves GNN teachers and MLP
    students. Args are those of :class:`graphkd.nn.Model`.
    """

    uses_graph = False

    def init_layer(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        return nn.Linear(in_channels, out_channels)

    def apply_layer(self, i: int, x: Tensor, graph: Any) -> Tensor:
        return self.layers[i](x)
