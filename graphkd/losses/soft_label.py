"""Node-level soft-label losses: Hinton's knowledge distillation and logit matching."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._common import check_finite

__all__ = ["REDUCTIONS", "SoftLabelLoss", "kd_loss", "logit_mse_loss"]

REDUCTIONS = ("batchmean", "mean", "sum", "none")


def _check(student: Tensor, teacher: Tensor, mask: Tensor | None, reduction: str) -> tuple[Tensor, Tensor]:
    if reduction not in REDUCTIONS:
        raise ValueError(f"Unknown reduction {reduction!r}; valid choices: {', '.join(REDUCTIONS)}")
    if student.dim() != 2 or student.shape != teacher.shape:
        raise ValueError(
            f"student and teacher logits must both be [num_nodes, num_classes], got {list(student.shape)} and "
            f"{list(teacher.shape)}"
        )
    if mask is not None:
        if mask.dtype != torch.bool or mask.shape != student.shape[:1]:
            raise ValueError(f"mask must be a boolean tensor of shape [{student.size(0)}], got {list(mask.shape)}")
        student, teacher = student[mask], teacher[mask]
    return student, teacher.detach()


def _checked(per_node: Tensor, teacher: Tensor) -> Tensor:
    # a non-finite teacher always makes its nodes' terms non-finite, so the [N] terms are checked
    # and the [N, C] teacher only read when one is: a NaN teacher raises, a cheap test otherwise
    if not bool(torch.isfinite(per_node).all()):
        check_finite(teacher, "teacher logits")
    return per_node


def _reduce(per_node: Tensor, num_classes: int, reduction: str) -> Tensor:
    if reduction == "none":
        return per_node
    if reduction == "sum":
        return per_node.sum()
    n = max(per_node.numel(), 1)  # an empty selection gives 0, not NaN
    return per_node.sum() / (n if reduction == "batchmean" else n * num_classes)


def kd_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    temperature: float = 1.0,
    mask: Tensor | None = None,
    reduction: str = "batchmean",
) -> Tensor:
    r"""Hinton's distillation loss (`Hinton et al., 2015 <https://arxiv.org/abs/1503.02531>`_),
    as used by GLNN (`Zhang et al., ICLR 2022 <https://arxiv.org/abs/2110.08727>`_):

    .. math::
        \mathcal{L}_{\mathrm{KD}} = T^2 \sum_i \mathrm{KL}\big(
            \mathrm{softmax}(\mathbf{t}_i / T) \,\|\, \mathrm{softmax}(\mathbf{s}_i / T)\big)
        = T^2 \sum_i \sum_c p^t_{ic} (\log p^t_{ic} - \log p^s_{ic}),

    computed on log-probabilities (``log_softmax`` on both sides, ``log_target``), so logits of
    :math:`\pm 10^4` give no NaN/Inf. The teacher is detached: gradients reach the student only.
    The loss is exactly 0 when the two logits agree.

    Args:
        student_logits (Tensor): raw student logits ``[N, C]``.
        teacher_logits (Tensor): raw teacher logits ``[N, C]``.
        temperature (float, optional): :math:`T > 0` (default: :obj:`1.0`).
        mask (Tensor, optional): boolean ``[N]``: the nodes that count (default: all).
        reduction (str, optional): ``"batchmean"`` (sum over nodes and classes / nodes),
            ``"mean"`` (/ nodes·classes), ``"sum"`` or ``"none"`` (one value per selected node)
            (default: :obj:`"batchmean"`).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    s, t = _check(student_logits, teacher_logits, mask, reduction)
    log_s = F.log_softmax(s / temperature, dim=-1)
    log_t = F.log_softmax(t / temperature, dim=-1)
    per_node = F.kl_div(log_s, log_t, reduction="none", log_target=True).sum(-1) * temperature**2
    return _reduce(_checked(per_node, t), s.size(-1), reduction)


def logit_mse_loss(
    student_logits: Tensor, teacher_logits: Tensor, mask: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    r"""Logit matching (`Ba and Caruana, NeurIPS 2014 <https://arxiv.org/abs/1312.6184>`_):

    .. math::
        \mathcal{L}_{\mathrm{MSE}} = \frac{1}{NC} \sum_i \lVert \mathbf{s}_i - \mathbf{t}_i \rVert_2^2 .

    Args:
        student_logits, teacher_logits (Tensor): raw logits ``[N, C]``; the teacher is detached.
        mask (Tensor, optional): boolean ``[N]`` (default: all nodes).
        reduction (str, optional): as in :func:`kd_loss` (default: :obj:`"mean"`).
    """
    s, t = _check(student_logits, teacher_logits, mask, reduction)
    per_node = (s - t).pow(2).sum(-1)
    return _reduce(_checked(per_node, t), s.size(-1), reduction)


class SoftLabelLoss(nn.Module):
    r"""Cross-entropy on labelled nodes mixed with distillation on soft-labelled nodes (`Hinton et
    al., 2015 <https://arxiv.org/abs/1503.02531>`_; GLNN, `Zhang et al., ICLR 2022
    <https://arxiv.org/abs/2110.08727>`_):

    .. math::
        \mathcal{L} = \lambda \, \mathrm{CE}(\mathbf{s}_{\mathcal{V}_L}, \mathbf{y}_{\mathcal{V}_L})
        + (1 - \lambda) \, \mathcal{L}_{\mathrm{KD}}(\mathbf{s}_{\mathcal{V}_T}, \mathbf{t}_{\mathcal{V}_T})

    where :math:`\mathcal{V}_L` are the labelled nodes and :math:`\mathcal{V}_T` the nodes with
    teacher outputs. GLNN uses :math:`\lambda = 0`, :math:`T = 1` on all nodes.

    Args:
        lam (float, optional): weight :math:`\lambda \in [0, 1]` of the hard labels (default: :obj:`0.0`).
        temperature (float, optional): distillation temperature (default: :obj:`1.0`).
        kind (str, optional): ``"kd"`` (KL, :func:`kd_loss`) or ``"mse"`` (:func:`logit_mse_loss`)
            (default: :obj:`"kd"`).
    """

    KINDS = ("kd", "mse")

    def __init__(self, lam: float = 0.0, temperature: float = 1.0, kind: str = "kd") -> None:
        super().__init__()
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"lam must lie in [0, 1], got {lam}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if kind not in self.KINDS:
            raise ValueError(f"Unknown soft-label loss {kind!r}; valid choices: {', '.join(self.KINDS)}")
        self.lam, self.temperature, self.kind = lam, temperature, kind

    def forward(
        self,
        student_logits: Tensor,
        teacher_logits: Tensor,
        y: Tensor | None = None,
        label_mask: Tensor | None = None,
        soft_mask: Tensor | None = None,
    ) -> Tensor:
        if self.kind == "kd":
            soft = kd_loss(student_logits, teacher_logits, self.temperature, soft_mask)
        else:
            soft = logit_mse_loss(student_logits, teacher_logits, soft_mask)
        if self.lam == 0.0:
            return soft
        if y is None or label_mask is None:
            raise ValueError("lam > 0 needs labels y and label_mask")
        # mean over the labelled nodes; 0 (not NaN) for a mini-batch without any
        hard = F.cross_entropy(student_logits[label_mask], y[label_mask], reduction="sum")
        hard = hard / label_mask.sum().clamp_min(1)
        return self.lam * hard + (1.0 - self.lam) * soft

    def extra_repr(self) -> str:
        return f"lam={self.lam}, temperature={self.temperature}, kind={self.kind!r}"
