"""CPF's student: parameterised label propagation mixed per node with a feature transformation."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import add_self_loops, remove_self_loops
from torch_geometric.utils import softmax as edge_softmax

from ..resolver import resolve
from .base import check_positive_ints, check_rates
from .graph import Graph

__all__ = ["PLP", "PLP_VARIANTS", "UNSEEN_RULES", "NonZeros", "plp_inputs"]

#: how the confidence score :math:`c_u` of a node is obtained (CPF's ``--ptype``)
PLP_VARIANTS = {"ind": "ind", "tra": "tra"}
#: what a node without a learned row (a node unseen in training) gets for its per-node parameters
UNSEEN_RULES = {"mean": "mean", "zero": "zero"}
#: in training, features with at most this fraction of non-zeros are dropped out and multiplied
#: as a sparse matrix (the same distribution as dense dropout: a zero stays zero)
SPARSE_DENSITY = 0.1
#: features with at most this fraction of non-zeros (and more than :data:`SPARSE_DENSITY`) are
#: dropped out on their non-zeros only and scattered back into a dense matrix
NONZERO_DENSITY = 0.5


class NonZeros(NamedTuple):
    r"""The non-zero entries of a feature matrix, in row-major (CSR) order, as PLP's training
    dropout reads them: CSR row pointers, columns, values, the values rescaled by
    :math:`1 / (1 - p)`, flat positions in the dense matrix, and whether the dropped matrix is
    kept sparse (CSR) or scattered back into a dense one."""

    crow: Tensor
    col: Tensor
    values: Tensor
    scaled: Tensor
    flat: Tensor
    sparse: bool


def _exact_integer_limit(dtype: torch.dtype) -> int:
    # integers up to 2 / eps are represented exactly (2**24 for float32)
    return int(2 / torch.finfo(dtype).eps)


def plp_inputs(x: Tensor, num_classes: int, clamp_nodes: Tensor, clamp_labels: Tensor, table_index: Tensor) -> Tensor:
    r"""The input matrix :class:`PLP` reads: per node, its features, its label prior, whether it
    is clamped to that prior, and its row in PLP's per-node tables,

    .. math::
        \big[\, \mathbf{x}_v \;\|\; \mathbf{y}^{(0)}_v \;\|\; m_v \;\|\; r_v \,\big]
        \in \mathbb{R}^{F + C + 2},

    where :math:`\mathbf{y}^{(0)}_v` is the one-hot label of a clamped node (:math:`m_v = 1`)
    and the uniform :math:`\mathbf{1}/C` otherwise, and :math:`r_v` the row (``-1``: none, the
    node gets :class:`PLP`'s fallback). Only ``clamp_labels`` are read: nothing else of the
    graph's labels enters the student.

    Args:
        x (Tensor): node features ``[N, F]`` (floating point).
        num_classes (int): :math:`C`.
        clamp_nodes (Tensor): ids of the clamped (labelled training) nodes.
        clamp_labels (Tensor): their labels, in ``[0, C)``.
        table_index (Tensor): ``[N]`` integer rows in PLP's per-node tables, ``-1`` for none.

    Raises:
        ValueError: for inconsistent shapes, labels out of range, or more nodes than ``x``'s
            dtype can index exactly (2**24 for float32).
    """
    if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
        raise ValueError(f"x must be a 2-D floating-point tensor, got {getattr(x, 'shape', type(x).__name__)}")
    n = x.size(0)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    clamp_nodes, clamp_labels = clamp_nodes.long().flatten(), clamp_labels.long().flatten()
    if clamp_nodes.numel() != clamp_labels.numel():
        raise ValueError(f"{clamp_nodes.numel()} clamped nodes but {clamp_labels.numel()} labels")
    if clamp_nodes.numel() and (int(clamp_nodes.min()) < 0 or int(clamp_nodes.max()) >= n):
        raise ValueError(f"clamped node ids must lie in 0..{n - 1}")
    if clamp_labels.numel() and (int(clamp_labels.min()) < 0 or int(clamp_labels.max()) >= num_classes):
        raise ValueError(f"clamped labels must lie in 0..{num_classes - 1}")
    if table_index.shape != (n,):
        raise ValueError(f"table_index must have shape [{n}], got {list(table_index.shape)}")
    limit = _exact_integer_limit(x.dtype)
    if n >= limit or (table_index.numel() and int(table_index.max()) >= limit):
        raise ValueError(f"{n} nodes cannot be indexed exactly in {x.dtype}; cast x to torch.float64")
    prior = x.new_full((n, num_classes), 1.0 / num_classes)
    prior[clamp_nodes.to(x.device)] = F.one_hot(clamp_labels, num_classes).to(x)
    flag = x.new_zeros(n, 1)
    flag[clamp_nodes.to(x.device)] = 1.0
    return torch.cat([x, prior, flag, table_index.to(x).view(-1, 1)], dim=1)


class PLP(nn.Module):
    r"""CPF's student (`Yang et al., WWW 2021 <https://arxiv.org/abs/2103.02885>`_):
    parameterised label propagation (PLP) mixed per node with a feature transformation (FT).

    Starting from the label prior :math:`\mathbf{h}^{(0)} = \mathbf{Y}^{(0)}` (one-hot rows for
    the labelled training nodes, uniform rows elsewhere), each of the ``num_layers`` (:math:`K`)
    steps applies the **same** propagation and FT modules:

    .. math::
        c_u &= \langle \mathrm{dropout}(\mathbf{x}_u), \mathbf{a} \rangle
            \quad(\text{``ind''; ``tra'': } c_u = \mathrm{dropout}(e_u)\text{, a free scalar per node}) \\
        w_{uv} &= \mathrm{dropout}\Big(\frac{\exp c_u}{\sum_{u' \in \mathcal{N}(v) \cup \{v\}} \exp c_{u'}}\Big)
            \quad(\text{attention dropout}) \\
        \mathbf{h}^{(k)}_v &= \mathrm{ReLU}\Big(\alpha_v \sum_{u \in \mathcal{N}(v) \cup \{v\}}
            w_{uv}\, \mathbf{h}^{(k-1)}_u + (1 - \alpha_v)\, \mathrm{MLP}(\mathbf{x}_v)\Big),
            \qquad \alpha_v = \sigma(\beta_v) \\
        \mathbf{h}^{(k)}_v &= \mathbf{y}^{(0)}_v \quad \text{for every clamped node } v
            \text{ (after every step)}

    with :math:`\beta_v` a learned scalar per node (initialised to 0, so :math:`\alpha_v = 1/2`)
    and the FT MLP re-run at every step (fresh dropout in training; computed once in evaluation
    mode, where it is deterministic). The output :math:`\mathbf{h}^{(K)}` is returned as the
    logits: CPF predicts :math:`\log\mathrm{softmax}(\mathbf{h}^{(K)})`, so
    :math:`\mathrm{softmax}(\mathbf{h}^{(K)})` are its probabilities (the loss applies it).
    Clamped nodes output their one-hot label.

    **Inputs.** The model is a pure function of its input matrix and the graph. ``x`` holds per
    node ``[features (F) ‖ label prior (C) ‖ clamp flag (1) ‖ table row (1)]`` (build it with
    :func:`plp_inputs`; :class:`graphkd.distill.CPF` does so in its ``transform``), so
    :attr:`in_channels` is :math:`F + C + 2`. The table row selects the node's learned
    :math:`\beta_v` (and, for ``"tra"``, :math:`e_v`) among ``num_nodes`` rows; a node with
    row ``-1`` (e.g. a node held out in the inductive protocol) gets the ``unseen`` fallback:
    ``"mean"``, the mean of the learned values (the typical balance of the training graph), or
    ``"zero"``, the initial value (:math:`\alpha = 1/2`; for ``"tra"`` confidence 0).

    **The graph is needed at inference** (:attr:`uses_graph` is ``True``): the output at a node
    depends on its :math:`K`-hop neighbourhood (:attr:`num_layers` is :math:`K`, the hop count
    graphkd's latency harness fetches). Self-loops are added to ``edge_index`` (existing ones
    replaced, duplicate edges merged) so that each node's softmax runs over
    :math:`\mathcal{N}(v) \cup \{v\}`. PLP is not a :class:`graphkd.nn.Model` layer stack (its
    :math:`K` steps share one module) but keeps that contract: ``forward(x, edge_index)`` returns
    the logits (``return_hidden``: also every step's :math:`\mathbf{h}^{(k)}`), :meth:`inference`
    computes the same in evaluation mode, and it has ``in_channels``, ``out_channels``,
    ``num_layers`` and ``uses_graph``.

    Differences from CPF's released code (``models/PLP.py``): the computation is the same
    (``MLP2``: Linear → ReLU → Linear with dropout before each Linear; :math:`\mathbf{a}` and
    the ``"tra"`` scores Xavier-normal with the ReLU gain). Unseen nodes and their fallback are
    graphkd's (CPF is transductive only). In training, features with at most
    :data:`NONZERO_DENSITY` non-zeros (bag-of-words) are dropped out on their non-zeros only,
    and multiplied as a sparse CSR matrix when at most :data:`SPARSE_DENSITY` are non-zero: the
    same distribution as dense dropout (a zero stays zero) but other random draws, at a fraction
    of the cost (dense dropout of the :math:`2K` feature matrices took 80% of a training step on
    Cora, and 75% on cpf-a-computer with its 35% non-zeros).

    Args:
        num_features (int): :math:`F`, the node features' width.
        hidden_channels (int): the FT MLP's hidden width (CPF's ``emb_dim``).
        out_channels (int): :math:`C`, the number of classes.
        num_nodes (int): rows of the per-node tables (the nodes of the training graph).
        num_layers (int, optional): :math:`K`, propagation steps (default: :obj:`8`).
        dropout (float, optional): feature dropout of the confidence scores and the FT MLP
            (CPF's ``feat_drop``), in ``[0, 1)`` (default: :obj:`0.8`).
        attention_dropout (float, optional): dropout on :math:`w_{uv}` (CPF's ``attn_drop``), in
            ``[0, 1)`` (default: :obj:`0.2`).
        variant (str, optional): ``"ind"`` (confidence from features, CPF-ind) or ``"tra"``
            (a free confidence per node, CPF-tra) (default: :obj:`"ind"`).
        mlp_layers (int, optional): layers of the FT MLP (default: :obj:`2`).
        unseen (str, optional): the per-node fallback, ``"mean"`` or ``"zero"`` (default:
            :obj:`"mean"`).

    Shapes:
        - **input:** ``x`` :math:`(N, F + C + 2)`, ``edge_index`` :math:`(2, E)`
        - **output:** logits :math:`(N, C)`, non-negative
    """

    uses_graph: bool = True
    trimmable: bool = False

    def __init__(
        self,
        num_features: int,
        hidden_channels: int,
        out_channels: int,
        num_nodes: int,
        num_layers: int = 8,
        dropout: float = 0.8,
        attention_dropout: float = 0.2,
        variant: str = "ind",
        mlp_layers: int = 2,
        unseen: str = "mean",
    ) -> None:
        super().__init__()
        check_positive_ints(
            num_features=num_features,
            hidden_channels=hidden_channels,
            out_channels=out_channels,
            num_nodes=num_nodes,
            num_layers=num_layers,
            mlp_layers=mlp_layers,
        )
        check_rates(dropout=dropout, attention_dropout=attention_dropout)
        self.variant = resolve(variant, PLP_VARIANTS, "PLP variant")
        self.unseen = resolve(unseen, UNSEEN_RULES, "unseen-node rule")
        self.num_features, self.hidden_channels, self.out_channels = num_features, hidden_channels, out_channels
        self.in_channels = num_features + out_channels + 2
        self.num_nodes, self.num_layers, self.mlp_layers = num_nodes, num_layers, mlp_layers
        self.dropout, self.attention_dropout = float(dropout), float(attention_dropout)
        dims = [num_features] + [hidden_channels] * (mlp_layers - 1) + [out_channels]
        self.ft = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(mlp_layers))
        self.beta = nn.Parameter(torch.zeros(num_nodes))
        gain = nn.init.calculate_gain("relu")
        if self.variant == "ind":
            self.attention = nn.Parameter(nn.init.xavier_normal_(torch.empty(1, num_features), gain=gain))
        else:
            self.node_confidence = nn.Parameter(nn.init.xavier_normal_(torch.empty(num_nodes, 1), gain=gain))

    # -- pieces ------------------------------------------------------------------------------
    def split_inputs(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        r"""``(features, prior, clamped, rows)`` of an input matrix (see :func:`plp_inputs`);
        ``clamped`` is boolean, ``rows`` integer (``-1``: no learned row)."""
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"PLP expects x of shape [num_nodes, {self.in_channels}] (features {self.num_features} + label prior "
                f"{self.out_channels} + clamp flag + table row; see plp_inputs), got {shape}"
            )
        if x.dtype != self.beta.dtype:
            raise ValueError(
                f"PLP has {self.beta.dtype} parameters but x is {x.dtype}; cast with x.to({self.beta.dtype})"
            )
        f, c = self.num_features, self.out_channels
        rows = x[:, -1].round().long()
        if rows.numel() and (int(rows.min()) < -1 or int(rows.max()) >= self.num_nodes):
            raise ValueError(f"PLP's table rows must lie in -1..{self.num_nodes - 1} (x's last column)")
        return x[:, :f], x[:, f : f + c], x[:, f + c] > 0.5, rows

    def _per_node(self, table: Tensor, rows: Tensor) -> Tensor:
        # a node's learned value, or the fallback for rows of -1
        fallback = table.mean() if self.unseen == "mean" else table.new_zeros(())
        seen = rows >= 0
        return torch.where(seen, table[rows.clamp_min(0)], fallback)

    def alpha(self, rows: Tensor) -> Tensor:
        r""":math:`\alpha_v = \sigma(\beta_v)` of the nodes with table ``rows``."""
        return torch.sigmoid(self._per_node(self.beta, rows))

    def confidence(self, features: Tensor, rows: Tensor, nonzeros: NonZeros | None = None) -> Tensor:
        r"""The confidence score :math:`c_u` of every node (dropout in training mode;
        ``nonzeros``: the features' non-zero entries, from :meth:`nonzeros`)."""
        if self.variant == "ind":
            return _matmul(self._dropped(features, nonzeros), self.attention.view(-1, 1)).view(-1)
        e = self._per_node(self.node_confidence.view(-1), rows)
        return F.dropout(e, self.dropout, self.training)

    def transformation(self, features: Tensor, nonzeros: NonZeros | None = None) -> Tensor:
        r"""The FT MLP on the features: Linear → (ReLU → Linear)*, with dropout before each
        linear layer."""
        first = self.ft[0]
        h = _matmul(self._dropped(features, nonzeros), first.weight.t()) + first.bias
        for layer in self.ft[1:]:
            h = layer(F.dropout(torch.relu(h), self.dropout, self.training))
        return h

    def nonzeros(self, features: Tensor) -> NonZeros | None:
        r"""The non-zero entries of features with at most :data:`NONZERO_DENSITY` non-zeros in
        training mode with dropout (sparse, at most :data:`SPARSE_DENSITY`: multiplied as CSR),
        else ``None`` (dense dropout)."""
        if not self.training or self.dropout == 0:
            return None
        count = int(torch.count_nonzero(features))
        if count > NONZERO_DENSITY * features.numel():
            return None
        row, col = features.nonzero().t()  # row-major order: CSR's
        crow = torch.zeros(features.size(0) + 1, dtype=torch.long, device=features.device)
        torch.cumsum(torch.bincount(row, minlength=features.size(0)), 0, out=crow[1:])
        values = features[row, col]
        scaled = values * (1.0 / (1.0 - self.dropout))
        flat = row * features.size(1) + col
        return NonZeros(crow, col, values, scaled, flat, count <= SPARSE_DENSITY * features.numel())

    def _dropped(self, features: Tensor, nonzeros: NonZeros | None) -> Tensor:
        if nonzeros is None:
            return F.dropout(features, self.dropout, self.training)
        # dropout of the non-zeros only (a zero stays zero): a uniform draw per entry, kept with
        # probability 1 - p and rescaled, as F.dropout, at a third of its cost on CPU
        scaled = nonzeros.scaled
        kept = scaled * torch.rand_like(scaled).ge_(self.dropout)
        if not nonzeros.sparse:
            return features.new_zeros(features.numel()).index_put_((nonzeros.flat,), kept).view(features.shape)
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(nonzeros.crow, nonzeros.col, kept, features.shape, check_invariants=False)

    def edge_weights(self, confidence: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
        r""":math:`w_{uv}`: the softmax of the sources' confidence over each target's in-edges
        (``edge_index`` with self-loops), then attention dropout."""
        src, dst = edge_index
        w = edge_softmax(confidence.index_select(0, src), dst, num_nodes=num_nodes)
        return F.dropout(w, self.attention_dropout, self.training)

    def prepare(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        r"""``edge_index`` checked, deduplicated, with exactly one self-loop per node."""
        graph = Graph.from_edge_index(edge_index, num_nodes)
        ei, _ = remove_self_loops(graph.edge_index)
        ei, _ = add_self_loops(ei, num_nodes=num_nodes)
        return ei

    # -- the contract ------------------------------------------------------------------------
    def forward(
        self,
        x: Tensor,
        edge_index: Tensor | None = None,
        return_hidden: bool = False,
        num_sampled_nodes: list[int] | None = None,
        num_sampled_edges: list[int] | None = None,
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        r"""Logits :math:`\mathbf{h}^{(K)}` (and with ``return_hidden`` every step's
        :math:`\mathbf{h}^{(k)}`, the last being the logits). ``num_sampled_nodes`` /
        ``num_sampled_edges`` are accepted and ignored: PLP runs on the whole batch graph (a
        node's output is exact when the batch holds its :math:`K`-hop neighbourhood)."""
        if edge_index is None:
            raise ValueError("PLP needs edge_index: label propagation reads the graph, at inference too")
        features, prior, clamped, rows = self.split_inputs(x)
        n = x.size(0)
        ei = self.prepare(edge_index.to(x.device), n)
        src, dst = ei
        alpha = self.alpha(rows).view(-1, 1)
        keep = clamped.view(-1, 1)
        nz = self.nonzeros(features)
        fixed = None if self.training else (self.confidence(features, rows), self.transformation(features))
        h, hidden = prior, []
        for _ in range(self.num_layers):
            conf, ft = fixed or (self.confidence(features, rows, nz), self.transformation(features, nz))
            w = self.edge_weights(conf, ei, n)
            # index_select, not h[src]: its backward (index_add_) sums in a fixed order, where the
            # backward of h[src] (an accumulating index_put_) does not on several CPU threads
            prop = h.new_zeros(h.shape).index_add_(0, dst, w.view(-1, 1) * h.index_select(0, src))
            h = torch.relu(alpha * prop + (1 - alpha) * ft)
            h = torch.where(keep, prior, h)
            hidden.append(h)
        return (h, hidden) if return_hidden else h

    @torch.no_grad()
    def inference(
        self, x: Tensor, edge_index: Tensor | None = None, batch_size: int = 65536, return_hidden: bool = False
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        r""":meth:`forward` in evaluation mode with inputs anywhere: they are moved to the
        model's device and the outputs back to ``x``'s. The FT MLP runs over ``batch_size``
        nodes at a time; propagation is over the whole graph (:math:`O(E \cdot C)` memory)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if edge_index is None:
            raise ValueError("PLP needs edge_index: label propagation reads the graph, at inference too")
        was_training = self.training
        self.eval()
        try:
            device = self._device()
            features, prior, clamped, rows = self.split_inputs(x)
            n = x.size(0)
            ft = torch.cat([self.transformation(c.to(device)) for c in features.split(batch_size)])
            features, prior, clamped, rows = (t.to(device) for t in (features, prior, clamped, rows))
            ei = self.prepare(edge_index.to(device), n)
            src, dst = ei
            w = self.edge_weights(self.confidence(features, rows), ei, n).view(-1, 1)
            alpha, keep = self.alpha(rows).view(-1, 1), clamped.view(-1, 1)
            h, hidden = prior, []
            for _ in range(self.num_layers):
                prop = h.new_zeros(h.shape).index_add_(0, dst, w * h.index_select(0, src))
                h = torch.where(keep, prior, torch.relu(alpha * prop + (1 - alpha) * ft))
                hidden.append(h.to(x.device))
        finally:
            self.train(was_training)
        out = hidden[-1]
        return (out, hidden) if return_hidden else out

    def _device(self) -> torch.device:
        return self.beta.device

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, {self.hidden_channels}, {self.out_channels}, num_nodes={self.num_nodes}, "
            f"num_layers={self.num_layers}, dropout={self.dropout}, attention_dropout={self.attention_dropout}, "
            f"variant={self.variant!r}, mlp_layers={self.mlp_layers}, unseen={self.unseen!r}"
        )


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    # dense, or sparse CSR (whose product with a dense matrix back-propagates into the latter)
    return a @ b
