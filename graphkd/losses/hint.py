r"""Feature hints (FitNet): regress a teacher layer from a student layer."""

from __future__ import annotations

from torch import Tensor, nn

from ._common import check_mask, check_widths
from .projection import projection as make_projection

__all__ = ["HintLoss"]


class HintLoss(nn.Module):
    r"""FitNet hints (`Romero et al., ICLR 2015 <https://arxiv.org/abs/1412.6550>`_): a learned
    projection :math:`W` (the "regressor") maps the student's hidden layer to the teacher's width,

    .. math::
        \mathcal{L}_{\mathrm{hint}} = \frac{1}{|\mathcal{V}'|\, d_t} \sum_{i \in \mathcal{V}'}
            \lVert W \mathbf{s}_i + \mathbf{b} - \mathbf{t}_i \rVert_2^2 .

    With equal widths the projection starts as the identity (0 loss for equal embeddings); pass
    ``projection=False`` to compare the embeddings directly. Gradients reach the student and
    the projection, never the teacher. Called as ``loss(student, teacher, edge_index=None,
    mask=None)``; ``mask`` picks the nodes :math:`\mathcal{V}'`, the edges are not used.

    Pairs used: none (each node with itself).

    Args:
        student_channels (int): student width :math:`d_s`.
        teacher_channels (int): teacher width :math:`d_t`.
        projection (bool, optional): learn :math:`W, \mathbf{b}` (default: :obj:`True`; needed
            when the widths differ).
    """

    pairs = "nodes"

    def __init__(self, student_channels: int, teacher_channels: int, projection: bool = True) -> None:
        super().__init__()
        if not projection and student_channels != teacher_channels:
            raise ValueError(
                f"projection=False needs equal widths, got student {student_channels} and teacher {teacher_channels}"
            )
        self.student_channels, self.teacher_channels = student_channels, teacher_channels
        self.proj = make_projection(student_channels, teacher_channels) if projection else nn.Identity()

    def forward(
        self, student: Tensor, teacher: Tensor, edge_index: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        check_widths("HintLoss", student, teacher, self.student_channels, self.teacher_channels)
        mask = check_mask(mask, student.size(0))
        if mask is not None:
            student, teacher = student[mask], teacher[mask]
        if student.size(0) == 0:
            return student.sum() * 0.0
        return (self.proj(student) - teacher.detach()).pow(2).mean()

    def extra_repr(self) -> str:
        return f"student_channels={self.student_channels}, teacher_channels={self.teacher_channels}"
