import pytest
import torch

from graphkd.losses import HintLoss


def test_identity_start_projection_and_mask():
    t = torch.randn(6, 4)
    assert HintLoss(4, 4)(t.clone(), t).item() == 0.0
    loss = HintLoss(3, 4)
    s = torch.randn(6, 3)
    assert torch.allclose(loss(s, t), (loss.proj(s) - t).pow(2).mean())
    mask = torch.tensor([True, False, True, False, False, False])
    assert torch.allclose(loss(s, t, mask=mask), (loss.proj(s[mask]) - t[mask]).pow(2).mean())
    assert HintLoss(4, 4, projection=False)(t + 1, t).item() == pytest.approx(1.0)


def test_width_errors():
    with pytest.raises(ValueError, match="projection=False needs equal widths"):
        HintLoss(3, 4, projection=False)
    with pytest.raises(ValueError, match="got student width 5"):
        HintLoss(3, 4)(torch.randn(2, 5), torch.randn(2, 4))
