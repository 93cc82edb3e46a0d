r"""Similarity kernels between embeddings, shared by the relational losses.

Each kernel :math:`k(\mathbf{a}, \mathbf{b})` is available row-wise (:func:`edge_kernel`, one
value per pair of rows, e.g. the two ends of every edge) and for all pairs of two sets
(:func:`pairwise_kernel`, a matrix). Larger values mean "more similar" for every kernel, so the
negative distances ``l1``/``l2`` rank near neighbours first, as a softmax over them expects.

==========  ==============================================================
name        :math:`k(\mathbf{a}, \mathbf{b})`
==========  ==============================================================
``linear``  :math:`\mathbf{a}^\top\mathbf{b}`
``poly``    :math:`(\mathbf{a}^\top\mathbf{b} + c)^p` (``coef`` :math:`c`, ``degree`` :math:`p`)
``rbf``     :math:`\exp(-\gamma \lVert\mathbf{a}-\mathbf{b}\rVert_2^2)` (``gamma``; default
            :math:`1/d`)
``cosine``  :math:`\mathbf{a}^\top\mathbf{b} / (\lVert\mathbf{a}\rVert \lVert\mathbf{b}\rVert)`
``l1``      :math:`-\lVert\mathbf{a}-\mathbf{b}\rVert_1`
``l2``      :math:`-\lVert\mathbf{a}-\mathbf{b}\rVert_2`
==========  ==============================================================
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["KERNELS", "check_kernel", "edge_kernel", "pairwise_kernel"]

KERNELS = ("linear", "poly", "rbf", "cosine", "l1", "l2")

_EPS = 1e-12


def check_kernel(kernel: str, gamma: float | None = None, degree: int = 2, coef: float = 1.0) -> None:
    r"""Raises :class:`ValueError` for an unknown kernel or invalid kernel parameters."""
    if kernel not in KERNELS:
        raise ValueError(f"Unknown kernel {kernel!r}; valid choices: {', '.join(KERNELS)}")
    if gamma is not None and not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    if not isinstance(degree, int) or isinstance(degree, bool) or degree < 1:
        raise ValueError(f"degree must be a positive integer, got {degree!r}")
    if coef < 0:
        raise ValueError(f"coef must be >= 0, got {coef}")


def _norm2(diff_sq: Tensor) -> Tensor:
    # sqrt with a zero gradient (not NaN) where two embeddings coincide, e.g. on self-loops
    return diff_sq.clamp_min(_EPS).sqrt() * (diff_sq > _EPS)


def edge_kernel(
    a: Tensor, b: Tensor, kernel: str = "rbf", gamma: float | None = None, degree: int = 2, coef: float = 1.0
) -> Tensor:
    r""":math:`k(\mathbf{a}_e, \mathbf{b}_e)` for each row :math:`e` of ``a`` and ``b`` (``[E, d]`` each)."""
    check_kernel(kernel, gamma, degree, coef)
    if kernel == "linear":
        return (a * b).sum(-1)
    if kernel == "poly":
        return ((a * b).sum(-1) + coef).pow(degree)
    if kernel == "cosine":
        return F.cosine_similarity(a, b, dim=-1, eps=1e-8)
    if kernel == "l1":
        return -(a - b).abs().sum(-1)
    sq = (a - b).pow(2).sum(-1)
    if kernel == "l2":
        return -_norm2(sq)
    return torch.exp(-(gamma if gamma is not None else 1.0 / a.size(-1)) * sq)  # rbf


def pairwise_kernel(
    a: Tensor, b: Tensor, kernel: str = "rbf", gamma: float | None = None, degree: int = 2, coef: float = 1.0
) -> Tensor:
    r"""The matrix :math:`K_{ij} = k(\mathbf{a}_i, \mathbf{b}_j)` for ``a`` ``[n, d]`` and ``b`` ``[m, d]``."""
    check_kernel(kernel, gamma, degree, coef)
    if kernel == "linear":
        return a @ b.t()
    if kernel == "poly":
        return (a @ b.t() + coef).pow(degree)
    if kernel == "cosine":
        return F.normalize(a, dim=-1, eps=1e-8) @ F.normalize(b, dim=-1, eps=1e-8).t()
    if kernel == "l1":
        return -torch.cdist(a, b, p=1.0)
    # exact differences, not |a|^2 + |b|^2 - 2ab, so large magnitudes lose no precision
    dist = torch.cdist(a, b, p=2.0, compute_mode="donot_use_mm_for_euclid_dist")
    if kernel == "l2":
        return -dist
    return torch.exp(-(gamma if gamma is not None else 1.0 / a.size(-1)) * dist.pow(2))
