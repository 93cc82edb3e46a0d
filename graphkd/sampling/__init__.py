r"""Mini-batches by neighbour sampling: graphkd's vectorised sampler (plain torch, CPU or GPU)
and PyG's ``NeighborLoader`` behind one loader call."""

from .csc import CSC
from .loader import BACKENDS, choose_backend, neighbor_loader, pyg_sampler_available
from .neighbor import NeighborSampler, sample_without_replacement

__all__ = [
    "BACKENDS",
    "CSC",
    "NeighborSampler",
    "choose_backend",
    "neighbor_loader",
    "pyg_sampler_available",
    "sample_without_replacement",
]
