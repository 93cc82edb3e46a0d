r"""Models: GNN teachers over PyG layers and MLP students, with one contract (see :class:`Model`)."""

from .appnp import APPNP
from .base import Model
from .gnn import GAT, GCN, GIN, GNN, GraphSAGE
from .graph import Chunk, Graph
from .mlp import MLP
from .models import MODELS, build_model
from .plp import PLP, plp_inputs
from .vq import VQGCN, VQGNN, VQSAGE, VectorQuantizer

__all__ = [
    "APPNP",
    "GAT",
    "GCN",
    "GIN",
    "GNN",
    "MLP",
    "MODELS",
    "Chunk",
    "Graph",
    "GraphSAGE",
    "Model",
    "PLP",
    "VQGCN",
    "VQGNN",
    "VQSAGE",
    "VectorQuantizer",
    "build_model",
    "plp_inputs",
]
