r"""Global structure distillation: match the similarity matrices of a sampled set of nodes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._common import check_embeddings, check_finite, check_index, check_mask
from .kernels import check_kernel, pairwise_kernel
from .sampling import sample_nodes

__all__ = ["GSP_MATCHES", "GlobalStructureLoss", "global_structure_loss"]

GSP_MATCHES = ("mse", "kl")


def global_structure_loss(
    student: Tensor,
    teacher: Tensor,
    index: Tensor | None = None,
    kernel: str = "cosine",
    match: str = "kl",
    temperature: float = 1.0,
    gamma: float | None = None,
    degree: int = 2,
    coef: float = 1.0,
) -> Tensor:
    r"""Global structure preserving distillation (GSP-like; `Joshi et al., IEEE TNNLS 2022
    <https://arxiv.org/abs/2111.04964>`_ discuss it as the global counterpart of LSP): on a node
    set :math:`S` (``index``), the kernel matrices :math:`K^s_{ij} = k(\mathbf{s}_i, \mathbf{s}_j)`
    and :math:`K^t_{ij} = k(\mathbf{t}_i, \mathbf{t}_j)` are matched, either entry-wise

    .. math::
        \mathcal{L}_{\mathrm{mse}} = \frac{1}{|S|^2} \sum_{i,j \in S} (K^s_{ij} - K^t_{ij})^2,

    or as one distribution per row over the other nodes of :math:`S`,

    .. math::
        \mathcal{L}_{\mathrm{kl}} = \frac{1}{|S|} \sum_{i \in S}
            \mathrm{KL}\big(\mathrm{softmax}_{j \ne i}(K^t_{ij}/\tau) \,\|\,
                            \mathrm{softmax}_{j \ne i}(K^s_{ij}/\tau)\big).

    ``kl`` accepts different teacher and student widths with every kernel and is scale-free for
    ``cosine``; ``mse`` compares kernel values directly, so use a bounded kernel (``cosine``,
    ``rbf``) when the widths or scales differ. Cost: :math:`O(|S|^2 d)`. The teacher is detached.

    Pairs used: all pairs of a sampled node set.

    Args:
        student (Tensor): student embeddings ``[N, d_s]``.
        teacher (Tensor): teacher embeddings ``[N, d_t]``.
        index (Tensor, optional): the node set :math:`S`, ``[m]`` with :math:`m \ge 2` (default: all).
        kernel (str, optional): see :mod:`graphkd.losses.kernels` (default: :obj:`"cosine"`).
        match (str, optional): ``"kl"`` or ``"mse"`` (default: :obj:`"kl"`).
        temperature (float, optional): row-softmax temperature for ``kl`` (default: :obj:`1.0`).
        gamma, degree, coef: kernel parameters.
    """
    check_embeddings(student, teacher)
    check_finite(teacher, "teacher embeddings")
    index = check_index(index, student.size(0))
    check_kernel(kernel, gamma, degree, coef)
    if match not in GSP_MATCHES:
        raise ValueError(f"Unknown match {match!r}; valid choices: {', '.join(GSP_MATCHES)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if index is not None:
        student, teacher = student[index], teacher[index]
    m = student.size(0)
    if m < 2:
        return student.sum() * 0.0  # no pair: nothing to match
    kw = {"kernel": kernel, "gamma": gamma, "degree": degree, "coef": coef}
    teacher = teacher.detach()
    k_s, k_t = pairwise_kernel(student, student, **kw), pairwise_kernel(teacher, teacher, **kw)
    if match == "mse":
        return (k_s - k_t).pow(2).mean()
    off = ~torch.eye(m, dtype=torch.bool, device=k_s.device)
    log_s = F.log_softmax((k_s / temperature).masked_fill(~off, float("-inf")), dim=-1)
    log_t = F.log_softmax((k_t / temperature).masked_fill(~off, float("-inf")), dim=-1)
    per_pair = torch.where(off, log_t.exp() * (log_t - log_s), torch.zeros_like(log_t))
    return per_pair.sum() / m


class GlobalStructureLoss(nn.Module):
    r"""Global structure distillation (GSP-like; `Joshi et al., IEEE TNNLS 2022
    <https://arxiv.org/abs/2111.04964>`_): :func:`global_structure_loss` on a set :math:`S` of
    ``num_samples`` nodes drawn uniformly at each call (from ``mask`` when given),

    .. math::
        \mathcal{L}_{\mathrm{kl}} = \frac{1}{|S|} \sum_{i \in S}
            \mathrm{KL}\big(\mathrm{softmax}_{j \ne i}(K^t_{ij}/\tau) \,\|\,
                            \mathrm{softmax}_{j \ne i}(K^s_{ij}/\tau)\big)
        \quad\text{or}\quad
        \mathcal{L}_{\mathrm{mse}} = \frac{1}{|S|^2} \sum_{i,j \in S} (K^s_{ij} - K^t_{ij})^2 .

    Called as ``loss(student, teacher, edge_index=None, mask=None)``; the edges are not used.

    Pairs used: all pairs of the sampled node set.

    Args:
        num_samples (int, optional): size of the sampled set; ``None``: all nodes
            (default: :obj:`1024`).
        kernel, match, temperature, gamma, degree, coef: see :func:`global_structure_loss`.
        generator (torch.Generator, optional): source of the draws (default: torch's global one).
    """

    pairs = "sampled node set"

    def __init__(
        self,
        num_samples: int | None = 1024,
        kernel: str = "cosine",
        match: str = "kl",
        temperature: float = 1.0,
        gamma: float | None = None,
        degree: int = 2,
        coef: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        check_kernel(kernel, gamma, degree, coef)
        if match not in GSP_MATCHES:
            raise ValueError(f"Unknown match {match!r}; valid choices: {', '.join(GSP_MATCHES)}")
        if num_samples is not None and num_samples < 2:
            raise ValueError(f"num_samples must be >= 2 or None, got {num_samples}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.num_samples, self.kernel, self.match, self.temperature = num_samples, kernel, match, temperature
        self.gamma, self.degree, self.coef, self.generator = gamma, degree, coef, generator

    def forward(
        self, student: Tensor, teacher: Tensor, edge_index: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        check_embeddings(student, teacher)
        mask = check_mask(mask, student.size(0))
        index = sample_nodes(student.size(0), self.num_samples, mask, self.generator, student.device)
        return global_structure_loss(
            student, teacher, index, self.kernel, self.match, self.temperature, self.gamma, self.degree, self.coef
        )

    def extra_repr(self) -> str:
        return f"num_samples={self.num_samples}, kernel={self.kernel!r}, match={self.match!r}"
