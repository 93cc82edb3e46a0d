r"""Neighbour-sampling loaders behind one call, with the backend chosen for the machine."""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader, NodeLoader

from ..datasets.validate import node_ids
from .neighbor import NeighborSampler

__all__ = ["BACKENDS", "choose_backend", "neighbor_loader", "pyg_sampler_available"]

BACKENDS = ("auto", "graphkd", "pyg")
log = logging.getLogger("graphkd.sampling")


def pyg_sampler_available() -> bool:
    r"""Whether PyG's :class:`~torch_geometric.loader.NeighborLoader` can run here: it needs
    ``pyg-lib`` or ``torch-sparse``."""
    import torch_geometric.typing as pyg_typing

    return bool(pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE)


def choose_backend(backend: str = "auto", device: torch.device | str | None = None) -> str:
    r"""The sampler backend to use: ``"graphkd"`` (:class:`~graphkd.sampling.NeighborSampler`,
    plain torch, CPU or GPU) or ``"pyg"`` (PyG's ``NeighborLoader``, CPU only, needs
    ``pyg-lib`` or ``torch-sparse``).

    ``"auto"`` takes PyG's sampler on the CPU when ``pyg-lib`` (PyG's compiled sampler) is
    installed, and graphkd's otherwise: on a GPU, because it samples on the device while PyG's
    samplers run on the CPU; and against PyG's ``torch-sparse`` fallback, because graphkd's
    measured faster on this machine (``benchmarks/sampling.py``).

    Raises:
        ValueError: for an unknown backend, or ``"pyg"`` without ``pyg-lib``/``torch-sparse``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"Unknown sampler backend {backend!r}; valid choices: {', '.join(BACKENDS)}")
    on_gpu = device is not None and torch.device(device).type != "cpu"
    if backend == "pyg" and not pyg_sampler_available():
        raise ValueError(
            "the 'pyg' sampler backend needs pyg-lib or torch-sparse (pip install torch-sparse, or pyg-lib from "
            "https://data.pyg.org/whl/); the 'graphkd' backend needs neither"
        )
    if backend == "auto":
        backend = "pyg" if not on_gpu and _with_pyg_lib() else "graphkd"
    return backend


def _with_pyg_lib() -> bool:
    import torch_geometric.typing as pyg_typing

    return bool(pyg_typing.WITH_PYG_LIB)


def neighbor_loader(
    data: Data,
    num_neighbors: Sequence[int],
    input_nodes: Tensor | None = None,
    batch_size: int = 1024,
    shuffle: bool = False,
    backend: str = "auto",
    device: torch.device | str | None = None,
    seed: int | None = None,
    **kwargs,
) -> NodeLoader:
    r"""A loader of neighbour-sampled mini-batches, the same batches whichever backend samples:
    PyG :class:`~torch_geometric.data.Data` with ``n_id`` (the ``batch_size`` seeds first),
    local ``edge_index``, ``e_id``, ``num_sampled_nodes``/``num_sampled_edges`` and the node
    attributes of ``data`` (``x``, ``y``, masks) gathered for ``n_id``.

    With the ``graphkd`` backend the sampler's index lives on ``device`` (default: ``data``'s
    device), and batches are sampled and gathered there: a graph on another device is copied
    to ``device`` first (features included). The backend
    chosen is logged (logger ``graphkd.sampling``) and stored as ``loader.backend``.

    Args:
        data (Data): the graph.
        num_neighbors (Sequence[int]): fan-out per hop (``-1``: all neighbours).
        input_nodes (Tensor, optional): seed nodes, as ids or a boolean mask (default: all).
        batch_size (int, optional): seeds per batch (default: :obj:`1024`).
        shuffle (bool, optional): shuffle the seeds every epoch (default: :obj:`False`).
        backend (str, optional): ``"auto"``, ``"graphkd"`` or ``"pyg"`` (see :func:`choose_backend`).
        device (str, optional): where graphkd's sampler runs (default: ``data``'s device).
        seed (int, optional): seeds the seed order and graphkd's sampler, so the same seed gives
            the same batches (PyG's sampler draws from torch's global generator instead).
        **kwargs: passed on to the :class:`torch.utils.data.DataLoader` (``num_workers``,
            ``pin_memory``, …).
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if input_nodes is not None:
        input_nodes = node_ids(input_nodes, data.num_nodes, "input_nodes")
    device = torch.device(device) if device is not None else data.edge_index.device
    chosen = choose_backend(backend, device)
    if seed is not None and shuffle and "generator" not in kwargs:
        kwargs["generator"] = torch.Generator().manual_seed(seed)
    if chosen == "pyg":
        loader = NeighborLoader(
            data, list(num_neighbors), input_nodes=input_nodes, batch_size=batch_size, shuffle=shuffle, **kwargs
        )
    else:
        if data.edge_index.device != device:  # features, labels and masks are gathered on the sampler's device
            data = copy.copy(data).to(device)
            input_nodes = input_nodes.to(device) if input_nodes is not None else None
        sampler = NeighborSampler(data, num_neighbors, device=device, seed=seed)
        loader = NodeLoader(data, sampler, input_nodes=input_nodes, batch_size=batch_size, shuffle=shuffle, **kwargs)
    loader.backend = chosen
    log.info("neighbour sampling with the %s backend (requested %r, device %s)", chosen, backend, device)
    return loader
