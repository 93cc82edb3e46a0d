import pytest
import torch

from graphkd.losses import SimilarityLoss


def test_zero_for_equal_embeddings_and_positive_otherwise():
    t = torch.randn(10, 6)
    for kernel in ("linear", "cosine"):
        loss = SimilarityLoss(6, 6, projection=False, kernel=kernel)
        assert loss(t.clone(), t) == 0
        assert loss(torch.randn(10, 6), t) > 0


def test_is_the_gram_mse_and_the_teacher_is_detached():
    s, t = torch.randn(7, 3, requires_grad=True), torch.randn(7, 5, requires_grad=True)
    loss = SimilarityLoss(3, 5)
    value = loss(s, t)
    g = loss.proj(s)
    assert torch.allclose(value, ((g @ g.t() - t @ t.t()) ** 2).mean())
    value.backward()
    assert s.grad is not None and t.grad is None and loss.proj[0].weight.grad is not None


def test_cosine_ignores_scale_and_mask_picks_rows():
    s, t = torch.randn(8, 4), torch.randn(8, 4)
    loss = SimilarityLoss(4, 4, projection=False, kernel="cosine")
    assert torch.allclose(loss(s, t), loss(s, 50 * t))
    mask = torch.tensor([True] * 5 + [False] * 3)
    assert torch.allclose(loss(s, t, mask=mask), loss(s[:5], t[:5]))


def test_bad_input():
    with pytest.raises(ValueError, match="Unknown kernel 'rbf'"):
        SimilarityLoss(4, 4, kernel="rbf")
    with pytest.raises(ValueError, match="projection=False needs equal widths"):
        SimilarityLoss(4, 5, projection=False)
    with pytest.raises(ValueError, match=r"SimilarityLoss\(4, 5\) got student width 3"):
        SimilarityLoss(4, 5)(torch.randn(2, 3), torch.randn(2, 5))
