import pytest
import torch
import torch.nn.functional as F

from graphkd.losses import SoftLabelLoss, kd_loss, logit_mse_loss


def test_zero_when_student_equals_teacher():
    t = torch.randn(10, 4)
    for temperature in (0.5, 1.0, 4.0):
        assert kd_loss(t.clone(), t, temperature).item() == 0.0
    assert logit_mse_loss(t.clone(), t).item() == 0.0


def test_matches_definition():
    s, t = torch.randn(8, 5), torch.randn(8, 5)
    T = 2.0
    p_t = F.softmax(t / T, -1)
    ref = (p_t * (p_t.log() - F.log_softmax(s / T, -1))).sum() / 8 * T**2
    assert torch.allclose(kd_loss(s, t, T), ref, atol=1e-6)
    assert torch.allclose(kd_loss(s, t, T, reduction="mean"), ref / 5, atol=1e-6)
    assert torch.allclose(kd_loss(s, t, T, reduction="sum"), ref * 8, atol=1e-5)
    assert kd_loss(s, t, T, reduction="none").shape == (8,)
    assert torch.allclose(logit_mse_loss(s, t), F.mse_loss(s, t))


def test_stable_with_huge_logits():
    s = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    t = torch.tensor([[-1e4, 1e4, 0.0], [-1e4, 1e4, 0.0]])
    loss = kd_loss(s, t, 1.0)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0 and torch.isfinite(s.grad).all()
    assert kd_loss(t.clone(), t).item() == 0.0


def test_gradient_reaches_student_only():
    s = torch.randn(6, 3, requires_grad=True)
    t = torch.randn(6, 3, requires_grad=True)
    (kd_loss(s, t) + logit_mse_loss(s, t)).backward()
    assert s.grad is not None and t.grad is None


def test_mask_selects_nodes():
    s, t = torch.randn(6, 3), torch.randn(6, 3)
    mask = torch.tensor([True, False, True, False, False, False])
    assert torch.allclose(kd_loss(s, t, mask=mask), kd_loss(s[mask], t[mask]))
    assert kd_loss(s, t, mask=torch.zeros(6, dtype=torch.bool)).item() == 0.0  # empty: 0, not NaN


def test_soft_label_mix():
    s, t, y = torch.randn(6, 3), torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    labelled = torch.tensor([True, True, False, False, False, False])
    assert torch.allclose(SoftLabelLoss(lam=0.0)(s, t), kd_loss(s, t))
    mixed = SoftLabelLoss(lam=0.3, temperature=2.0)(s, t, y, labelled)
    ref = 0.3 * F.cross_entropy(s[labelled], y[labelled]) + 0.7 * kd_loss(s, t, 2.0)
    assert torch.allclose(mixed, ref)
    assert torch.allclose(SoftLabelLoss(lam=1.0)(s, t, y, labelled), F.cross_entropy(s[labelled], y[labelled]))
    assert torch.allclose(SoftLabelLoss(kind="mse")(s, t), logit_mse_loss(s, t))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s, t: kd_loss(s, t, 0.0), "temperature must be > 0, got 0.0"),
        (lambda s, t: kd_loss(s, t[:, :2]), r"both be \[num_nodes, num_classes\], got \[4, 3\] and \[4, 2\]"),
        (lambda s, t: kd_loss(s, t, reduction="avg"), "Unknown reduction 'avg'"),
        (
            lambda s, t: kd_loss(s, t, mask=torch.ones(3, dtype=torch.bool)),
            r"mask must be a boolean tensor of shape \[4\]",
        ),
        (lambda s, t: SoftLabelLoss(lam=1.5), r"lam must lie in \[0, 1\], got 1.5"),
        (lambda s, t: SoftLabelLoss(kind="js"), "Unknown soft-label loss 'js'"),
        (lambda s, t: SoftLabelLoss(lam=0.5)(s, t), "lam > 0 needs labels"),
        (lambda s, t: kd_loss(s, t.index_fill(0, torch.tensor([1]), float("nan"))), "teacher logits contain NaN"),
        (lambda s, t: logit_mse_loss(s, t.index_fill(0, torch.tensor([2]), float("inf"))), "contain NaN or Inf"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(torch.randn(4, 3), torch.randn(4, 3))
