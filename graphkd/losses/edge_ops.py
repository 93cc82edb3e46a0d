r"""Per-edge kernels and per-node segment operations without materialising ``[E, d]`` tensors.

A gathered implementation (``(h[dst] * h[src]).sum(-1)``) writes two ``[E, d]`` copies of the
embeddings forward and scatters ``[E, d]`` gradients back; on Amazon-Computers (490k edges,
``d = 128``) that is ~0.5 GB of traffic per call. Here the edges are sorted by target once
(:class:`EdgePlan`) and every dot product :math:`\mathbf{a}_i^\top \mathbf{b}_j` over the edges
is a sampled dense-dense product (SDDMM, :func:`torch.sparse.sampled_addmm`); its backward is two
sparse-dense products (SpMM) with the CSR matrix of edge gradients and its transpose.
``benchmarks/lsp_speed.py`` measures both against each other.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from ..nn.sparse import csr_pointers

__all__ = ["EdgePlan", "edge_dot", "edge_l1_dist", "edge_sq_dist", "segment_log_softmax_csr", "segment_sum_csr"]

# exp() of float32 below about -87.3 lands in subnormals or 0, and CPU kernels take a slow path
# there (10-15x slower); after the segment maximum is subtracted such terms are negligible against
# the maximum's exp(0) = 1, so they are clamped here before exp
EXP_FLOOR = -87.0


def _csr(crow: Tensor, col: Tensor, values: Tensor, n: int) -> Tensor:
    if n < 2**31 - 1 and values.numel() < 2**31 - 1:  # 32-bit indices: the sparse kernels skip a conversion
        crow, col = crow.int(), col.int()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, (n, n), check_invariants=False)


class EdgePlan:
    r"""The edges ``j -> i`` of a graph sorted by target ``i`` (then source), as CSR rows, and
    the permutation to the transposed (source-major) order.

    Args:
        edge_index (Tensor): ``[2, E]`` edges (source, target).
        num_nodes (int): number of nodes.
    """

    def __init__(self, edge_index: Tensor, num_nodes: int) -> None:
        src, dst = edge_index
        order = torch.argsort(dst * num_nodes + src)
        self.num_nodes, self.num_edges = num_nodes, int(order.numel())
        self.src, self.dst = src[order], dst[order]
        self.crow = csr_pointers(self.dst, num_nodes)
        self.to_transposed = torch.argsort(self.src * num_nodes + self.dst)  # edge order by source
        self.crow_t = csr_pointers(self.src[self.to_transposed], num_nodes)
        self.col_t = self.dst[self.to_transposed]
        self.pattern = _csr(self.crow, self.src, torch.ones(self.num_edges, device=src.device), num_nodes)
        self.pattern_t = _csr(self.crow_t, self.col_t, torch.ones(self.num_edges, device=src.device), num_nodes)
        self.counts = self.crow[1:] - self.crow[:-1]
        self.has_edges = self.counts > 0
        self.self_loop = self.dst == self.src
        self.any_self_loop = bool(self.self_loop.any())
        # undirected pattern (every j -> i has i -> j): the transposed order lists each edge's
        # reverse, and G + G^T is one CSR matrix on the same pattern (one SpMM in backward)
        rev = self.to_transposed
        self.symmetric = bool(torch.equal(self.src[rev], self.dst) and torch.equal(self.dst[rev], self.src))
        if self.symmetric:  # h_i . h_j = h_j . h_i: compute the products of one direction only
            self.upper = (self.src < self.dst).nonzero().flatten()
            self.upper_rev = rev[self.upper]
            self.upper_dst, self.upper_src = self.dst[self.upper], self.src[self.upper]
            self.loops = self.self_loop.nonzero().flatten()
            ones = torch.ones(self.upper.numel(), device=src.device)
            self.half_pattern = _csr(
                csr_pointers(self.dst[self.upper], num_nodes), self.src[self.upper], ones, num_nodes
            )
            # every edge's slot in [values of the upper half; values of the self-loops]
            half = torch.arange(self.upper.numel(), device=src.device)
            self.from_half = torch.empty_like(order)
            self.from_half[self.upper] = half
            self.from_half[self.upper_rev] = half
            self.from_half[self.loops] = self.upper.numel() + torch.arange(self.loops.numel(), device=src.device)

    def expand(self, per_node: Tensor) -> Tensor:
        r"""Per-node values repeated over each node's edges (plan order), ``[E]``."""
        return per_node.index_select(0, self.dst)

    def matrix(self, values: Tensor) -> Tensor:
        r"""The ``[N, N]`` CSR matrix with ``values`` (in plan order) at ``(dst, src)``."""
        return _with_values(self.pattern, values)

    def matrix_t(self, values: Tensor) -> Tensor:
        r"""Its transpose, ``values`` at ``(src, dst)``."""
        return _with_values(self.pattern_t, values.index_select(0, self.to_transposed))

    def both_ways(self, values: Tensor, h: Tensor) -> Tensor:
        r""":math:`(G + G^\top) \mathbf{h}` for the edge matrix :math:`G` holding ``values``."""
        if self.symmetric:
            return self.matrix(values.index_select(0, self.to_transposed).add_(values)) @ h
        return self.matrix(values) @ h + self.matrix_t(values) @ h

    def source_sums(self, values: Tensor) -> Tensor:
        r"""Per-source sums of per-edge ``values``, ``[N]``."""
        return torch.segment_reduce(values.index_select(0, self.to_transposed), "sum", offsets=self.crow_t, axis=0)

    def mirror(self, half: Tensor, loops: Tensor | float = 0.0) -> Tensor:
        r"""On a symmetric pattern: per-edge values (plan order) from the values ``half`` of the
        edges ``j -> i`` with ``j < i`` (shared by each edge's reverse) and ``loops`` of the self-loops."""
        if self.loops.numel():
            loops = loops if isinstance(loops, Tensor) else half.new_full((self.loops.numel(),), loops)
            half = torch.cat([half, loops])
        return half.index_select(0, self.from_half)


