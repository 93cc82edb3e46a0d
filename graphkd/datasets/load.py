"""The front door: ``graphkd.datasets.load(name, root=None, split=...)``."""

from __future__ import annotations

import os
import warnings

from torch_geometric.data import Data
from torch_geometric.transforms import NormalizeFeatures
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from ..resolver import normalize_name, resolve
from .csbm import csbm
from .ogb import load_ogb
from .registry import DATASETS, DatasetInfo
from .root import data_root
from .splits import cpf_split, public_split, random_split
from .validate import validate_data

__all__ = ["dataset_info", "load"]

_CSBM_OPTIONS = ("num_nodes", "num_classes", "num_features", "avg_degree", "homophily", "feature_noise", "graph_seed")
_SPLIT_OPTIONS = {"cpf": ("train_per_class", "val_per_class", "lcc"), "random": ("train", "val"), "public": ()}


def dataset_info(name: str, meta_dict: dict | None = None) -> DatasetInfo:
    r"""The :class:`DatasetInfo` of ``name``; raises :class:`ValueError` listing valid names."""
    key = normalize_name(name) if isinstance(name, str) else name
    if meta_dict is not None:
        if not (isinstance(key, str) and key.startswith("ogbn-")):
            raise ValueError(
                f"meta_dict describes an OGB node-property dataset written by ogb.io.DatasetSaver; it goes with an "
                f"'ogbn-*' name, got {name!r}"
            )
        missing = [k for k in ("num classes", "dir_path") if not isinstance(meta_dict, dict) or k not in meta_dict]
        if missing:
            raise ValueError(
                f"meta_dict of {name!r} lacks {', '.join(repr(k) for k in missing)}: pass the meta_dict that "
                "DatasetSaver wrote (graphkd.datasets.load_meta_dict reads it)"
            )
        return DatasetInfo(
            key,
            "OGB (meta_dict)",
            int(meta_dict.get("num nodes", 0) or 0),
            0,
            0,
            int(meta_dict["num classes"]),
            str(meta_dict["dir_path"]),
            ("public", "random"),
        )
    return resolve(name, DATASETS, "dataset")


def load(
    name: str,
    root: str | os.PathLike | None = None,
    split: str | None = None,
    seed: int = 0,
    *,
    download: bool = True,
    normalize_features: bool | None = None,
    undirected: bool = True,
    meta_dict: dict | None = None,
    **options,
) -> Data:
    r"""Loads dataset ``name`` as a PyG ``Data`` with boolean ``train_mask``/``val_mask``/
    ``test_mask``, ``num_classes`` and ``name`` attributes.

    Real datasets are read from ``root`` (default ``$GRAPHKD_DATA``, else ``./datasets``) in PyG's
    raw layouts (see ``datasets/README.md``); where there is internet, missing ones are
    downloaded as PyG and OGB do. ``csbm`` is generated and needs no file.

    Args:
        name (str): a name from :data:`graphkd.datasets.DATASETS` (``graphkd datasets`` lists
            them), or any ``ogbn-*`` name together with ``meta_dict``.
        root (str, optional): data root (default: ``$GRAPHKD_DATA`` or ``./datasets``).
        split (str, optional): ``"public"`` (the dataset's own split; OGB's official split),
            ``"cpf"`` (20/30 per class on the largest connected component, rest test) or
            ``"random"`` (fractions). Default: the first of the dataset's ``splits``.
        seed (int, optional): draws the ``cpf``/``random`` split; picks public split
            ``seed % k`` for datasets that ship ``k`` splits (default: :obj:`0`).
        download (bool, optional): let PyG/OGB download missing files (default: :obj:`True`).
        normalize_features (bool, optional): row-normalise features (default: the dataset's
            convention: on for bag-of-words citation data).
        undirected (bool, optional): make the graph undirected (default: :obj:`True`).
            Self-loops are always removed; models add their own where their layer needs them.
        meta_dict (dict, optional): the ``meta_dict`` of a dataset written by
            ``ogb.io.DatasetSaver``, loaded through the same OGB code path as ``ogbn-arxiv``.
        **options: ``csbm`` generator options (``num_nodes``, ``num_classes``, ``num_features``,
            ``avg_degree``, ``homophily``, ``feature_noise``, ``graph_seed``) and split options
            (``cpf``: ``train_per_class``, ``val_per_class``, ``lcc``; ``random``: ``train``,
            ``val``).

    Raises:
        ValueError: unknown name, split or option, a ``meta_dict`` with a name other than
            ``ogbn-*`` or without its ``"num classes"`` / ``"dir_path"``, or a malformed graph.
        FileNotFoundError: the raw files are absent and cannot be downloaded.
    """
    if split is not None and not isinstance(split, str):
        raise ValueError(f"split must be a split name (str) or None, got {type(split).__name__} {split!r}")
    info = dataset_info(name, meta_dict)
    split = normalize_name(split) if split is not None else info.splits[0]
    split = {"ogb": "public", "official": "public"}.get(split, split)
    if split not in info.splits:
        raise ValueError(f"Unknown split {split!r} for dataset {info.name!r}; valid choices: {', '.join(info.splits)}")
    allowed = set(_SPLIT_OPTIONS[split]) | (set(_CSBM_OPTIONS) if info.name == "csbm" else set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(unknown)} for dataset {info.name!r} with split {split!r}; "
            f"valid options: {', '.join(sorted(allowed)) or 'none'}"
        )
    split_opts = {k: v for k, v in options.items() if k in _SPLIT_OPTIONS[split]}

    root_path = data_root(root)
    if info.name == "csbm":
        gen = {k: v for k, v in options.items() if k in _CSBM_OPTIONS}
        gen["seed"] = gen.pop("graph_seed", 0)
        data = csbm(**gen)
    elif info.source.startswith("OGB"):
        data = load_ogb(info.name, root_path, meta_dict=meta_dict, download=download)
    else:
        assert info.reader is not None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*weights_only.*")
            data = info.reader(root_path, download)

    data = _clean(data, undirected)
    if normalize_features if normalize_features is not None else info.row_normalize:
        data = NormalizeFeatures()(data)
    num_classes = int(data.y.max()) + 1

    if split == "public":
        data = public_split(data, seed)
    elif split == "cpf":
        data = cpf_split(data, seed=seed, **split_opts)
    else:
        data = random_split(data, seed=seed, **split_opts)
    data.num_classes = num_classes
    data.name = info.name
    validate_data(data, num_classes)
    return data


def _clean(data: Data, undirected: bool) -> Data:
    n = data.num_nodes
    out = Data(x=data.x.float(), y=data.y.view(-1).long(), num_nodes=n)
    edge_index, _ = remove_self_loops(data.edge_index.long())
    edge_index = to_undirected(edge_index, num_nodes=n) if undirected else coalesce(edge_index, num_nodes=n)
    out.edge_index = edge_index
    for key in ("train_mask", "val_mask", "test_mask"):
        if key in data:
            out[key] = data[key].bool()
    return out
