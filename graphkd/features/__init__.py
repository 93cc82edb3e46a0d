r"""Node features computed from the graph: DeepWalk embeddings and positional features."""

from .deepwalk import deepwalk, random_walks, walk_pairs
from .positional import PositionalFeatures

__all__ = ["PositionalFeatures", "deepwalk", "random_walks", "walk_pairs"]
