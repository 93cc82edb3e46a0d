r"""Local structure preserving (LSP) distillation: match how each node relates to its neighbours."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.utils import add_self_loops, remove_self_loops

from ..datasets.validate import validate_edge_index
from ._common import check_embeddings, check_mask
from .edge_ops import (
    EXP_FLOOR,
    EdgePlan,
    edge_dot,
    edge_l1_dist,
    edge_sq_dist,
    segment_log_softmax_csr,
    segment_sum_csr,
)
from .kernels import check_kernel

__all__ = ["LSP_REDUCTIONS", "LSPLoss", "build_plan", "edge_scores", "lsp_loss", "teacher_log_probs"]

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
    _check_args(kernel, temperature, reduction, gamma, degree, coef)
    check_embeddings(student, teacher)
    plan = build_plan(edge_index, student.size(0), mask, self_loops)
    kw = {"kernel": kernel, "gamma": gamma, "degree": degree, "coef": coef}
    return _lsp(student, teacher_log_probs(teacher, plan, temperature, **kw), plan, temperature, reduction, kw)


def _check_args(kernel, temperature, reduction, gamma, degree, coef) -> None:
    check_kernel(kernel, gamma, degree, coef)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if reduction not in LSP_REDUCTIONS:
        raise ValueError(f"Unknown reduction {reduction!r}; valid choices: {', '.join(LSP_REDUCTIONS)}")


def build_plan(edge_index: Tensor, num_nodes: int, mask: Tensor | None = None, self_loops: bool = False) -> EdgePlan:
    r"""The (validated) edges an LSP loss compares: self-loops added if asked, only edges into
    ``mask`` kept, sorted by target."""
    validate_edge_index(edge_index, num_nodes)
    mask = check_mask(mask, num_nodes)
    if self_loops:
        edge_index, _ = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=num_nodes)
    if mask is not None:
        edge_index = edge_index[:, mask[edge_index[1]]]
    return EdgePlan(edge_index, num_nodes)


def _raw(h: Tensor, plan: EdgePlan, kernel: str) -> Tensor:
    # what each kernel is a function of: an inner product (SDDMM), a squared distance, or |.|_1
    if kernel == "l1":  # no inner-product form: gathers the two ends, in chunks
        return edge_l1_dist(h, plan)
    if kernel in ("linear", "poly"):
        return edge_dot(h, h, plan)
    if kernel == "cosine":
        u = _UnitRows.apply(h)
        return edge_dot(u, u, plan)
    return edge_sq_dist(h, plan)  # rbf, l2


class _UnitRows(torch.autograd.Function):
    r"""``F.normalize(h, dim=-1, eps=1e-8)`` with the closed-form backward
    :math:`(\mathbf{g} - \mathbf{u}\,\mathbf{u}^\top\mathbf{g}) / \lVert\mathbf{h}\rVert` (fewer passes)."""

    @staticmethod
    def forward(ctx, h):
        norm = torch.linalg.vector_norm(h, dim=-1, keepdim=True).clamp_min_(1e-8)
        u = h / norm
        ctx.save_for_backward(u, norm)
        return u

    @staticmethod
    def backward(ctx, g):
        u, norm = ctx.saved_tensors
        along = (u * g).sum(-1, keepdim=True).masked_fill_(norm <= 1e-8, 0.0)  # clamped rows: h / eps
        return g.addcmul(u, along, value=-1.0).div_(norm)


def _kernel(
    raw: Tensor, plan: EdgePlan, kernel: str, gamma: float, degree: int, coef: float, grad: bool
) -> tuple[Tensor, Tensor | float | None]:
    # k(raw) and dk/draw, elementwise (a float where it is constant)
    if kernel in ("linear", "cosine"):
        return raw, 1.0
    if kernel == "l1":
        return -raw, -1.0
    if kernel == "poly":
        base = raw + coef
        return base.pow(degree), (base.pow(degree - 1).mul_(degree) if grad else None)
    sq = raw.clamp_min(0.0)  # the expansion of |h_i - h_j|^2 may round slightly below 0
    if plan.any_self_loop:
        sq = sq.masked_fill_(plan.self_loop, 0.0)  # exactly 0 at distance 0, whatever the magnitude
    if kernel == "rbf":
        value = sq.mul(-gamma).exp_()
        return value, ((value * -gamma).masked_fill_(sq == 0, 0.0) if grad else None)
    dist = sq.sqrt_()  # l2
    if not grad:
        return dist.neg(), None
    slope = dist.reciprocal().mul_(-0.5).masked_fill_(dist == 0, 0.0)  # 0 (not inf) at distance 0
    return dist.neg(), slope


class _KernelSegmentKL(torch.autograd.Function):
    r"""Per node, KL(target || softmax(k(raw) / tau)) over its edges, with the closed-form
    backward (p - q) k'(raw) / tau: one fused step from the SDDMM output to the loss."""

    @staticmethod
    def forward(ctx, raw, target, neg_entropy, plan, kernel, temperature, gamma, degree, coef):
        value, slope = _kernel(raw, plan, kernel, gamma, degree, coef, grad=True)
        bounded = kernel in ("rbf", "cosine") and temperature >= 1 / 30  # exp cannot overflow
        log_p = segment_log_softmax_csr(value / temperature if temperature != 1.0 else value, plan, shift=not bounded)
        ctx.plan, ctx.temperature = plan, temperature
        ctx.slope = slope if not isinstance(slope, Tensor) else None
        ctx.save_for_backward(log_p, target, *([slope] if isinstance(slope, Tensor) else []))
        return neg_entropy - segment_sum_csr(target * log_p, plan)

    @staticmethod
    def backward(ctx, grad):
        log_p, target, *slope = ctx.saved_tensors
        plan = ctx.plan
        scale = 1.0 / ctx.temperature
        if plan.has_edges.any():
            g = grad[plan.has_edges]
            uniform = bool((g == g[0]).all())  # "node"/"edge"/"sum" reductions: one scale for all
            if uniform:
                scale = scale * float(g[0])
        else:
            uniform, scale = True, 0.0
        scale = scale * (ctx.slope if ctx.slope is not None else 1.0)
        diff = log_p.clamp_min(EXP_FLOOR).exp_().sub_(target)  # p - q
        if slope:
            diff = diff.mul_(slope[0])
        if not uniform:
            diff = diff.mul_(plan.expand(grad))
        if scale != 1.0:
            diff = diff.mul_(scale)
        return diff, None, None, None, None, None, None, None, None


