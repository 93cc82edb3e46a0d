r"""Datasets: one :func:`load` front door, the catalogue of names, splits and validation."""

from .csbm import OGB_LIKE, csbm, ogb_like
from .inductive import InductiveSplit, inductive_split
from .load import dataset_info, load
from .ogb import load_meta_dict, load_ogb, save_ogb
from .registry import DATASETS, DatasetInfo
from .root import data_root
from .splits import cpf_split, largest_connected_component, public_split, random_split
from .validate import validate_data, validate_edge_index

__all__ = [
    "DATASETS",
    "OGB_LIKE",
    "DatasetInfo",
    "InductiveSplit",
    "cpf_split",
    "csbm",
    "data_root",
    "dataset_info",
    "inductive_split",
    "largest_connected_component",
    "load",
    "load_meta_dict",
    "load_ogb",
    "ogb_like",
    "public_split",
    "random_split",
    "save_ogb",
    "validate_data",
    "validate_edge_index",
]
