"""Learned projections between embedding widths, initialised to the identity where widths agree."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["projection"]


def projection(in_channels: int, out_channels: int) -> nn.Linear:
    r"""A linear map ``in_channels -> out_channels``. With equal widths it starts as the identity
    (weight :math:`I`, bias 0), so a loss between equal embeddings starts at its minimum."""
    for key, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    lin = nn.Linear(in_channels, out_channels)
    if in_channels == out_channels:
        with torch.no_grad():
            lin.weight.copy_(torch.eye(out_channels))
            lin.bias.zero_()
    return lin