def _gamma(h: Tensor, gamma: float | None) -> float:
    return gamma if gamma is not None else 1.0 / h.size(-1)


def edge_scores(h: Tensor, plan: EdgePlan, kernel: str, gamma: float | None, degree: int, coef: float) -> Tensor:
    r""":math:`k(\mathbf{h}_i, \mathbf{h}_j)` for every edge ``j -> i`` of ``plan``, from one SDDMM
    (:mod:`graphkd.losses.edge_ops`): inner products directly, squared distances as
    :math:`\lVert\mathbf{h}_i\rVert^2 + \lVert\mathbf{h}_j\rVert^2 - 2\mathbf{h}_i^\top\mathbf{h}_j`,
    cosines from normalised rows; ``l1`` gathers both ends."""
    raw = _raw(h, plan, kernel)
    return _kernel(raw, plan, kernel, _gamma(h, gamma), degree, coef, grad=False)[0]


@torch.no_grad()
def teacher_log_probs(teacher: Tensor, plan: EdgePlan, temperature: float, **kernel: Any) -> Tensor:
    r"""The teacher's :math:`\log p^t_{ij}` on every edge of ``plan`` (fixed during training).

    Raises:
        ValueError: if the teacher's embeddings are not finite (checked once per teacher tensor).
    """
    if not bool(torch.isfinite(teacher).all()):
        raise ValueError("teacher embeddings contain NaN or Inf")
    return segment_log_softmax_csr(edge_scores(teacher.detach(), plan, **kernel) / temperature, plan)


