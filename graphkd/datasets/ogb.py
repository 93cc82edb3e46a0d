"""OGB node-property datasets through OGB's own loader, official split and metadata."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from .root import has_files, remove_empty_dirs, working_dir, writable

__all__ = ["load_ogb", "ogb_dataset"]


def _safe_globals() -> list[Any]:
    # OGB's processed files hold PyG data containers and numpy index arrays. torch >= 2.6 loads
    # with weights_only=True, so allow exactly these types instead of turning the check off.
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    core = getattr(np, "_core", None) or np.core
    return [
        DataEdgeAttr,
        DataTensorAttr,
        GlobalStorage,
        core.multiarray.scalar,
        core.multiarray._reconstruct,
        np.ndarray,
        np.dtype,
        *[getattr(np.dtypes, t) for t in ("Int64DType", "Int32DType", "Float32DType", "Float64DType")],
    ]


def ogb_dataset(name: str, root: Path, meta_dict: dict | None = None):
    r"""OGB's ``PygNodePropPredDataset`` (downloads where there is internet) and its split dict."""
    from ogb.nodeproppred import PygNodePropPredDataset

    folder = Path(meta_dict["dir_path"]) if meta_dict else root / name.replace("-", "_")
    if folder.is_dir() and not any(folder.glob("RELEASE_v*.txt")):
        # OGB would stop and ask on stdin whether to delete the folder: fail clearly instead.
        raise ValueError(f"OGB folder {folder} has no RELEASE_v*.txt: it is incomplete, remove it")
    with torch.serialization.safe_globals(_safe_globals()):
        dataset = PygNodePropPredDataset(name=name, root=str(root), meta_dict=meta_dict)
        split = dataset.get_idx_split()
    return dataset, split


def load_ogb(name: str, root: Path, meta_dict: dict | None = None, download: bool = True) -> Data:
    r"""Loads an OGB node-property dataset with its official split as boolean masks.

    Works for ``ogbn-arxiv`` and ``ogbn-products`` and for any dataset written in OGB's on-disk
    format by ``ogb.io.DatasetSaver`` (pass its ``meta_dict``). Labels are flattened to
    ``[num_nodes]``; the edges are returned as stored (:func:`graphkd.datasets.load` makes them
    undirected unless asked not to). A read-only dataset folder is processed in a mirror under
    ``$GRAPHKD_CACHE``, never in place; nothing is downloaded into a read-only root.
    """
    folder = Path(meta_dict["dir_path"]).resolve() if meta_dict else root / name.replace("-", "_")
    present = has_files(folder)
    if not present and (not download or meta_dict is not None or not writable(root)):
        why = "the data root is read-only" if download and meta_dict is None else "no files there"
        raise FileNotFoundError(
            f"OGB dataset {name!r} not found: looked in {folder} ({why}). Set $GRAPHKD_DATA to the folder "
            f"holding {folder.name}/, or allow the download."
        )
    ogb_root = root
    if present:
        work = working_dir(folder.parent, folder.name)
        ogb_root = work.parent
        if meta_dict is not None:
            meta_dict = {**meta_dict, "dir_path": str(work)}
    else:
        os.makedirs(root, exist_ok=True)
    try:
        dataset, split = ogb_dataset(name, ogb_root, meta_dict)
    except (ValueError, FileNotFoundError):
        raise
    except Exception as err:  # noqa: BLE001 - a failed download (network, or OGB's stdin prompt)
        if present:
            raise
        remove_empty_dirs(folder, stop=root)
        raise FileNotFoundError(
            f"OGB dataset {name!r} not found: looked in {folder} (download failed: {type(err).__name__}: {err}). "
            f"Set $GRAPHKD_DATA to the folder holding {folder.name}/."
        ) from err
    g = dataset[0]
    n = g.num_nodes
    masks = {}
    for key, part in (("train_mask", "train"), ("val_mask", "valid"), ("test_mask", "test")):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[torch.as_tensor(split[part]).long()] = True
        masks[key] = mask
    return Data(x=g.x.float(), y=g.y.view(-1).long(), edge_index=g.edge_index, num_nodes=n, **masks)
