r"""Relational knowledge distillation (RKD): match pairwise distances and triplet angles."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._common import check_embeddings, check_finite, check_index, check_mask
from .sampling import sample_nodes

__all__ = ["RKDLoss", "rkd_angle_loss", "rkd_distance_loss"]


def _distances(h: Tensor) -> Tensor:
    # exact differences (no |a|^2 + |b|^2 - 2ab cancellation); zero gradient where rows coincide
    return torch.cdist(h, h, p=2.0, compute_mode="donot_use_mm_for_euclid_dist")


def rkd_distance_loss(student: Tensor, teacher: Tensor, index: Tensor | None = None) -> Tensor:
    r"""RKD's distance loss (`Park et al., CVPR 2019 <https://arxiv.org/abs/1904.05068>`_) on a
    node set :math:`S` (``index``):

    .. math::
        \psi_D(\mathbf{h}_i, \mathbf{h}_j) = \frac{\lVert \mathbf{h}_i - \mathbf{h}_j \rVert_2}{\mu},
        \quad \mu = \frac{1}{|\{(i,j): i \ne j\}|} \sum_{i \ne j} \lVert \mathbf{h}_i - \mathbf{h}_j \rVert_2,
        \qquad
        \mathcal{L}_{D} = \frac{1}{|S|^2} \sum_{i,j \in S} \ell_\delta\big(\psi_D(\mathbf{t}_i,\mathbf{t}_j),
                                                            \psi_D(\mathbf{s}_i,\mathbf{s}_j)\big)

    with the Huber loss :math:`\ell_\delta` (``smooth_l1``, :math:`\delta = 1`). Normalising by
    the mean distance makes the loss independent of each side's scale and width. Cost
    :math:`O(|S|^2 d)`. The teacher is detached.
    """
    check_embeddings(student, teacher)
    check_finite(teacher, "teacher embeddings")
    index = check_index(index, student.size(0))
    if index is not None:
        student, teacher = student[index], teacher[index]
    if student.size(0) < 2:
        return student.sum() * 0.0
    d_s, d_t = _distances(student), _distances(teacher.detach())
    d_s = d_s / d_s[d_s > 0].mean().clamp_min(1e-12) if bool((d_s > 0).any()) else d_s
    d_t = d_t / d_t[d_t > 0].mean().clamp_min(1e-12) if bool((d_t > 0).any()) else d_t
    return F.smooth_l1_loss(d_s, d_t)


def _angles(h: Tensor) -> Tensor:
    e = F.normalize(h.unsqueeze(0) - h.unsqueeze(1), p=2, dim=-1)  # e[j, i] = unit(h_i - h_j)
    return torch.bmm(e, e.transpose(1, 2)).flatten()  # cos of the angle i-j-k, for every apex j


def rkd_angle_loss(student: Tensor, teacher: Tensor, index: Tensor | None = None) -> Tensor:
    r"""RKD's angle loss (`Park et al., CVPR 2019 <https://arxiv.org/abs/1904.05068>`_) on a node
    set :math:`S`:

    .. math::
        \psi_A(\mathbf{h}_i, \mathbf{h}_j, \mathbf{h}_k) = \langle \mathbf{e}^{ij}, \mathbf{e}^{kj} \rangle,
        \quad \mathbf{e}^{ij} = \frac{\mathbf{h}_i - \mathbf{h}_j}{\lVert \mathbf{h}_i - \mathbf{h}_j \rVert_2},
        \qquad
        \mathcal{L}_{A} = \frac{1}{|S|^3} \sum_{i,j,k \in S}
            \ell_\delta\big(\psi_A(\mathbf{t}_i,\mathbf{t}_j,\mathbf{t}_k),
                            \psi_A(\mathbf{s}_i,\mathbf{s}_j,\mathbf{s}_k)\big).

    Every triplet is formed, so time and memory grow as :math:`O(|S|^3 + |S|^2 d)`: keep
    :math:`|S|` small (:class:`RKDLoss` uses 64 nodes by default: 262k triplets). Angles are
    scale-free and may compare embeddings of different widths. The teacher is detached.
    """
    check_embeddings(student, teacher)
    check_finite(teacher, "teacher embeddings")
    index = check_index(index, student.size(0))
    if index is not None:
        student, teacher = student[index], teacher[index]
    if student.size(0) < 3:
        return student.sum() * 0.0
    return F.smooth_l1_loss(_angles(student), _angles(teacher.detach()))


class RKDLoss(nn.Module):
    r"""Relational knowledge distillation (`Park et al., CVPR 2019 <https://arxiv.org/abs/1904.05068>`_),
    distance and angle terms (:func:`rkd_distance_loss`, :func:`rkd_angle_loss`; the paper uses
    :math:`w_D = 1`, :math:`w_A = 2`), each on its own uniformly drawn node set (from ``mask``
    when given):

    .. math::
        \mathcal{L}_{\mathrm{RKD}} = w_D \frac{1}{|S|^2} \sum_{i,j} \ell_\delta(\psi_D^t, \psi_D^s)
            + w_A \frac{1}{|S'|^3} \sum_{i,j,k} \ell_\delta(\psi_A^t, \psi_A^s).

    Called as ``loss(student, teacher, edge_index=None, mask=None)``; the edges are not used.

    Pairs used: all pairs (distance) and triplets (angle) of sampled node sets.

    Args:
        distance_weight (float, optional): :math:`w_D` (default: :obj:`1.0`).
        angle_weight (float, optional): :math:`w_A` (default: :obj:`2.0`).
        num_samples (int, optional): nodes for the distance term; ``None``: all (default: :obj:`1024`).
        angle_samples (int, optional): nodes for the angle term (default: :obj:`64`).
        generator (torch.Generator, optional): source of the draws.
    """

    pairs = "sampled node sets"

    def __init__(
        self,
        distance_weight: float = 1.0,
        angle_weight: float = 2.0,
        num_samples: int | None = 1024,
        angle_samples: int = 64,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if distance_weight < 0 or angle_weight < 0 or distance_weight + angle_weight == 0:
            raise ValueError(
                f"distance_weight and angle_weight must be >= 0 and not both 0, got {distance_weight}, {angle_weight}"
            )
        if (num_samples is not None and num_samples < 2) or angle_samples < 3:
            raise ValueError(f"num_samples must be >= 2 and angle_samples >= 3, got {num_samples}, {angle_samples}")
        self.distance_weight, self.angle_weight = distance_weight, angle_weight
        self.num_samples, self.angle_samples, self.generator = num_samples, angle_samples, generator

    def forward(
        self, student: Tensor, teacher: Tensor, edge_index: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        check_embeddings(student, teacher)
        mask = check_mask(mask, student.size(0))
        loss = student.sum() * 0.0
        n, device = student.size(0), student.device
        if self.distance_weight:
            index = sample_nodes(n, self.num_samples, mask, self.generator, device)
            loss = loss + self.distance_weight * rkd_distance_loss(student, teacher, index)
        if self.angle_weight:
            index = sample_nodes(n, self.angle_samples, mask, self.generator, device)
            loss = loss + self.angle_weight * rkd_angle_loss(student, teacher, index)
        return loss

    def extra_repr(self) -> str:
        return (
            f"distance_weight={self.distance_weight}, angle_weight={self.angle_weight}, "
            f"num_samples={self.num_samples}, angle_samples={self.angle_samples}"
        )