def _lsp(
    student: Tensor,
    log_t: Tensor,
    plan: EdgePlan,
    temperature: float,
    reduction: str,
    kernel: dict,
    p_t: Tensor | None = None,
    neg_entropy: Tensor | None = None,
) -> Tensor:
    p_t = log_t.exp() if p_t is None else p_t
    neg_entropy = segment_sum_csr(p_t * log_t, plan) if neg_entropy is None else neg_entropy
    raw = _raw(student, plan, kernel["kernel"])
    per_node = _KernelSegmentKL.apply(
        raw,
        p_t,
        neg_entropy,
        plan,
        kernel["kernel"],
        temperature,
        _gamma(student, kernel["gamma"]),
        kernel["degree"],
        kernel["coef"],
    )
    if reduction == "none":
        return per_node
    if reduction == "edge":
        return per_node.sum() / max(plan.num_edges, 1)
    if reduction == "sum":
        return per_node.sum()
    return per_node.sum() / plan.has_edges.sum().clamp_min(1)


class LSPLoss(nn.Module):
    r"""Local structure preserving loss (`Yang et al., CVPR 2020 <https://arxiv.org/abs/2003.10477>`_),
    module form of :func:`lsp_loss` (see there for the arguments):

    .. math::
        \mathcal{L}_{\mathrm{LSP}} = \frac{1}{|\mathcal{V}'|} \sum_{i \in \mathcal{V}'}
            \mathrm{KL}\big(p^t_i \,\|\, p^s_i\big), \qquad
        p^{h}_{ij} = \mathrm{softmax}_{j \in \mathcal{N}(i)}\big(k(\mathbf{h}_i, \mathbf{h}_j) / \tau\big).

    Called as ``loss(student, teacher, edge_index, mask=None)``. In a training loop it sorts the
    edges and computes the teacher's (fixed) distribution on the first call and reuses them while
    the same ``edge_index``/``mask``/teacher tensors come back unchanged (checked by identity
    and in-place version), so the per-step cost is the student's side only
    (``benchmarks/lsp_speed.py``).

    Pairs used: the edges of ``edge_index``."""

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
        _check_args(kernel, temperature, reduction, gamma, degree, coef)
        self.kernel, self.temperature, self.self_loops, self.reduction = kernel, temperature, self_loops, reduction
        self.gamma, self.degree, self.coef = gamma, degree, coef
        self._plan_key: tuple | None = None
        self._teacher_key: tuple | None = None

    def forward(
        self, student: Tensor, teacher: Tensor, edge_index: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        if edge_index is None:
            raise ValueError("LSPLoss needs the edges: call it with edge_index (the graph or the sampled subgraph)")
        check_embeddings(student, teacher)
        n = student.size(0)
        # one-entry caches, keyed on the very tensors (held here, so their memory cannot be
        # reused by other tensors) and their in-place version counters: full-graph training
        # sorts the edges and computes the fixed teacher distribution once
        key = (edge_index, edge_index._version, mask, None if mask is None else mask._version, n, self.self_loops)
        if self._plan_key is None or not _same(self._plan_key, key):
            self._plan_key, self._plan, self._teacher_key = key, build_plan(edge_index, n, mask, self.self_loops), None
        kw = {"kernel": self.kernel, "gamma": self.gamma, "degree": self.degree, "coef": self.coef}
        tkey = (teacher, teacher._version)
        if self._teacher_key is None or not _same(self._teacher_key, tkey):
            self._teacher_key = tkey
            self._log_t = teacher_log_probs(teacher, self._plan, self.temperature, **kw)
            self._p_t = self._log_t.exp()
            self._neg_entropy = segment_sum_csr(self._p_t * self._log_t, self._plan)
        return _lsp(
            student, self._log_t, self._plan, self.temperature, self.reduction, kw, self._p_t, self._neg_entropy
        )

    def extra_repr(self) -> str:
        return f"kernel={self.kernel!r}, temperature={self.temperature}, self_loops={self.self_loops}"


def _same(a: tuple, b: tuple) -> bool:
    if len(a) != len(b):
        return False
    return all(x is y if isinstance(x, Tensor) or x is None else x == y for x, y in zip(a, b, strict=True))
