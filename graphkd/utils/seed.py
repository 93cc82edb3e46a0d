"""Seeding for exactly reproducible CPU runs."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["is_valid_seed", "seed_everything"]


def is_valid_seed(seed: object) -> bool:
    r"""Whether ``seed`` is an integer in ``[0, 2**64)``, PyTorch's seed range (a ``bool`` is not)."""
    return isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**64


def seed_everything(seed: int) -> None:
    r"""Seeds Python's, NumPy's and PyTorch's (CPU and CUDA) generators with ``seed``.

    Raises:
        ValueError: unless ``seed`` is an integer in ``[0, 2**64)`` (PyTorch's seed range; a
            ``bool`` is refused).
    """
    if not is_valid_seed(seed):
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
