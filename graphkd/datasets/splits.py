"""Train/validation/test splits: public, CPF per-class, random fractions.

Every split function returns a shallow copy of ``data`` with boolean ``train_mask``,
``val_mask`` and ``test_mask`` of shape ``[num_nodes]``; the input is never modified. OGB's
official split is applied by :func:`graphkd.datasets.ogb.load_ogb`.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import LargestConnectedComponents

__all__ = ["cpf_split", "largest_connected_component", "public_split", "random_split", "set_masks"]


def set_masks(data: Data, train: Tensor, val: Tensor, test: Tensor) -> Data:
    r"""Returns a shallow copy of ``data`` whose masks select the given node indices (or masks)."""
    n = data.num_nodes
    out = copy.copy(data)
    for key, idx in (("train_mask", train), ("val_mask", val), ("test_mask", test)):
        if idx.dtype == torch.bool:
            mask = idx.clone()
        else:
            mask = torch.zeros(n, dtype=torch.bool)
            mask[idx] = True
        out[key] = mask
    return out


def public_split(data: Data, index: int = 0) -> Data:
    r"""Keeps the split shipped with the dataset.

    Datasets with several public splits (WebKB, Actor, the heterophilous graphs store masks of
    shape ``[num_nodes, num_splits]``) use split ``index % num_splits``.

    Raises:
        ValueError: if the dataset has no public split.
    """
    train = getattr(data, "train_mask", None)
    if train is None:
        raise ValueError("this dataset has no public split; use split='cpf' or split='random' instead")
    if train.dim() == 1:
        return set_masks(data, data.train_mask, data.val_mask, data.test_mask)
    k = index % train.size(1)
    return set_masks(data, data.train_mask[:, k], data.val_mask[:, k], data.test_mask[:, k])


def largest_connected_component(data: Data) -> Data:
    r"""Restricts ``data`` to its largest connected component (nodes relabelled in order)."""
    return LargestConnectedComponents(num_components=1)(copy.copy(data))


def cpf_split(
    data: Data,
    seed: int = 0,
    train_per_class: int = 20,
    val_per_class: int = 30,
    lcc: bool = True,
) -> Data:
    r"""The per-class split of CPF and GLNN (`Yang et al., WWW 2021
    <https://arxiv.org/abs/2103.02885>`_; `Zhang et al., ICLR 2022
    <https://arxiv.org/abs/2110.08727>`_).

    On the largest connected component, ``train_per_class`` nodes of each class are drawn for
    training and ``val_per_class`` more for validation; all remaining nodes are test nodes.

    The draw is CPF's own: a ``numpy.random.RandomState(seed)`` picks, class by class in
    ascending class order, ``train_per_class`` distinct nodes among the class's nodes (in node
    order) with ``choice(..., replace=False)``, then ``val_per_class`` more among those not drawn
    for training. With CPF's node order (the largest connected component of the symmetrised
    graph without self-loops, nodes in their original order), seed ``s`` therefore selects the
    very nodes that CPF's and GLNN's loaders select with ``seed=s``, so per-seed results are
    comparable with theirs.

    Args:
        data (Data): the graph, with labels ``y``.
        seed (int, optional): seed of the draw, in ``[0, 2**32)`` (default: :obj:`0`).
        train_per_class (int, optional): training nodes per class (default: :obj:`20`).
        val_per_class (int, optional): validation nodes per class (default: :obj:`30`).
        lcc (bool, optional): restrict to the largest connected component first
            (default: :obj:`True`).

    Raises:
        ValueError: if a class has fewer than ``train_per_class + val_per_class + 1`` nodes, or
            the seed is not a valid NumPy seed.
    """
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (train_per_class, val_per_class)):
        raise ValueError(
            f"train_per_class and val_per_class must be integers, got {train_per_class!r} and {val_per_class!r}"
        )
    if train_per_class < 1 or val_per_class < 1:
        raise ValueError(f"train_per_class and val_per_class must be >= 1, got {train_per_class} and {val_per_class}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"the cpf split's seed must lie in [0, 2**32), got {seed}")
    if lcc:
        data = largest_connected_component(data)
    y = data.y.cpu().numpy()
    need = train_per_class + val_per_class
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    for c, idx in zip(np.unique(y).tolist(), by_class, strict=True):
        if idx.size <= need:
            raise ValueError(
                f"class {c} has {idx.size} nodes, too few for {train_per_class} train + "
                f"{val_per_class} val per class and at least one test node"
            )
    rng = np.random.RandomState(int(seed))
    train_idx = np.concatenate([rng.choice(idx, train_per_class, replace=False) for idx in by_class])
    drawn = np.zeros(y.size, dtype=bool)
    drawn[train_idx] = True
    val_idx = np.concatenate([rng.choice(idx[~drawn[idx]], val_per_class, replace=False) for idx in by_class])
    drawn[val_idx] = True
    test = torch.from_numpy(~drawn)
    return set_masks(data, torch.from_numpy(train_idx), torch.from_numpy(val_idx), test)


def random_split(data: Data, seed: int = 0, train: float = 0.6, val: float = 0.2) -> Data:
    r"""A uniformly random split with fractions ``train``, ``val`` and ``1 - train - val``.

    Raises:
        ValueError: if the fractions are not in ``(0, 1)`` or leave no test node.
    """
    if not (0 < train < 1 and 0 < val < 1 and train + val < 1):
        raise ValueError(
            f"split fractions must satisfy 0 < train, val and train + val < 1, got train={train}, val={val}"
        )
    n = data.num_nodes
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_train, n_val = int(round(train * n)), int(round(val * n))
    if n_train == 0 or n_val == 0 or n_train + n_val >= n:
        raise ValueError(f"fractions train={train}, val={val} leave an empty split on {n} nodes")
    return set_masks(data, perm[:n_train], perm[n_train : n_train + n_val], perm[n_train + n_val :])
