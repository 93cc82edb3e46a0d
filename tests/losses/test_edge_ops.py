import pytest
import torch
from torch_geometric.utils import to_undirected

from graphkd.losses import KERNELS, edge_ops, lsp_loss
from graphkd.losses.edge_ops import EdgePlan, edge_dot, edge_l1_dist, edge_sq_dist, segment_log_softmax_csr


def _graphs():
    g = torch.Generator().manual_seed(0)
    directed = torch.randint(0, 9, (2, 30), generator=g)
    return {"directed": directed, "undirected": to_undirected(directed, num_nodes=10)}  # node 9 isolated


@pytest.mark.parametrize("kind", ["directed", "undirected"])
def test_sparse_kernels_match_gathered_ones_with_gradients(kind, monkeypatch):
    monkeypatch.setattr(edge_ops, "_CHUNK_ELEMENTS", 12)  # several chunks of 3 edges for the L1 kernel
    ei = _graphs()[kind]
    plan = EdgePlan(ei, 10)
    assert plan.symmetric == (kind == "undirected")
    h = torch.randn(10, 4, dtype=torch.double, requires_grad=True)
    b = torch.randn(10, 4, dtype=torch.double, requires_grad=True)
    ref_dot = (h[plan.dst] * h[plan.src]).sum(-1)
    assert torch.allclose(edge_dot(h, h, plan), ref_dot)
    assert torch.allclose(edge_dot(h, b, plan), (h[plan.dst] * b[plan.src]).sum(-1))
    assert torch.allclose(edge_sq_dist(h, plan), (h[plan.dst] - h[plan.src]).pow(2).sum(-1))
    assert torch.autograd.gradcheck(lambda x: edge_dot(x, x, plan), (h,))
    assert torch.autograd.gradcheck(lambda x, y: edge_dot(x, y, plan), (h, b))
    assert torch.autograd.gradcheck(lambda x: edge_sq_dist(x, plan), (h,))
    assert torch.allclose(edge_l1_dist(h, plan), (h[plan.dst] - h[plan.src]).abs().sum(-1))
    assert torch.autograd.gradcheck(lambda x: edge_l1_dist(x, plan), (h,))


def test_segment_log_softmax_matches_torch_for_spreads_beyond_exp_range():
    # values spread over 1e4 within a node: the clamped exp must not change the result
    ei = torch.tensor([[1, 2, 3, 0, 2], [0, 0, 0, 1, 1]])
    plan = EdgePlan(ei, 4)
    values = torch.tensor([0.0, -1e4, -50.0, 3e3, 2.9e3])  # plan order: node 0's sources 1, 2, 3
    out = segment_log_softmax_csr(values, plan)
    assert torch.isfinite(out).all()
    assert torch.allclose(out[:3], torch.log_softmax(values[:3], 0))
    assert torch.allclose(out[3:], torch.log_softmax(values[3:], 0))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("kind", ["directed", "undirected"])
def test_lsp_fused_backward_matches_finite_differences(kernel, kind):
    ei = _graphs()[kind]
    s = torch.randn(10, 3, dtype=torch.double, requires_grad=True)
    t = torch.randn(10, 5, dtype=torch.double)
    for reduction in ("node", "none"):
        assert torch.autograd.gradcheck(lambda x, r=reduction: lsp_loss(x, t, ei, kernel, 0.7, reduction=r), (s,))
