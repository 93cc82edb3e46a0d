"""OGB node-property datasets through OGB's own loader, official split and metadata."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from .root import has_files, remove_empty_dirs, working_dir, writable

__all__ = ["load_meta_dict", "load_ogb", "ogb_dataset", "save_ogb"]


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


def save_ogb(data: Data, name: str, root: str | os.PathLike, version: int = 1) -> Path:
    r"""Writes ``data`` and its split in OGB's on-disk format with OGB's own
    ``ogb.io.DatasetSaver`` (a multi-class node-property task scored by accuracy), so that it
    loads through the very code path of ``ogbn-arxiv``: ``load(name, meta_dict=load_meta_dict(path))``.

    Args:
        data (Data): the graph, with ``x``, ``y``, ``edge_index`` and ``train_mask``/``val_mask``/
            ``test_mask``; edges are written as they are (:func:`graphkd.datasets.load` makes
            them undirected again on reading).
        name (str): an OGB node-property name, ``"ogbn-<something>"``.
        root (str): the folder to write into; the dataset lands in
            ``root/submission_ogbn_<something>/``, beside its ``meta_dict.pt``.
        version (int, optional): the dataset's release number (default: :obj:`1`).

    Returns:
        The path of the ``meta_dict.pt`` file.

    Raises:
        ValueError: for a name without the ``ogbn-`` prefix, a graph without labels or split
            masks, or a target folder that exists already (OGB's saver would stop and ask).
    """
    from ogb.io import DatasetSaver

    if not isinstance(name, str) or not name.startswith("ogbn-") or len(name) <= len("ogbn-"):
        raise ValueError(f"an OGB node-property dataset name looks like 'ogbn-<name>', got {name!r}")
    for key in ("x", "y", "edge_index", "train_mask", "val_mask", "test_mask"):
        if getattr(data, key, None) is None:
            raise ValueError(f"save_ogb needs data.{key}")
    root = Path(root).resolve()
    suffix = "_".join(name.split("-")[1:])
    folder = root / f"submission_ogbn_{suffix}"
    if folder.exists():
        raise ValueError(f"{folder} exists already; remove it or write to another root")
    y = data.y.view(-1).long()
    num_classes = int(y.max()) + 1
    if num_classes < 2:
        raise ValueError("save_ogb needs at least two classes")
    root.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # OGB narrates
            saver = DatasetSaver(dataset_name=name, is_hetero=False, version=version, root=str(root / "submission"))
            graph = {
                "edge_index": data.edge_index.cpu().numpy().astype(np.int64),
                "edge_feat": None,
                "node_feat": data.x.cpu().numpy().astype(np.float32),
                "num_nodes": int(data.num_nodes),
            }
            saver.save_graph_list([graph])
            saver.save_target_labels(y.cpu().numpy().reshape(-1, 1))
            split = {
                part: data[f"{key}_mask"].nonzero().flatten().cpu().numpy()
                for part, key in (("train", "train"), ("valid", "val"), ("test", "test"))
            }
            saver.save_split(split, split_name="graphkd")
            mapping = folder / "mapping_source"
            mapping.mkdir(parents=True, exist_ok=True)
            (mapping / "README.md").write_text(
                f"Written by graphkd.datasets.save_ogb from {getattr(data, 'name', 'a graphkd graph')!s}: "
                "node ids are the row positions of the graph it was written from.\n"
            )
            saver.copy_mapping_dir(str(mapping))
            shutil.rmtree(mapping)
            saver.save_task_info(task_type="multiclass classification", eval_metric="acc", num_classes=num_classes)
            saver.get_meta_dict()  # also writes meta_dict.pt beside the dataset
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never leave a half-written dataset behind
        raise
    return folder / "meta_dict.pt"


def load_meta_dict(path: str | os.PathLike) -> tuple[str, dict]:
    r"""The dataset name and ``meta_dict`` of a dataset written by ``ogb.io.DatasetSaver``
    (e.g. by :func:`save_ogb`), from its ``meta_dict.pt``. The dataset folder is looked up
    beside the file, so the whole ``submission_*`` folder may be moved.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a file that is not an OGB ``meta_dict`` of a node-property dataset.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no OGB meta_dict at {path}")
    try:
        meta = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a foreign or truncated file
        raise ValueError(f"{path} is not a readable OGB meta_dict ({type(err).__name__}: {err})") from err
    needed = ("dir_path", "download_name", "num tasks", "eval metric", "version")
    if not isinstance(meta, dict) or any(k not in meta for k in needed) or "/nodeproppred/" not in meta.get("url", ""):
        raise ValueError(f"{path} is not the meta_dict of an OGB node-property dataset (written by DatasetSaver)")
    beside = path.resolve().parent / str(meta["download_name"])
    if beside.is_dir():
        meta = {**meta, "dir_path": str(beside)}
    name = "ogbn-" + str(meta["download_name"]).replace("_", "-")
    return name, meta
