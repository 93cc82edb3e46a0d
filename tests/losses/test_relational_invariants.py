"""Invariants every relational / representation loss must satisfy."""

import pytest
import torch

from graphkd.losses import (
    KERNELS,
    ContrastiveLoss,
    GlobalStructureLoss,
    HintLoss,
    LSPLoss,
    RKDLoss,
)

N, D = 24, 8


def _graph():
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, N - 2, (2, 70), generator=g)  # nodes N-2, N-1 have no neighbour
    return ei


def _losses(width_s=D, width_t=D):
    # every node is sampled (num_samples >= N), so the losses are deterministic
    return {
        "lsp-rbf": LSPLoss("rbf"),
        "lsp-l2": LSPLoss("l2", self_loops=True),
        "gsp-kl": GlobalStructureLoss(None, "cosine", "kl"),
        "gsp-mse": GlobalStructureLoss(None, "rbf", "mse"),
        "rkd": RKDLoss(num_samples=None, angle_samples=N),
        "crd-soft": ContrastiveLoss(width_s, width_t, num_samples=None),
        "hint": HintLoss(width_s, width_t),
    }


@pytest.mark.parametrize("name", list(_losses()))
def test_zero_when_student_equals_teacher(name):
    h = torch.randn(N, D)
    assert _losses()[name](h.clone(), h, _graph()).abs().item() < 1e-6


@pytest.mark.parametrize("name", list(_losses()))
def test_invariant_to_node_relabelling(name):
    torch.manual_seed(0)
    ei = _graph()
    s, t = torch.randn(N, D), torch.randn(N, D)
    loss = _losses()[name]
    perm = torch.randperm(N)  # new node k is old node perm[k]
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(N)
    before = loss(s, t, ei)
    after = loss(s[perm], t[perm], inv[ei])
    if name == "rkd":  # the angle set is all nodes too: exact up to float summation order
        assert torch.allclose(before, after, atol=1e-5)
    else:
        assert torch.allclose(before, after, atol=1e-6)


@pytest.mark.parametrize("name", list(_losses()))
def test_finite_for_huge_embeddings_and_isolated_nodes(name):
    torch.manual_seed(0)
    s = (torch.randn(N, D) * 1e4).requires_grad_()
    t = torch.randn(N, D) * 1e4
    loss = _losses()[name](s, t, _graph())
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()


@pytest.mark.parametrize("kernel", KERNELS)
def test_lsp_finite_for_huge_embeddings_every_kernel(kernel):
    s = (torch.randn(N, D) * 1e4).requires_grad_()
    loss = LSPLoss(kernel)(s, torch.randn(N, D) * 1e4, _graph())
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()


@pytest.mark.parametrize("name", list(_losses(4, 12)))
def test_gradients_reach_student_and_heads_only(name):
    torch.manual_seed(0)
    s = torch.randn(N, 4, requires_grad=True)
    t = torch.randn(N, 12, requires_grad=True)
    loss_fn = _losses(4, 12)[name]
    if name == "gsp-mse":  # mse compares kernel values: give both sides one width
        s = torch.randn(N, 12, requires_grad=True)
    loss = loss_fn(s, t, _graph())
    loss.backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None
    for p in loss_fn.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0


@pytest.mark.parametrize("name", [n for n in _losses() if not n.startswith("lsp")])  # LSP: tests/losses/test_lsp.py
def test_non_finite_teacher_raises(name):
    t = torch.randn(N, D)
    t[3, 1] = float("nan")
    with pytest.raises(ValueError, match="teacher embeddings contain NaN or Inf"):
        _losses()[name](torch.randn(N, D), t, _graph())
