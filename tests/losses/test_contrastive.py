import pytest
import torch
import torch.nn.functional as F

from graphkd.losses import ContrastiveLoss


def test_hard_positives_is_infonce():
    torch.manual_seed(0)
    loss = ContrastiveLoss(4, 4, temperature=0.2, positives="hard", num_samples=None)  # identity heads
    s, t = torch.randn(7, 4), torch.randn(7, 4)
    logits = F.normalize(s, dim=1) @ F.normalize(t, dim=1).t() / 0.2
    assert torch.allclose(loss(s, t), F.cross_entropy(logits, torch.arange(7)), atol=1e-6)
    # a student equal to the teacher does not reach 0 under InfoNCE (documented)
    assert loss(t.clone(), t).item() > 0


def test_soft_positives_zero_at_equality_and_positive_otherwise():
    torch.manual_seed(0)
    loss = ContrastiveLoss(4, 4, num_samples=None)
    t = torch.randn(9, 4)
    assert loss(t.clone(), t).abs().item() < 1e-6
    assert loss(torch.randn(9, 4), t).item() > 0


def test_memory_bank_adds_keys_in_training_mode_only():
    torch.manual_seed(0)
    loss = ContrastiveLoss(3, 5, proj_channels=6, memory_size=8, num_samples=None, positives="hard")
    s, t = torch.randn(5, 3), torch.randn(5, 5)
    first = loss(s, t)  # empty bank: batch negatives only
    assert loss.bank_filled == 5
    loss(s, t)
    assert loss.bank_filled == 8 and loss.bank_next == 2
    assert not torch.allclose(loss(s, t), first)  # more negatives now
    loss.eval()
    loss(s, t)
    assert loss.bank_next == 7  # unchanged in eval mode (5 + 5 + 5 = 15 -> 7)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Unknown positives 'both'"):
        ContrastiveLoss(2, 2, positives="both")
    with pytest.raises(ValueError, match="temperature"):
        ContrastiveLoss(2, 2, temperature=0)
    with pytest.raises(ValueError, match="got student width 3"):
        ContrastiveLoss(2, 2)(torch.randn(4, 3), torch.randn(4, 2))
