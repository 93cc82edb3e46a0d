r"""Local structure preserving (LSP) distillation: match how each node relates to its neighbours."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import add_self_loops, remove_self_loops, scatter

from ._common import check_embeddings, check_mask, segment_log_softmax
from .kernels import check_kernel, edge_kernel

__all__ = ["LSP_REDUCTIONS", "LSPLoss", "lsp_loss"]

LSP_REDUCTIONS = ("node", "edge", "sum", "none")


def lsp_loss(
    student: Tensor,
    teacher: Tensor,
    edge_index: Tensor,
    kernel: str = "rbf",
    temperature: float = 1.0,
    mask: Tensor | None = None,
    self_loops: bool = False,
    reduction: str = "node",
    gamma: float | None = None,
    degree: int = 2,
    coef: float = 1.0,
) -> Tensor:
    r"""The local structure preserving loss of `Yang et al., CVPR 2020
    <https://arxiv.org/abs/2003.10477>`_ ("Distilling Knowledge from Graph Convolutional Networks").

    For every node :math:`i` with neighbours :math:`\mathcal{N}(i)` (the sources of the edges
    into :math:`i`), a kernel between embeddings becomes a distribution over the neighbours,

    .. math::
        p^{h}_{ij} = \frac{\exp\big(k(\mathbf{h}_i, \mathbf{h}_j) / \tau\big)}
                          {\sum_{l \in \mathcal{N}(i)} \exp\big(k(\mathbf{h}_i, \mathbf{h}_l) / \tau\big)},
        \qquad
        \mathcal{L}_{\mathrm{LSP}} = \frac{1}{|\mathcal{V}'|} \sum_{i \in \mathcal{V}'}
            \sum_{j \in \mathcal{N}(i)} p^{t}_{ij} \big(\log p^{t}_{ij} - \log p^{s}_{ij}\big),

    i.e. :math:`\mathrm{KL}(p^t_i \,\|\, p^s_i)` averaged over the nodes :math:`\mathcal{V}'`
    that have at least one neighbour (isolated nodes contribute nothing). Both distributions are
    computed in log space by a segment log-softmax over each node's edges, so embeddings of any
    magnitude give finite values. Kernels (see :mod:`graphkd.losses.kernels`): ``linear``,
    ``poly``, ``rbf`` (the paper's best), ``cosine`` and the negative distances ``l1``/``l2`` —
    near neighbours always get the larger weight. Teacher and student widths may differ: each
    side's kernel uses its own embeddings only. The teacher is detached.

    Pairs used: the edges of ``edge_index`` — the full graph, or a sampled subgraph where
    ``mask`` picks the seed nodes whose neighbourhood is complete.

    Args:
        student (Tensor): student embeddings ``[N, d_s]``.
        teacher (Tensor): teacher embeddings ``[N, d_t]``.
        edge_index (Tensor): ``[2, E]`` edges ``j -> i`` (PyG's source-to-target flow).
        kernel (str, optional): one of ``linear``, ``poly``, ``rbf``, ``cosine``, ``l1``, ``l2``
            (default: :obj:`"rbf"`).
        temperature (float, optional): softmax temperature :math:`\tau > 0` (default: :obj:`1.0`).
        mask (Tensor, optional): boolean ``[N]``: the nodes :math:`i` whose neighbourhood counts
            (default: all).
        self_loops (bool, optional): include each node among its own neighbours (default: :obj:`False`).
        reduction (str, optional): ``"node"`` (mean over nodes with neighbours), ``"edge"``
            (sum of the KL terms / number of edges), ``"sum"``, or ``"none"`` (``[N]``, 0 for
            nodes without neighbours) (default: :obj:`"node"`).
        gamma, degree, coef: kernel parameters (``rbf``: :math:`\gamma`, default :math:`1/d`
            per side; ``poly``: degree and constant).
    """
    check_embeddings(student, teacher)
    check_kernel(kernel, gamma, degree, coef)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if reduction not in LSP_REDUCTIONS:
        raise ValueError(f"Unknown reduction {reduction!r}; valid choices: {', '.join(LSP_REDUCTIONS)}")
    n = student.size(0)
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must be a [2, num_edges] tensor, got {getattr(edge_index, 'shape', edge_index)}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise ValueError(f"edge_index refers to nodes outside 0..{n - 1}")
    mask = check_mask(mask, n)
    if self_loops:
        edge_index, _ = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=n)
    if mask is not None:
        edge_index = edge_index[:, mask[edge_index[1]]]
    src, dst = edge_index
    teacher = teacher.detach()
    kw = {"kernel": kernel, "gamma": gamma, "degree": degree, "coef": coef}
    log_s = segment_log_softmax(edge_kernel(student[dst], student[src], **kw) / temperature, dst, n)
    log_t = segment_log_softmax(edge_kernel(teacher[dst], teacher[src], **kw) / temperature, dst, n)
    per_edge = log_t.exp() * (log_t - log_s)
    if reduction == "edge":
        return per_edge.sum() / max(per_edge.numel(), 1)
    if reduction == "sum":
        return per_edge.sum()
    per_node = scatter(per_edge, dst, 0, dim_size=n, reduce="sum")
    if reduction == "none":
        return per_node
    has_neighbours = torch.zeros(n, dtype=torch.bool, device=dst.device)
    has_neighbours[dst] = True
    return per_node.sum() / has_neighbours.sum().clamp_min(1)


class LSPLoss(nn.Module):
    r"""Module form of :func:`lsp_loss` (see there for the formula and arguments); called as
    ``loss(student, teacher, edge_index, mask=None)``."""

    pairs = "edges"

    def __init__(
        self,
        kernel: str = "rbf",
        temperature: float = 1.0,
        self_loops: bool = False,
        reduction: str = "node",
        gamma: float | None = None,
        degree: int = 2,
        coef: float = 1.0,
    ) -> None:
        super().__init__()
        check_kernel(kernel, gamma, degree, coef)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if reduction not in LSP_REDUCTIONS:
            raise ValueError(f"Unknown reduction {reduction!r}; valid choices: {', '.join(LSP_REDUCTIONS)}")
        self.kernel, self.temperature, self.self_loops, self.reduction = kernel, temperature, self_loops, reduction
        self.gamma, self.degree, self.coef = gamma, degree, coef

    def forward(
        self, student: Tensor, teacher: Tensor, edge_index: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        if edge_index is None:
            raise ValueError("LSPLoss needs the edges: call it with edge_index (the graph or the sampled subgraph)")
        return lsp_loss(
            student,
            teacher,
            edge_index,
            self.kernel,
            self.temperature,
            mask,
            self.self_loops,
            self.reduction,
            self.gamma,
            self.degree,
            self.coef,
        )

    def extra_repr(self) -> str:
        return f"kernel={self.kernel!r}, temperature={self.temperature}, self_loops={self.self_loops}"
