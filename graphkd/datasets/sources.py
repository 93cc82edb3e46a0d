"""Readers for the real datasets: PyG's dataset classes pointed at the data root.

Each reader takes the data root and returns the whole graph as a PyG ``Data`` with ``x``,
``y`` and ``edge_index`` (and the dataset's own split masks where it ships some). Where there is
internet, PyG downloads missing files as usual; where there is none, a missing file is a
:class:`FileNotFoundError` that says where graphkd looked and how to point it elsewhere.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.io import read_npz

from .root import DATA_ENV, has_files, remove_empty_dirs, working_dir, writable

__all__ = ["Reader", "citation_full", "cpf_npz", "pyg_reader"]

Reader = Callable[[Path, bool], Data]


def _missing(name: str, where: Path, why: str = "") -> FileNotFoundError:
    hint = f" ({why})" if why else ""
    return FileNotFoundError(
        f"dataset {name!r} not found: looked in {where}{hint}. Set ${DATA_ENV} (or pass root=) to "
        f"the folder that holds it, e.g. {DATA_ENV}=../shared/datasets"
    )


def pyg_reader(key: str, cls_path: str, rel: str, raw: str, **kwargs) -> Reader:
    r"""A reader that builds ``torch_geometric.datasets.<cls_path>(root/rel, **kwargs)``.

    ``raw`` is the folder (relative to ``root/rel``) where the class expects its raw files; it is
    checked first so that an offline machine gets a clear error instead of a failed download.
    """

    def read(root: Path, download: bool) -> Data:
        import torch_geometric.datasets as pyg_datasets

        where = root / rel / raw
        present = has_files(where)
        if not present and (not download or not writable(root / rel)):
            why = "" if not download else "the data root is read-only, so graphkd does not download into it"
            raise _missing(key, where, why)
        cls = getattr(pyg_datasets, cls_path)
        quiet = {"log": False} if "log" in inspect.signature(cls.__init__).parameters else {}
        try:
            dataset = cls(str(working_dir(root, rel)), **quiet, **kwargs)
        except Exception as err:  # noqa: BLE001 - any failed download (urllib, fsspec, aiohttp)
            if present:
                raise
            remove_empty_dirs(root / rel, stop=root)
            raise _missing(key, where, f"download failed: {type(err).__name__}: {err}") from err
        return dataset[0]

    return read


def citation_full(name: str, pyg_name: str) -> Reader:
    r"""``CitationFull`` keeps its raw files in ``root/CitationFull/<name>/raw``."""
    return pyg_reader(name, "CitationFull", "CitationFull", f"{pyg_name}/raw", name=pyg_name)


def cpf_npz(name: str, file: str) -> Reader:
    r"""The CPF/GLNN ``npz`` files (gnn-benchmark format), read with PyG's ``read_npz``."""

    def read(root: Path, download: bool) -> Data:
        path = root / "npz" / file
        if not path.is_file():
            raise _missing(name, path, "CPF npz files are not downloadable by graphkd")
        return read_npz(str(path), to_undirected=True)

    return read