def _with_values(pattern: Tensor, values: Tensor) -> Tensor:
    n = pattern.size(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            pattern.crow_indices(), pattern.col_indices(), values, (n, n), check_invariants=False
        )


class _EdgeDot(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, plan: EdgePlan) -> Tensor:
        ctx.plan = plan
        ctx.save_for_backward(a, b)
        return _sddmm(a, b, plan)

    @staticmethod
    def backward(ctx, grad: Tensor):
        a, b = ctx.saved_tensors
        plan: EdgePlan = ctx.plan
        grad = grad.contiguous()
        grad_a = plan.matrix(grad) @ b if ctx.needs_input_grad[0] else None
        grad_b = plan.matrix_t(grad) @ a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


class _EdgeSelfDot(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: Tensor, plan: EdgePlan) -> Tensor:
        ctx.plan = plan
        ctx.save_for_backward(h)
        return _self_sddmm(h, plan)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (h,) = ctx.saved_tensors
        return ctx.plan.both_ways(grad.contiguous(), h), None


class _EdgeSqDist(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: Tensor, plan: EdgePlan) -> Tensor:
        ctx.plan = plan
        ctx.save_for_backward(h)
        return _self_sddmm(h, plan, squared_distance=True)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (h,) = ctx.saved_tensors
        plan: EdgePlan = ctx.plan
        grad = grad.contiguous()
        if plan.symmetric:  # G + G^T on the same pattern: one segment sum, one SpMM
            both = grad.index_select(0, plan.to_transposed).add_(grad)
            out = (plan.matrix(both) @ h).mul_(-2.0)
            return out.addcmul_(segment_sum_csr(both, plan).unsqueeze(-1), h, value=2.0), None
        weight = segment_sum_csr(grad, plan) + plan.source_sums(grad)
        return plan.both_ways(grad, h).mul_(-2.0).addcmul_(weight.unsqueeze(-1), h, value=2.0), None


def _sddmm(a: Tensor, b: Tensor, plan: EdgePlan) -> Tensor:
    pattern = plan.pattern if plan.pattern.dtype == a.dtype else plan.pattern.to(a.dtype)
    return torch.sparse.sampled_addmm(pattern, a, b.t(), beta=0.0).values()


def _self_sddmm(h: Tensor, plan: EdgePlan, squared_distance: bool = False) -> Tensor:
    # h_i . h_j (or |h_i - h_j|^2) on every edge; on a symmetric pattern computed for i > j only
    # and mirrored to the reverse edges
    if not plan.symmetric:
        dot = _sddmm(h, h, plan)
        if not squared_distance:
            return dot
        sq_norm = _sq_norms(h)
        return plan.expand(sq_norm).add_(sq_norm.index_select(0, plan.src)).sub_(dot, alpha=2)
    pattern = plan.half_pattern if plan.half_pattern.dtype == h.dtype else plan.half_pattern.to(h.dtype)
    half = torch.sparse.sampled_addmm(pattern, h, h.t(), beta=0.0).values()
    if squared_distance:
        sq_norm = _sq_norms(h)
        half = sq_norm.index_select(0, plan.upper_dst).add_(sq_norm.index_select(0, plan.upper_src)).sub_(half, alpha=2)
        return plan.mirror(half, 0.0)
    return plan.mirror(half, _sq_norms(h.index_select(0, plan.dst.index_select(0, plan.loops))))


def _sq_norms(h: Tensor) -> Tensor:
    return torch.linalg.vector_norm(h, dim=-1).square_()


_CHUNK_ELEMENTS = 1 << 18  # elements of the [chunk, d] blocks the L1 kernel gathers at a time (1 MB: cache-sized)


def _edge_pairs(plan: EdgePlan) -> tuple[Tensor, Tensor]:
    # the pairs whose |h_i - h_j|_1 is computed: one direction of each edge on a symmetric pattern
    return (plan.upper_dst, plan.upper_src) if plan.symmetric else (plan.dst, plan.src)


