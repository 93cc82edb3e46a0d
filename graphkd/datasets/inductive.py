"""GLNN's inductive (production) setting: hold out part of the test nodes with all their edges."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = ["InductiveSplit", "inductive_split"]


@dataclass
class InductiveSplit:
    r"""The graph seen in training and the nodes held out from it.

    Args:
        observed (Data): the subgraph of observed nodes, relabelled ``0..M-1``, with
            ``train_mask``/``val_mask`` and ``test_mask`` = the transductive test nodes. Held-out
            nodes and every edge touching one are absent.
        observed_ids (Tensor): global id of each observed node (``observed.x == full.x[observed_ids]``).
        full (Data): the whole graph, with ``test_mask`` = transductive test nodes and
            ``ind_test_mask`` = the held-out nodes.
    """

    observed: Data
    observed_ids: Tensor
    full: Data

    @property
    def ind_test_mask(self) -> Tensor:
        return self.full.ind_test_mask


def inductive_split(data: Data, fraction: float = 0.2, seed: int = 0) -> InductiveSplit:
    r"""Splits the test nodes of ``data`` into transductive ones and a held-out ``fraction``
    (GLNN, `Zhang et al., ICLR 2022 <https://arxiv.org/abs/2110.08727>`_, uses 0.2).

    Teachers and students train on :attr:`InductiveSplit.observed` only; at test time a GNN may
    use the full graph, an MLP only the held-out nodes' features.

    The draw is GLNN's: the test nodes in ascending order are permuted by
    ``torch.randperm`` seeded with ``seed``, and the first ``floor(fraction * num_test)`` are held
    out, so with the same test nodes (e.g. :func:`graphkd.datasets.cpf_split`) seed ``s`` holds out
    the nodes GLNN holds out with ``seed=s``.

    Raises:
        ValueError: if ``fraction`` is not in ``(0, 1)`` or leaves no node on either side.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    test = data.test_mask.nonzero().flatten()
    n_ind = int(fraction * test.numel())  # GLNN's cut: the floor
    if n_ind == 0 or n_ind == test.numel():
        raise ValueError(
            f"fraction={fraction} of {test.numel()} test nodes leaves an empty transductive or inductive set"
        )
    test = test[torch.randperm(test.numel(), generator=torch.Generator().manual_seed(seed))]
    ind = torch.zeros(data.num_nodes, dtype=torch.bool)
    ind[test[:n_ind]] = True

    full = copy.copy(data)
    full.test_mask = data.test_mask & ~ind
    full.ind_test_mask = ind
    keep = ~ind
    observed = full.subgraph(keep)  # drops held-out nodes and all their edges, relabels the rest
    del observed.ind_test_mask
    return InductiveSplit(observed, keep.nonzero().flatten(), full)
