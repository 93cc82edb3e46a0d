import math

import pytest
import torch
from torch_geometric.utils import k_hop_subgraph

from graphkd.losses import KERNELS, LSPLoss, lsp_loss

PATH = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # undirected path 0-1-2-3


def test_hand_computed_four_node_path():
    # linear kernel on 1-d embeddings. Nodes 0 and 3 have one neighbour (KL 0). Teacher: all
    # kernels at node 1 and 2 are 0 -> uniform. Student: at node 1, k(s1,s0)=1, k(s1,s2)=0.
    t = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    s = torch.tensor([[1.0], [1.0], [0.0], [0.0]])
    node1 = math.log((1 + math.e) / 2) - 0.5  # KL([.5,.5] || [e/(1+e), 1/(1+e)])
    assert node1 == pytest.approx(0.120114, abs=1e-6)
    assert lsp_loss(s, t, PATH, "linear").item() == pytest.approx(node1 / 4, abs=1e-6)
    assert lsp_loss(s, t, PATH, "linear", reduction="edge").item() == pytest.approx(node1 / 6, abs=1e-6)
    per_node = lsp_loss(s, t, PATH, "linear", reduction="none")
    assert torch.allclose(per_node, torch.tensor([0.0, node1, 0.0, 0.0]), atol=1e-6)
    # temperature 2 halves the student's scores at node 1
    node1_t2 = 0.5 * math.log(0.5 / (math.exp(0.5) / (1 + math.exp(0.5)))) + 0.5 * math.log(0.5 * (1 + math.exp(0.5)))
    assert lsp_loss(s, t, PATH, "linear", temperature=2.0).item() == pytest.approx(node1_t2 / 4, abs=1e-6)


def test_self_loops_add_the_node_itself():
    t = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    s = torch.tensor([[1.0], [1.0], [0.0], [0.0]])
    # node 0 now has neighbours {1, 0}: teacher scores 0, 0 -> uniform; student scores 1, 1 -> uniform
    with_loops = lsp_loss(s, t, PATH, "linear", self_loops=True, reduction="none")
    # node 1: neighbours {0, 2, 1}: teacher scores 0, 0, 1; student 1, 0, 1
    p_t = torch.softmax(torch.tensor([0.0, 0.0, 1.0]), 0)
    p_s = torch.softmax(torch.tensor([1.0, 0.0, 1.0]), 0)
    assert with_loops[1].item() == pytest.approx(float((p_t * (p_t / p_s).log()).sum()), abs=1e-6)
    assert with_loops[0].item() == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("kernel", KERNELS)
def test_zero_for_equal_embeddings_and_positive_otherwise(kernel):
    torch.manual_seed(0)
    ei = torch.randint(0, 20, (2, 80))
    h = torch.randn(20, 8)
    assert lsp_loss(h.clone(), h, ei, kernel).abs().item() < 1e-6
    assert lsp_loss(torch.randn(20, 8), h, ei, kernel).item() > 0


def test_different_widths_and_module_form():
    torch.manual_seed(0)
    ei = torch.randint(0, 10, (2, 30))
    s, t = torch.randn(10, 4), torch.randn(10, 16)
    loss = LSPLoss("cosine", temperature=0.5)
    assert torch.allclose(loss(s, t, ei), lsp_loss(s, t, ei, "cosine", 0.5))
    with pytest.raises(ValueError, match="needs the edges"):
        loss(s, t)


def test_isolated_nodes_contribute_nothing():
    s, t = torch.randn(6, 3), torch.randn(6, 3)  # nodes 4, 5 isolated
    per_node = lsp_loss(s, t, PATH, reduction="none")
    assert per_node[4:].eq(0).all() and torch.isfinite(per_node).all()
    assert torch.allclose(lsp_loss(s, t, PATH), per_node[:4].sum() / 4)
    empty = torch.empty(2, 0, dtype=torch.long)
    assert lsp_loss(s, t, empty).item() == 0.0


def test_full_graph_equals_mean_over_partition_with_full_neighbourhoods():
    torch.manual_seed(1)
    n = 30
    ring = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
    ei = torch.cat([ring, ring.flip(0), torch.randint(0, n, (2, 60))], 1)  # no isolated node
    s, t = torch.randn(n, 5), torch.randn(n, 7)
    full = lsp_loss(s, t, ei, "rbf")
    parts = torch.randperm(n).view(3, 10)
    per_part = []
    for seeds in parts:
        subset, sub_ei, mapping, _ = k_hop_subgraph(seeds, 1, ei, relabel_nodes=True, num_nodes=n)
        mask = torch.zeros(subset.numel(), dtype=torch.bool)
        mask[mapping] = True
        per_part.append(lsp_loss(s[subset], t[subset], sub_ei, "rbf", mask=mask))
    assert torch.allclose(full, torch.stack(per_part).mean(), atol=1e-6)


