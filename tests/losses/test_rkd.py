import itertools

import pytest
import torch
import torch.nn.functional as F

from graphkd.losses import RKDLoss, rkd_angle_loss, rkd_distance_loss


def test_distance_loss_matches_definition_and_is_scale_free():
    torch.manual_seed(0)
    s, t = torch.randn(5, 3), torch.randn(5, 6)

    def psi(h):
        d = torch.tensor([[float((h[i] - h[j]).norm()) for j in range(5)] for i in range(5)])
        return d / d[d > 0].mean()

    assert torch.allclose(rkd_distance_loss(s, t), F.smooth_l1_loss(psi(s), psi(t)), atol=1e-6)
    assert torch.allclose(rkd_distance_loss(7.0 * s, t), rkd_distance_loss(s, t), atol=1e-6)


def test_angle_loss_matches_definition():
    torch.manual_seed(0)
    s, t = torch.randn(4, 3), torch.randn(4, 2)

    def psi(h):
        out = []
        for j, i, k in itertools.product(range(4), repeat=3):  # apex j
            e_ij, e_kj = F.normalize(h[i] - h[j], dim=0), F.normalize(h[k] - h[j], dim=0)
            out.append(float(e_ij @ e_kj))
        return torch.tensor(out)

    assert torch.allclose(rkd_angle_loss(s, t), F.smooth_l1_loss(psi(s), psi(t)), atol=1e-6)
    assert torch.allclose(rkd_angle_loss(3.0 * s, t), rkd_angle_loss(s, t), atol=1e-6)


def test_combined_weights_and_small_sets():
    torch.manual_seed(0)
    s, t = torch.randn(6, 3), torch.randn(6, 3)
    both = RKDLoss(1.0, 2.0, num_samples=None, angle_samples=6)(s, t)
    assert torch.allclose(both, rkd_distance_loss(s, t) + 2 * rkd_angle_loss(s, t))
    assert rkd_angle_loss(s[:2], t[:2]).item() == 0.0  # no triplet of distinct nodes
    with pytest.raises(ValueError, match="not both 0"):
        RKDLoss(0.0, 0.0)
    with pytest.raises(ValueError, match="angle_samples"):
        RKDLoss(angle_samples=2)
    with pytest.raises(ValueError, match=r"index refers to nodes outside 0..5"):
        rkd_distance_loss(s, t, torch.tensor([0, 6]))
    with pytest.raises(ValueError, match="index must be a 1-D integer tensor"):
        rkd_angle_loss(s, t, torch.tensor([0.0, 1.0]))
