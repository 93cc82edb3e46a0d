r"""Representation similarity distillation: match the Gram matrices of a batch of nodes."""

from __future__ import annotations

from torch import Tensor, nn

from ._common import check_mask, check_widths
from .global_structure import global_structure_loss

__all__ = ["SIMILARITY_KERNELS", "SimilarityLoss"]

SIMILARITY_KERNELS = ("linear", "cosine")


class SimilarityLoss(nn.Module):
    r"""Representation similarity distillation (RSD) of NOSMOG (`Tian et al., ICLR 2023
    <https://arxiv.org/abs/2208.10010>`_): the student's hidden layer, through a learned
    projection :math:`g(\mathbf{h}) = \mathrm{dropout}(\mathrm{ReLU}(W\mathbf{h} + \mathbf{b}))`,
    and the teacher's hidden layer give two Gram matrices over the batch's nodes :math:`B`,
    matched entry-wise,

    .. math::
        \mathcal{L}_{\mathrm{RSD}} = \frac{1}{|B|^2} \sum_{i, j \in B}
            \big(\mathbf{t}_i^\top \mathbf{t}_j - g(\mathbf{s}_i)^\top g(\mathbf{s}_j)\big)^2 .

    With ``kernel="linear"`` the relations are raw dot products, as NOSMOG's, so the loss
    grows with the square of the embeddings' scale (weigh it accordingly); ``"cosine"`` compares
    the angles :math:`\cos(\mathbf{t}_i, \mathbf{t}_j)` instead. The teacher is detached.
    Called as ``loss(student, teacher, edge_index=None, mask=None)``; ``mask`` picks :math:`B`
    (default: all rows given), the edges are not used. Cost :math:`O(|B|^2 d)`: pass batches, not whole large graphs.

    Pairs used: all pairs of the batch.

    Args:
        student_channels (int): student width :math:`d_s`.
        teacher_channels (int): teacher width :math:`d_t` (the projection's output).
        dropout (float, optional): dropout after the projection (NOSMOG: the student's)
            (default: :obj:`0.0`).
        projection (bool, optional): learn :math:`g`; ``False`` compares the student's layer
            directly and needs equal widths (default: :obj:`True`).
        kernel (str, optional): the relation between two nodes: ``"linear"``, the dot product
            (NOSMOG's), or ``"cosine"``, which bounds the Gram entries to :math:`[-1, 1]` and so
            does not depend on the scale of the teacher's embeddings (default: :obj:`"linear"`).
    """

    pairs = "all pairs of the batch"

    def __init__(
        self,
        student_channels: int,
        teacher_channels: int,
        dropout: float = 0.0,
        projection: bool = True,
        kernel: str = "linear",
    ) -> None:
        super().__init__()
        if kernel not in SIMILARITY_KERNELS:
            raise ValueError(f"Unknown kernel {kernel!r}; valid choices: {', '.join(SIMILARITY_KERNELS)}")
        self.kernel = kernel
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        if not projection and student_channels != teacher_channels:
            raise ValueError(
                f"projection=False needs equal widths, got student {student_channels} and teacher {teacher_channels}"
            )
        self.student_channels, self.teacher_channels = student_channels, teacher_channels
        self.proj = (
            nn.Sequential(nn.Linear(student_channels, teacher_channels), nn.ReLU(), nn.Dropout(dropout))
            if projection
            else nn.Identity()
        )

    def forward(
        self, student: Tensor, teacher: Tensor, edge_index: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        check_widths("SimilarityLoss", student, teacher, self.student_channels, self.teacher_channels)
        mask = check_mask(mask, student.size(0))
        if mask is not None:
            student, teacher = student[mask], teacher[mask]
        return global_structure_loss(self.proj(student), teacher, kernel=self.kernel, match="mse")

    def extra_repr(self) -> str:
        widths = f"student_channels={self.student_channels}, teacher_channels={self.teacher_channels}"
        return f"{widths}, kernel={self.kernel!r}"
