import pytest
import torch
import torch.nn.functional as F

from graphkd.losses import GlobalStructureLoss, global_structure_loss, pairwise_kernel


def test_matches_definition():
    torch.manual_seed(0)
    s, t = torch.randn(6, 3), torch.randn(6, 5)
    k_s = F.normalize(s, dim=1) @ F.normalize(s, dim=1).t()
    k_t = F.normalize(t, dim=1) @ F.normalize(t, dim=1).t()
    ref = 0.0
    for i in range(6):
        others = [j for j in range(6) if j != i]
        p_t, p_s = F.softmax(k_t[i, others] / 0.5, 0), F.softmax(k_s[i, others] / 0.5, 0)
        ref += float((p_t * (p_t / p_s).log()).sum())
    assert global_structure_loss(s, t, temperature=0.5).item() == pytest.approx(ref / 6, abs=1e-6)
    s2, t2 = torch.randn(6, 4), torch.randn(6, 4)
    mse = (pairwise_kernel(s2, s2, "rbf") - pairwise_kernel(t2, t2, "rbf")).pow(2).mean()
    assert torch.allclose(global_structure_loss(s2, t2, kernel="rbf", match="mse"), mse)


def test_index_selects_the_node_set_and_sampling_respects_the_mask():
    s, t = torch.randn(10, 3), torch.randn(10, 3)
    idx = torch.tensor([1, 4, 7])
    assert torch.allclose(global_structure_loss(s, t, idx), global_structure_loss(s[idx], t[idx]))
    mask = torch.zeros(10, dtype=torch.bool)
    mask[idx] = True
    loss = GlobalStructureLoss(num_samples=5)  # 3 masked nodes <= 5: all of them, in order
    assert torch.allclose(loss(s, t, mask=mask), global_structure_loss(s, t, idx))
    assert global_structure_loss(s, t, torch.tensor([2])).item() == 0.0  # a single node has no pair


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Unknown match 'l1'"):
        GlobalStructureLoss(match="l1")
    with pytest.raises(ValueError, match="num_samples"):
        GlobalStructureLoss(num_samples=1)
    with pytest.raises(ValueError, match="mask must be a boolean"):
        GlobalStructureLoss()(torch.randn(4, 2), torch.randn(4, 2), mask=torch.ones(4))
    with pytest.raises(ValueError, match=r"index refers to nodes outside 0..3"):
        global_structure_loss(torch.randn(4, 2), torch.randn(4, 2), torch.tensor([-1, 2]))
