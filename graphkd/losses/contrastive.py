r"""Contrastive representation distillation (G-CRD-like): InfoNCE between projected embeddings."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._common import check_mask, check_widths
from .projection import projection
from .sampling import sample_nodes

__all__ = ["POSITIVES", "ContrastiveLoss"]

POSITIVES = ("soft", "hard")


class ContrastiveLoss(nn.Module):
    r"""Contrastive representation distillation on graphs (G-CRD-like; `Joshi et al., IEEE TNNLS
    2022 <https://arxiv.org/abs/2111.04964>`_, after CRD, `Tian et al., ICLR 2020
    <https://arxiv.org/abs/1910.10699>`_). Projection heads :math:`g` (student) and :math:`f`
    (teacher) map both sides to a shared width and are L2-normalised,
    :math:`\mathbf{z}^s_i = g(\mathbf{s}_i)/\lVert g(\mathbf{s}_i)\rVert`,
    :math:`\mathbf{z}^t_j = f(\mathbf{t}_j)/\lVert f(\mathbf{t}_j)\rVert`; each student node
    :math:`i` of the batch :math:`B` scores every key :math:`j \in K` (the batch's teacher
    embeddings, plus a memory bank of earlier ones) by
    :math:`p_{ij} = \mathrm{softmax}_{j \in K}(\mathbf{z}^{s\top}_i \mathbf{z}^t_j / \tau)`, and

    .. math::
        \mathcal{L}_{\mathrm{hard}} = -\frac{1}{|B|} \sum_{i \in B} \log p_{ii}
        \qquad\text{(InfoNCE, the teacher's own node is the positive)},

    .. math::
        \mathcal{L}_{\mathrm{soft}} = \frac{1}{|B|} \sum_{i \in B} \mathrm{KL}(q_i \,\|\, p_i),
        \quad q_{ij} = \mathrm{softmax}_{j \in K}\big(\cos(\mathbf{t}_i, \mathbf{t}_j) / \tau\big)
        \qquad\text{(InfoNCE with the teacher's own similarities as soft positives).}

    ``hard`` is the published objective; its minimum is not 0 (a student equal to the teacher
    still pays :math:`-\log p_{ii} > 0`). ``soft`` (the default) keeps the same contrast but
    targets the teacher's relations, so it is exactly 0 for a student equal to the teacher when
    the heads are the identity (as they start when ``student_channels == teacher_channels ==
    proj_channels``). Its targets use the raw teacher embeddings, so the heads cannot collapse
    them. Gradients reach the student and both heads, never the teacher.

    Pairs used: each node against the other nodes of its batch (up to ``num_samples``, drawn
    uniformly) and the memory bank. Called as ``loss(student, teacher, edge_index=None,
    mask=None)``; ``mask`` limits the nodes drawn, the edges are not used. The bank (when
    ``memory_size > 0``) is a FIFO of past teacher embeddings, updated in training mode only; it
    may hold copies of the batch's own nodes, which act as extra (false) negatives under ``hard``.

    Args:
        student_channels (int): student width.
        teacher_channels (int): teacher width.
        proj_channels (int, optional): width of the shared space (default: ``teacher_channels``).
        temperature (float, optional): :math:`\tau > 0` (default: :obj:`0.1`).
        positives (str, optional): ``"soft"`` or ``"hard"`` (default: :obj:`"soft"`).
        memory_size (int, optional): number of past teacher embeddings kept as extra keys; 0: batch
            negatives only (default: :obj:`0`).
        num_samples (int, optional): anchors per call; ``None``: every (masked) node. The cost is
            :math:`O(|B| (|B| + \text{memory\_size}))` (default: :obj:`2048`).
        generator (torch.Generator, optional): source of the draws.
    """

    pairs = "batch negatives (+ memory bank)"

    def __init__(
        self,
        student_channels: int,
        teacher_channels: int,
        proj_channels: int | None = None,
        temperature: float = 0.1,
        positives: str = "soft",
        memory_size: int = 0,
        num_samples: int | None = 2048,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if positives not in POSITIVES:
            raise ValueError(f"Unknown positives {positives!r}; valid choices: {', '.join(POSITIVES)}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if memory_size < 0:
            raise ValueError(f"memory_size must be >= 0, got {memory_size}")
        if num_samples is not None and num_samples < 2:
            raise ValueError(f"num_samples must be >= 2 or None, got {num_samples}")
        proj_channels = teacher_channels if proj_channels is None else proj_channels
        self.student_channels, self.teacher_channels = student_channels, teacher_channels
        self.student_head = projection(student_channels, proj_channels)
        self.teacher_head = projection(teacher_channels, proj_channels)
        self.temperature, self.positives, self.memory_size = temperature, positives, memory_size
        self.num_samples, self.generator = num_samples, generator
        self.register_buffer("bank", torch.zeros(memory_size, teacher_channels), persistent=False)
        self.bank_filled, self.bank_next = 0, 0

    def forward(
        self, student: Tensor, teacher: Tensor, edge_index: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        check_widths("ContrastiveLoss", student, teacher, self.student_channels, self.teacher_channels)
        mask = check_mask(mask, student.size(0))
        index = sample_nodes(student.size(0), self.num_samples, mask, self.generator, student.device)
        s, t = student[index], teacher[index].detach()
        if s.size(0) == 0:
            return student.sum() * 0.0
        keys = torch.cat([t, self.bank[: self.bank_filled].to(t)]) if self.bank_filled else t
        z_s = F.normalize(self.student_head(s), dim=-1)
        z_t = F.normalize(self.teacher_head(keys), dim=-1)
        log_p = F.log_softmax(z_s @ z_t.t() / self.temperature, dim=-1)
        if self.positives == "hard":
            loss = -log_p.diagonal().mean()
        else:
            t_n = F.normalize(t, dim=-1)
            log_q = F.log_softmax(t_n @ F.normalize(keys, dim=-1).t() / self.temperature, dim=-1)
            loss = (log_q.exp() * (log_q - log_p)).sum(-1).mean()
        if self.training and self.memory_size:
            self._enqueue(t)
        return loss

    @torch.no_grad()
    def _enqueue(self, keys: Tensor) -> None:
        keys = keys[-self.memory_size :].to(self.bank)
        n = keys.size(0)
        pos = (self.bank_next + torch.arange(n)) % self.memory_size
        self.bank[pos.to(self.bank.device)] = keys
        self.bank_next = (self.bank_next + n) % self.memory_size
        self.bank_filled = min(self.bank_filled + n, self.memory_size)

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, positives={self.positives!r}, memory_size={self.memory_size}, "
            f"num_samples={self.num_samples}"
        )
