"""CPF's student: parameterised label propagation mixed per node with a feature transformation."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import add_self_loops, remove_self_loops
from torch_geometric.utils import softmax as edge_softmax

from ..resolver import resolve
from ..utils.memo import memo_per_tensor
from .base import check_positive_ints, check_rates
from .graph import Graph
from .sparse import CSRLayout, sparse_matmul

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
    dropout reads them: their values, the values rescaled by :math:`1 / (1 - p)`, their flat
    positions in the dense matrix, whether the dropped matrix is multiplied sparse (CSR) or
    scattered back into a dense one, and their :class:`CSRLayout`."""

    values: Tensor
    scaled: Tensor
    flat: Tensor
    sparse: bool
    layout: CSRLayout


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
    Cora, and 75% on cpf-a-computer with its 35% non-zeros). Every dropout draws uniforms, not
    Bernoulli variables (the same distribution, other draws). The propagation is a CSR product
    (:func:`graphkd.nn.sparse.sparse_matmul`) over the edges sorted by target, and a full-batch
    step finds the features' non-zeros and the graph's layout once for its input tensors. A
    training step of the CPF recipes' PLP on 2 threads: cpf-cora 74 → 31 ms, cpf-a-photo 0.49 →
    0.36 s, cpf-a-computer 1.71 → 1.27 s (``benchmarks/plp_step.py`` compares the products);
    its results equal the earlier ones in distribution, not bit for bit.

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
        if self.variant == "ind":
            self.attention = nn.Parameter(torch.empty(1, num_features))
        else:
            self.node_confidence = nn.Parameter(torch.empty(num_nodes, 1))
        self._init_confidence()

    def reset_parameters(self) -> None:
        r"""Draws new initial weights, as at construction (the FT layers' default init, zero
        :math:`\beta`, Xavier-normal confidence weights)."""
        for lin in self.ft:
            lin.reset_parameters()
        with torch.no_grad():
            self.beta.zero_()
        self._init_confidence()

    def _init_confidence(self) -> None:
        gain = nn.init.calculate_gain("relu")
        table = self.attention if self.variant == "ind" else self.node_confidence
        nn.init.xavier_normal_(table, gain=gain)

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
            return self._dropped_matmul(features, nonzeros, self.attention.view(-1, 1)).view(-1)
        e = self._per_node(self.node_confidence.view(-1), rows)
        return _dropout(e, self.dropout, self.training)

    def transformation(self, features: Tensor, nonzeros: NonZeros | None = None) -> Tensor:
        r"""The FT MLP on the features: Linear → (ReLU → Linear)*, with dropout before each
        linear layer."""
        first = self.ft[0]
        h = self._dropped_matmul(features, nonzeros, first.weight.t()) + first.bias
        for layer in self.ft[1:]:
            h = layer(_dropout(torch.relu(h), self.dropout, self.training))
        return h

    def nonzeros(self, features: Tensor) -> NonZeros | None:
        r"""The non-zero entries of features with at most :data:`NONZERO_DENSITY` non-zeros in
        training mode with dropout (sparse, at most :data:`SPARSE_DENSITY`: multiplied as CSR),
        else ``None`` (dense dropout; also for features that require a gradient)."""
        if not self.training or self.dropout == 0 or features.requires_grad:
            return None
        count = int(torch.count_nonzero(features))
        if count > NONZERO_DENSITY * features.numel():
            return None
        (n, f) = features.shape
        layout, _ = CSRLayout.from_coo(*features.nonzero().t(), (n, f))
        values = features[layout.row, layout.col]
        scaled = values * (1.0 / (1.0 - self.dropout))
        sparse = count <= SPARSE_DENSITY * features.numel()
        return NonZeros(values, scaled, layout.row * f + layout.col, sparse, layout)

    def _reused_nonzeros(self, x: Tensor, features: Tensor) -> NonZeros | None:
        # the non-zeros of the input of the previous training step, when this is the same tensor
        # unmodified (full-batch training passes one input every step): finding them took ~100 ms
        # of a 1.8 s step on cpf-a-computer
        if not self.training or self.dropout == 0:
            return None
        return memo_per_tensor(
            "plp.nonzeros", x, (self.dropout, features.shape, x.requires_grad), lambda: self.nonzeros(features)
        )

    def _dropped(self, features: Tensor, nonzeros: NonZeros | None) -> Tensor:
        # the features after dropout, dense
        if nonzeros is None:
            return _dropout(features, self.dropout, self.training)
        return (
            features.new_zeros(features.numel()).index_put_((nonzeros.flat,), self._kept(nonzeros)).view(features.shape)
        )

    def _kept(self, nonzeros: NonZeros) -> Tensor:
        # dropout of the non-zeros only (a zero stays zero): a uniform draw per entry, kept with
        # probability 1 - p and rescaled, as F.dropout, at a third of its cost on CPU
        return nonzeros.scaled * torch.rand_like(nonzeros.scaled).ge_(self.dropout)

    def _dropped_matmul(self, features: Tensor, nonzeros: NonZeros | None, weight: Tensor) -> Tensor:
        # dropout(features) @ weight: sparse (CSR) when the non-zeros are given and sparse
        if nonzeros is None or not nonzeros.sparse:
            return self._dropped(features, nonzeros) @ weight
        return sparse_matmul(self._kept(nonzeros), nonzeros.layout, weight)

    def edge_weights(self, confidence: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
        r""":math:`w_{uv}`: the softmax of the sources' confidence over each target's in-edges
        (``edge_index`` with self-loops), then attention dropout."""
        return self._weights(confidence, *edge_index, num_nodes)

    def _weights(self, confidence: Tensor, src: Tensor, dst: Tensor, num_nodes: int) -> Tensor:
        w = edge_softmax(confidence.index_select(0, src), dst.long(), num_nodes=num_nodes)
        return _dropout(w, self.attention_dropout, self.training)

    def prepare(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        r"""``edge_index`` checked, deduplicated, with exactly one self-loop per node."""
        graph = Graph.from_edge_index(edge_index, num_nodes)
        ei, _ = remove_self_loops(graph.edge_index)
        ei, _ = add_self_loops(ei, num_nodes=num_nodes)
        return ei

    def adjacency(self, edge_index: Tensor, num_nodes: int) -> CSRLayout:
        r"""The :meth:`prepare`-d graph as the :class:`CSRLayout` of the propagation matrix
        (rows: targets, columns: sources), which :meth:`forward` multiplies :math:`\mathbf{h}`
        by. Built once (the graph's checks, deduplication and two sorts) and reused while
        ``edge_index`` is the same tensor, unmodified."""
        key = (num_nodes, edge_index.device)

        def build() -> CSRLayout:
            src, dst = self.prepare(edge_index, num_nodes)
            return CSRLayout.from_coo(dst, src, (num_nodes, num_nodes))[0]

        return memo_per_tensor("plp.adjacency", edge_index, key, build)

    def _propagate(self, confidence: Tensor, adjacency: CSRLayout, h: Tensor, num_nodes: int) -> Tensor:
        # sum over u -> v of w_uv h_u, with the weights of the confidence scores
        return sparse_matmul(self._weights(confidence, adjacency.col, adjacency.row, num_nodes), adjacency, h)

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
        adjacency = self.adjacency(edge_index.to(x.device), n)
        alpha = self.alpha(rows).view(-1, 1)
        keep = clamped.view(-1, 1)
        nz = self._reused_nonzeros(x, features)
        fixed = None if self.training else (self.confidence(features, rows), self.transformation(features))
        h, hidden = prior, []
        for _ in range(self.num_layers):
            conf, ft = fixed or (self.confidence(features, rows, nz), self.transformation(features, nz))
            prop = self._propagate(conf, adjacency, h, n)
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
            adjacency = self.adjacency(edge_index.to(device), n)
            conf = self.confidence(features, rows)
            w = self._weights(conf, adjacency.col, adjacency.row, n)
            alpha, keep = self.alpha(rows).view(-1, 1), clamped.view(-1, 1)
            h, hidden = prior, []
            for _ in range(self.num_layers):
                prop = sparse_matmul(w, adjacency, h)
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


def _dropout(x: Tensor, p: float, training: bool) -> Tensor:
    # F.dropout's distribution (kept with probability 1 - p, rescaled by 1 / (1 - p)) from a
    # uniform draw: 2-3.6x faster on CPU than F.dropout's Bernoulli draw (cpf-a-computer's
    # 505k edge weights: 4.9 -> 2.3 ms; its 13k x 64 hidden layer: 12.9 -> 3.6 ms)
    if not training or p == 0:
        return x
    return x * torch.rand_like(x).ge_(p).mul_(1.0 / (1.0 - p))