def _chunks(num: int, width: int):
    step = max(1, _CHUNK_ELEMENTS // max(width, 1))
    return ((start, min(start + step, num)) for start in range(0, num, step))


class _EdgeL1Dist(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: Tensor, plan: EdgePlan) -> Tensor:
        ctx.plan = plan
        ctx.save_for_backward(h)
        dst, src = _edge_pairs(plan)
        dist = h.new_empty(dst.numel())
        for a, b in _chunks(dst.numel(), h.size(1)):
            dist[a:b] = (h.index_select(0, dst[a:b]) - h.index_select(0, src[a:b])).abs_().sum(-1)
        return plan.mirror(dist, 0.0) if plan.symmetric else dist

    @staticmethod
    def backward(ctx, grad: Tensor):
        (h,) = ctx.saved_tensors
        plan: EdgePlan = ctx.plan
        dst, src = _edge_pairs(plan)
        # d|h_i - h_j|_1 / dh_i = sign(h_i - h_j) = -d/dh_j; both directions of an edge share it
        if plan.symmetric:
            weight = grad.index_select(0, plan.upper).add_(grad.index_select(0, plan.upper_rev))
        else:
            weight = grad
        out = torch.zeros_like(h)
        for a, b in _chunks(dst.numel(), h.size(1)):
            step = (h.index_select(0, dst[a:b]) - h.index_select(0, src[a:b])).sign_().mul_(weight[a:b].unsqueeze(-1))
            out.index_add_(0, dst[a:b], step)
            out.index_add_(0, src[a:b], step, alpha=-1)
        return out, None


def edge_l1_dist(h: Tensor, plan: EdgePlan) -> Tensor:
    r""":math:`\lVert\mathbf{h}_{\mathrm{dst}(e)} - \mathbf{h}_{\mathrm{src}(e)}\rVert_1` for every
    edge (plan order). The L1 distance has no inner-product form, so both ends are gathered, but
    in chunks of edges (bounded memory), once per undirected edge on a symmetric pattern, and the
    backward recomputes the signs instead of keeping ``[E, d]`` tensors."""
    return _EdgeL1Dist.apply(h.contiguous(), plan)


def _sparse_ok(h: Tensor) -> bool:
    return h.device.type in ("cpu", "cuda")


def edge_sq_dist(h: Tensor, plan: EdgePlan) -> Tensor:
    r""":math:`\lVert\mathbf{h}_{\mathrm{dst}(e)} - \mathbf{h}_{\mathrm{src}(e)}\rVert_2^2` for every
    edge (plan order) as :math:`\lVert\mathbf{h}_i\rVert^2 + \lVert\mathbf{h}_j\rVert^2 -
    2\mathbf{h}_i^\top\mathbf{h}_j` (one SDDMM; backward one or two SpMMs). Not clamped: the
    expansion may round slightly below 0."""
    if not _sparse_ok(h):
        return (h[plan.dst] - h[plan.src]).pow(2).sum(-1)
    return _EdgeSqDist.apply(h.contiguous(), plan)


def edge_dot(a: Tensor, b: Tensor, plan: EdgePlan) -> Tensor:
    r""":math:`\mathbf{a}_{\mathrm{dst}(e)}^\top \mathbf{b}_{\mathrm{src}(e)}` for every edge :math:`e`
    of ``plan`` (in plan order), differentiable in ``a`` and ``b``."""
    if not _sparse_ok(a):  # devices without sparse CSR kernels
        return (a[plan.dst] * b[plan.src]).sum(-1)
    if a is b:
        return _EdgeSelfDot.apply(a.contiguous(), plan)
    return _EdgeDot.apply(a.contiguous(), b.contiguous(), plan)


def segment_sum_csr(values: Tensor, plan: EdgePlan) -> Tensor:
    r"""Per-target sums of per-edge ``values`` (plan order), ``[N]``."""
    return torch.segment_reduce(values, "sum", offsets=plan.crow, axis=0)


def segment_log_softmax_csr(values: Tensor, plan: EdgePlan, shift: bool = True) -> Tensor:
    r"""``log_softmax`` of per-edge ``values`` within each target's edges, in log space: the
    segment maximum is subtracted first (``shift=False`` skips that, for values known to lie
    within about :math:`\pm 80`). After the shift, terms more than 87 below their segment's
    maximum enter the normaliser as :math:`e^{-87}` (against the maximum's :math:`e^0 = 1`)."""
    if shift:
        top = torch.segment_reduce(values.detach(), "max", offsets=plan.crow, axis=0)
        values = values - plan.expand(top)
        exps = values.clamp_min(EXP_FLOOR).exp_()
    else:
        exps = values.exp()
    log_norm = torch.segment_reduce(exps, "sum", offsets=plan.crow, axis=0).log()
    return values - plan.expand(log_norm)
