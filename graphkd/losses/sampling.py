"""Which nodes a sampled-set loss looks at."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["sample_nodes"]


def sample_nodes(
    num_nodes: int,
    num_samples: int | None,
    mask: Tensor | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | None = None,
) -> Tensor:
    r"""Up to ``num_samples`` distinct node ids drawn uniformly from ``mask`` (default: all nodes);
    all of them, in order, when there are no more than ``num_samples`` (or it is ``None``)."""
    pool = mask.nonzero().flatten() if mask is not None else torch.arange(num_nodes, device=device)
    if num_samples is None or pool.numel() <= num_samples:
        return pool
    perm = torch.randperm(pool.numel(), generator=generator, device="cpu" if generator is None else generator.device)
    return pool[perm[:num_samples].to(pool.device)]
