"""The catalogue of dataset names: where each comes from, its size and its splits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .root import has_files
from .sources import Reader, citation_full, cpf_npz, pyg_reader

__all__ = ["DATASETS", "DatasetInfo"]


@dataclass(frozen=True)
class DatasetInfo:
    r"""What graphkd knows about a dataset name.

    Args:
        name (str): the name :func:`graphkd.datasets.load` takes.
        source (str): where it comes from.
        nodes, edges, features, classes (int): size of the graph that ``load(name)`` returns
            with its default split (after the largest connected component for ``cpf``); edges
            count both directions. OGB sizes are OGB's published statistics.
        path (str): where its raw files live, relative to the data root (``""``: embedded).
        splits (tuple[str, ...]): valid ``split=`` values; the first is the default.
        row_normalize (bool): whether features are row-normalised by default (bag-of-words).
        reader (Reader, optional): reads the raw graph (``None`` for embedded/OGB datasets).
    """

    name: str
    source: str
    nodes: int
    edges: int
    features: int
    classes: int
    path: str
    splits: tuple[str, ...]
    row_normalize: bool = False
    reader: Reader | None = field(default=None, repr=False, compare=False)

    def available(self, root: Path) -> bool:
        r"""Whether the raw files are present under ``root`` (embedded datasets always are)."""
        return self.path == "" or has_files(root / self.path)


_PUB = ("public", "cpf", "random")
_CPF = ("cpf", "random")
_MULTI = ("public", "random", "cpf")


def _pyg(key, source, n, e, f, c, path, splits, cls, rel, raw, norm=False, **kw) -> DatasetInfo:
    return DatasetInfo(key, source, n, e, f, c, path, splits, norm, pyg_reader(key, cls, rel, raw, **kw))


def _catalogue() -> dict[str, DatasetInfo]:
    specs = [
        DatasetInfo("csbm", "embedded synthetic (contextual SBM)", 3000, 23886, 64, 5, "", _CPF),
        _pyg(
            "cora",
            "PyG Planetoid",
            2708,
            10556,
            1433,
            7,
            "Planetoid/Cora/raw",
            _PUB,
            "Planetoid",
            "Planetoid",
            "Cora/raw",
            norm=True,
            name="Cora",
        ),
        _pyg(
            "citeseer",
            "PyG Planetoid",
            3327,
            9104,
            3703,
            6,
            "Planetoid/CiteSeer/raw",
            _PUB,
            "Planetoid",
            "Planetoid",
            "CiteSeer/raw",
            norm=True,
            name="CiteSeer",
        ),
        _pyg(
            "amazon-photo",
            "PyG Amazon",
            7487,
            238086,
            745,
            8,
            "Amazon/Photo/raw",
            _CPF,
            "Amazon",
            "Amazon",
            "Photo/raw",
            name="Photo",
        ),
        _pyg(
            "amazon-computers",
            "PyG Amazon",
            13381,
            491556,
            767,
            10,
            "Amazon/Computers/raw",
            _CPF,
            "Amazon",
            "Amazon",
            "Computers/raw",
            name="Computers",
        ),
        _pyg(
            "coauthor-cs",
            "PyG Coauthor",
            18333,
            163788,
            6805,
            15,
            "Coauthor/CS/raw",
            _CPF,
            "Coauthor",
            "Coauthor",
            "CS/raw",
            name="CS",
        ),
        _pyg("actor", "PyG Actor", 7600, 53318, 932, 5, "Actor/raw", _MULTI, "Actor", "Actor", "raw"),
    ]
    for key, pyg_name, n, e, f, c in (
        ("cora-ml", "cora_ml", 2810, 15962, 2879, 7),
        ("dblp", "dblp", 16191, 103826, 1639, 4),
    ):
        specs.append(
            DatasetInfo(
                key,
                "PyG CitationFull",
                n,
                e,
                f,
                c,
                f"CitationFull/{pyg_name}/raw",
                _CPF,
                True,
                citation_full(key, pyg_name),
            )
        )
    for key, n, e in (("cornell", 183, 554), ("texas", 183, 558), ("wisconsin", 251, 900)):
        specs.append(
            _pyg(key, "PyG WebKB", n, e, 1703, 5, f"WebKB/{key}/raw", _MULTI, "WebKB", "WebKB", f"{key}/raw", name=key)
        )
    for key, n, e, f in (("minesweeper", 10000, 78804, 7), ("tolokers", 11758, 1038000, 10)):
        specs.append(
            _pyg(
                key,
                "PyG HeterophilousGraphDataset",
                n,
                e,
                f,
                2,
                f"HeterophilousGraphDataset/{key}/raw",
                _MULTI,
                "HeterophilousGraphDataset",
                "HeterophilousGraphDataset",
                f"{key}/raw",
                name=key,
            )
        )
    for key, file, n, e, f, c in (
        ("cpf-cora", "cora.npz", 2485, 10138, 1433, 7),
        ("cpf-citeseer", "citeseer.npz", 2110, 7336, 3703, 6),
        ("cpf-a-computer", "a-computer.npz", 13381, 491556, 767, 10),
        ("cpf-a-photo", "a-photo.npz", 7487, 238086, 745, 8),
    ):
        specs.append(DatasetInfo(key, "CPF/GLNN npz", n, e, f, c, f"npz/{file}", _CPF, False, cpf_npz(key, file)))
    specs += [
        DatasetInfo("ogbn-arxiv", "OGB", 169343, 2315598, 128, 40, "ogbn_arxiv", ("public", "random")),
        DatasetInfo("ogbn-products", "OGB", 2449029, 123718280, 100, 47, "ogbn_products", ("public", "random")),
    ]
    return {s.name: s for s in specs}


DATASETS: dict[str, DatasetInfo] = _catalogue()