def test_invalid_inputs_raise():
    s, t = torch.randn(4, 2), torch.randn(4, 2)
    with pytest.raises(ValueError, match="Unknown kernel 'gauss'"):
        lsp_loss(s, t, PATH, "gauss")
    with pytest.raises(ValueError, match=r"node 9, outside \[0, 4\)"):
        lsp_loss(s, t, torch.tensor([[0], [9]]))
    with pytest.raises(ValueError, match="edge_index must hold integers, got dtype torch.float32"):
        lsp_loss(s, t, PATH.float())
    with pytest.raises(ValueError, match="different nodes"):
        lsp_loss(s, torch.randn(5, 2), PATH)
    with pytest.raises(ValueError, match="temperature"):
        LSPLoss(temperature=0.0)
    with pytest.raises(ValueError, match="Unknown reduction"):
        lsp_loss(s, t, PATH, reduction="mean")


def test_module_caches_are_keyed_on_the_tensors_and_their_versions():
    torch.manual_seed(0)
    s, t = torch.randn(8, 3), torch.randn(8, 3)
    ei = torch.randint(0, 8, (2, 20))
    loss = LSPLoss("rbf")
    assert torch.allclose(loss(s, t, ei), lsp_loss(s, t, ei))
    other = torch.randint(0, 8, (2, 20))
    assert torch.allclose(loss(s, t, other), lsp_loss(s, t, other))  # new edges: new plan
    t.mul_(3.0)  # in place: the cached teacher distribution is stale and must be recomputed
    assert torch.allclose(loss(s, t, other), lsp_loss(s, t, other))
    mask = torch.arange(8) < 4
    assert torch.allclose(loss(s, t, other, mask), lsp_loss(s, t, other, mask=mask))


@pytest.mark.parametrize("kernel", KERNELS)
def test_sparse_edge_scores_match_the_gathered_kernels(kernel):
    from graphkd.losses import edge_kernel
    from graphkd.losses.lsp import build_plan, edge_scores

    torch.manual_seed(0)
    h = torch.randn(10, 4)
    plan = build_plan(torch.randint(0, 10, (2, 40)), 10, self_loops=True)
    ref = edge_kernel(h[plan.dst], h[plan.src], kernel)
    assert torch.allclose(edge_scores(h, plan, kernel, None, 2, 1.0), ref, atol=1e-5)


def test_non_finite_teacher_raises():
    s, t = torch.randn(4, 2), torch.randn(4, 2)
    t[0, 0] = float("nan")
    with pytest.raises(ValueError, match="teacher embeddings contain NaN"):
        lsp_loss(s, t, PATH)
    with pytest.raises(ValueError, match="teacher embeddings contain NaN"):
        LSPLoss()(s, t, PATH)


@pytest.mark.parametrize("kernel", KERNELS)
def test_value_and_gradient_match_a_gathered_reference(kernel):
    # the fused SDDMM/SpMM path against the textbook one (gather both ends, PyG's segment
    # softmax), with self-loops, an all-zero student row and a directed graph
    from torch_geometric.utils import scatter, softmax

    from graphkd.losses import edge_kernel
    from graphkd.losses.lsp import build_plan

    torch.manual_seed(1)
    ei = torch.randint(0, 10, (2, 40))
    s = torch.randn(10, 3, dtype=torch.double)
    s[4] = 0.0
    s.requires_grad_()
    t = torch.randn(10, 5, dtype=torch.double)
    plan = build_plan(ei, 10, self_loops=True)

    def log_p(h):
        return softmax(edge_kernel(h[plan.dst], h[plan.src], kernel), plan.dst, num_nodes=10).log()

    log_t = log_p(t)
    per_node = scatter(log_t.exp() * (log_t - log_p(s)), plan.dst, 0, dim_size=10, reduce="sum")
    ref = per_node.sum() / plan.has_edges.sum()
    (ref_grad,) = torch.autograd.grad(ref, s)
    out = lsp_loss(s, t, ei, kernel, self_loops=True)
    (grad,) = torch.autograd.grad(out, s)
    assert torch.allclose(out, ref) and torch.allclose(grad, ref_grad)
