"""The base of every graphkd model: a stack of layers with one forward/inference contract."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..resolver import resolve

__all__ = ["ACTIVATIONS", "NORMS", "Model"]

NORMS: dict[str, Any] = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm, "none": None}
ACTIVATIONS: dict[str, Any] = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky-relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
}


def check_positive_ints(**values: Any) -> None:
    r"""Raises :class:`ValueError` naming the first argument that is not a positive integer."""
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")


def check_rates(**values: Any) -> None:
    r"""Raises :class:`ValueError` naming the first argument (a dropout rate) outside ``[0, 1)``."""
    for key, value in values.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
            raise ValueError(f"{key} must lie in [0, 1), got {value!r}")


class Model(nn.Module):
    r"""A stack of ``num_layers`` layers ``in → hidden → … → out`` with, after each hidden layer,
    an optional residual connection, normalisation, activation and dropout.

    Subclasses build one layer in :meth:`init_layer` and apply it in :meth:`apply_layer`;
    graph models also turn ``edge_index`` into what their layers consume in :meth:`prepare`.

    Contract shared by teachers and students:

    * ``forward(x, edge_index=None)`` returns raw logits ``[N, out_channels]``;
    * ``forward(..., return_hidden=True)`` returns ``(logits, [h_1, …, h_L])`` where ``h_l`` is
      layer ``l``'s output after residual, norm and activation (before dropout) and
      ``h_L`` is the logits;
    * ``inference(x, edge_index)`` computes the same in evaluation mode, one layer at a time
      over chunks of nodes, so memory scales with one layer's activations.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size.
        out_channels (int): number of classes (size of the logits).
        num_layers (int, optional): number of layers (default: :obj:`2`).
        dropout (float, optional): dropout after each hidden layer (default: :obj:`0.5`).
        norm (str, optional): ``"batch"``, ``"layer"`` or ``None`` (default: :obj:`None`).
        residual (bool, optional): add each hidden → hidden layer's input to its output
            (default: :obj:`False`).
        act (str, optional): activation, one of ``relu``, ``elu``, ``gelu``, ``leaky-relu``,
            ``tanh`` (default: :obj:`"relu"`).
    """

    uses_graph: bool = True
    #: whether :meth:`forward` may trim neighbour-sampled batches layer by layer (exact for the
    #: seeds when a layer's output at a node depends only on that node's in-edges)
    trimmable: bool = False

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 2,
        dropout: float = 0.5,
        norm: str | None = None,
        residual: bool = False,
        act: str = "relu",
    ) -> None:
        super().__init__()
        check_positive_ints(
            in_channels=in_channels, hidden_channels=hidden_channels, out_channels=out_channels, num_layers=num_layers
        )
        check_rates(dropout=dropout)
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout, self.residual = num_layers, dropout, residual
        self.norm_name = "none" if norm is None else norm
        norm_cls = resolve(self.norm_name, NORMS, "norm")
        self.act = resolve(act, ACTIVATIONS, "activation")()
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.dims = dims
        self.layers = nn.ModuleList(
            self.init_layer(dims[i], dims[i + 1], i == num_layers - 1) for i in range(num_layers)
        )
        self.norms = nn.ModuleList(
            norm_cls(hidden_channels) if norm_cls is not None else nn.Identity() for _ in range(num_layers - 1)
        )

    # -- hooks ------------------------------------------------------------------------------
    def init_layer(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        raise NotImplementedError

    def prepare(self, edge_index: Tensor | None, num_nodes: int) -> Any:
        r"""Turns ``edge_index`` into the graph the layers consume (once per call)."""
        return edge_index

    def apply_layer(self, i: int, x: Tensor, graph: Any) -> Tensor:
        raise NotImplementedError

    def apply_layer_chunked(self, i: int, x: Tensor, graph: Any, batch_size: int) -> Tensor:
        r"""Layer ``i`` over all nodes, ``batch_size`` target nodes at a time."""
        return self.layer_rows(i, x, graph, 0, x.size(0), batch_size)

    def layer_rows(self, i: int, x: Tensor, graph: Any, start: int, stop: int, batch_size: int) -> Tensor:
        r"""Layer ``i``'s output (before residual, norm and activation) for the target nodes
        ``[start, stop)``, from the layer input ``x`` of every node, ``batch_size`` targets at a
        time: the unit of layer-wise :meth:`inference` and of its sharded form
        (:func:`graphkd.distributed.sharded_teacher_outputs`, one node range per process).
        Node-wise layers (MLPs) read only ``x[start:stop]``; graph layers override this."""
        device = self._device()
        chunks = x[start:stop].split(batch_size)
        if not chunks:
            return x.new_empty(0, self.dims[i + 1])
        return torch.cat([self.apply_layer(i, c.to(device), graph).to(x.device) for c in chunks])

    # -- shared logic -----------------------------------------------------------------------
    def _post(self, i: int, x: Tensor, out: Tensor) -> Tensor:
        if self.residual and i > 0 and out.shape == x.shape:
            out = out + x
        return self.act(self.norms[i](out))

    def _check_input(self, x: Tensor, edge_index: Tensor | None) -> None:
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"{type(self).__name__} expects x of shape [num_nodes, {self.in_channels}], got {shape}")
        dtype = next(self.parameters()).dtype
        if x.dtype != dtype:
            raise ValueError(
                f"{type(self).__name__} has {dtype} parameters but x is {x.dtype}; cast with x.to({dtype})"
            )
        if self.uses_graph and edge_index is None:
            raise ValueError(f"{type(self).__name__} needs edge_index; only MLP students run without a graph")

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor | None = None,
        return_hidden: bool = False,
        num_sampled_nodes: list[int] | None = None,
        num_sampled_edges: list[int] | None = None,
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        r"""Logits (and with ``return_hidden`` every layer's output).

        ``num_sampled_nodes``/``num_sampled_edges`` (per hop, as neighbour-sampled batches carry
        them, nodes and edges ordered by hop) let layer-trimming models (:attr:`trimmable`) skip
        what cannot reach the seeds: layer ``i`` runs only on the nodes of the first
        ``hops - i`` hops and the edges into them. The seeds' logits are unchanged; the other
        rows of the output are then only those of the nodes the last layer still covers. Ignored
        with ``return_hidden`` (every layer keeps every row) and by models that cannot trim.
        """
        self._check_input(x, edge_index)
        if self.trimmable and num_sampled_nodes is not None and num_sampled_edges is not None and not return_hidden:
            return self._trimmed_forward(x, edge_index, num_sampled_nodes, num_sampled_edges)
        graph = self.prepare(edge_index, x.size(0)) if self.uses_graph else None
        hidden: list[Tensor] = []
        h = x
        for i in range(self.num_layers):
            out = self.apply_layer(i, h, graph)
            if i < self.num_layers - 1:
                out = self._post(i, h, out)
                h = nn.functional.dropout(out, self.dropout, self.training)
            hidden.append(out)
        out = self.finish(out, graph)
        hidden[-1] = out
        return (out, hidden) if return_hidden else out

    def _trimmed_forward(
        self, x: Tensor, edge_index: Tensor, num_sampled_nodes: list[int], num_sampled_edges: list[int]
    ) -> Tensor:
        hops = len(num_sampled_edges)
        if len(num_sampled_nodes) != hops + 1 or sum(num_sampled_nodes) != x.size(0):
            raise ValueError(
                f"num_sampled_nodes {num_sampled_nodes} / num_sampled_edges {num_sampled_edges} do not describe "
                f"a hop-ordered batch of {x.size(0)} nodes"
            )
        h = x
        for i in range(self.num_layers):
            keep_hops = max(hops - i, 1)  # the last layer still needs the edges into the seeds
            n, e = sum(num_sampled_nodes[: keep_hops + 1]), sum(num_sampled_edges[:keep_hops])
            h = h[:n]
            graph = self.prepare(edge_index[:, :e], n)
            out = self.apply_layer(i, h, graph)
            if i < self.num_layers - 1:
                out = nn.functional.dropout(self._post(i, h, out), self.dropout, self.training)
            h = out
        return h

    def finish(self, logits: Tensor, graph: Any) -> Tensor:
        r"""A last step after the layer stack (APPNP's propagation); identity by default."""
        return logits

    def finish_chunked(self, logits: Tensor, graph: Any, batch_size: int) -> Tensor:
        if self.finish_steps == 0:
            return self.finish(logits, graph)
        h = logits
        for step in range(self.finish_steps):
            h = self.finish_rows(step, h, logits, graph, 0, graph.num_nodes, batch_size)
        return h

    #: how many whole-graph steps :meth:`finish` takes after the layer stack (APPNP: ``K``), each
    #: computable by rows with :meth:`finish_rows`; 0 when :meth:`finish` is the identity
    finish_steps: int = 0

    def finish_rows(
        self, step: int, h: Tensor, logits: Tensor, graph: Any, start: int, stop: int, batch_size: int
    ) -> Tensor:
        r"""Rows ``[start, stop)`` of finishing step ``step`` from the previous step's output
        ``h`` of every node and the layer stack's ``logits`` (models with :attr:`finish_steps`)."""
        raise NotImplementedError(f"{type(self).__name__} has no finishing steps")

    @torch.no_grad()
    def inference(
        self,
        x: Tensor,
        edge_index: Tensor | None = None,
        batch_size: int = 65536,
        return_hidden: bool = False,
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        r"""Full-graph inference in evaluation mode, one layer at a time over node chunks.

        ``x`` and ``edge_index`` may stay on the CPU while the model is on a GPU: each chunk's
        inputs are moved to the model's device and its outputs back to ``x``'s device, so the
        device holds one chunk, not the graph. Equals ``forward`` in eval mode.

        Args:
            x (Tensor): node features ``[N, in_channels]``.
            edge_index (Tensor, optional): the graph (ignored by MLPs).
            batch_size (int, optional): target nodes per chunk (default: :obj:`65536`).
            return_hidden (bool, optional): also return every layer's output (default: :obj:`False`).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._check_input(x, edge_index)
        was_training = self.training
        self.eval()
        try:
            graph = self.prepare(edge_index, x.size(0)) if self.uses_graph else None
            hidden: list[Tensor] = []
            h = x
            for i in range(self.num_layers):
                out = self.apply_layer_chunked(i, h, graph, batch_size)
                if i < self.num_layers - 1:
                    out = self._post_chunked(i, h, out, batch_size)
                    h = out
                hidden.append(out)
            out = self.finish_chunked(out, graph, batch_size)
            hidden[-1] = out
        finally:
            self.train(was_training)
        return (out, hidden) if return_hidden else out

    def _post_chunked(self, i: int, x: Tensor, out: Tensor, batch_size: int) -> Tensor:
        # in place, chunk by chunk: no second copy of the layer's output
        device = self._device()
        for xc, oc in zip(x.split(batch_size), out.split(batch_size), strict=True):
            oc.copy_(self._post(i, xc.to(device), oc.to(device)))
        return out

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, num_layers={self.num_layers}, "
            f"dropout={self.dropout}, norm={self.norm_name}, residual={self.residual}"
        )
