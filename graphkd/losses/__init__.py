r"""Distillation losses: pure functions and modules on tensors. Models return raw logits; the
losses own softmax, temperature and log-probabilities."""

from .soft_label import REDUCTIONS, SoftLabelLoss, kd_loss, logit_mse_loss

__all__ = ["REDUCTIONS", "SoftLabelLoss", "kd_loss", "logit_mse_loss"]
