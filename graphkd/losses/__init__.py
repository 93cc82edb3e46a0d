r"""Distillation losses: pure functions and modules on tensors. Models return raw logits; the
losses own softmax, temperature and log-probabilities.

One family per module:

* :mod:`~graphkd.losses.soft_label`: node-level soft labels (Hinton KD, logit MSE);
* :mod:`~graphkd.losses.lsp`: local structure over each node's neighbours (edges);
* :mod:`~graphkd.losses.global_structure`: similarity matrices of a sampled node set;
* :mod:`~graphkd.losses.rkd`: RKD distances and angles on sampled node sets;
* :mod:`~graphkd.losses.contrastive`: contrastive (InfoNCE) with projection heads, batch negatives;
* :mod:`~graphkd.losses.hint`: FitNet feature hints through a learned projection;
* :mod:`~graphkd.losses.similarity`: NOSMOG's representation similarity (batch Gram matrices).

The relational modules share one call, ``loss(student, teacher, edge_index=None, mask=None)``,
and state in ``pairs`` which pairs of nodes they compare.
"""

from .contrastive import POSITIVES, ContrastiveLoss
from .global_structure import GSP_MATCHES, GlobalStructureLoss, global_structure_loss
from .hint import HintLoss
from .kernels import KERNELS, edge_kernel, pairwise_kernel
from .lsp import LSP_REDUCTIONS, LSPLoss, lsp_loss
from .rkd import RKDLoss, rkd_angle_loss, rkd_distance_loss
from .similarity import SimilarityLoss
from .soft_label import REDUCTIONS, SoftLabelLoss, kd_loss, logit_mse_loss

__all__ = [
    "GSP_MATCHES",
    "KERNELS",
    "LSP_REDUCTIONS",
    "POSITIVES",
    "REDUCTIONS",
    "ContrastiveLoss",
    "GlobalStructureLoss",
    "HintLoss",
    "LSPLoss",
    "RKDLoss",
    "SimilarityLoss",
    "SoftLabelLoss",
    "edge_kernel",
    "global_structure_loss",
    "kd_loss",
    "logit_mse_loss",
    "lsp_loss",
    "pairwise_kernel",
    "rkd_angle_loss",
    "rkd_distance_loss",
]
