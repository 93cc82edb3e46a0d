"""The model resolver: build any graphkd model from its name."""

from __future__ import annotations

from ..resolver import resolve
from .appnp import APPNP
from .base import Model
from .gnn import GAT, GCN, GIN, GraphSAGE
from .mlp import MLP
from .vq import VQGCN, VQSAGE

__all__ = ["MODELS", "build_model"]

MODELS: dict[str, type[Model]] = {
    "gcn": GCN,
    "sage": GraphSAGE,
    "gat": GAT,
    "gin": GIN,
    "appnp": APPNP,
    "mlp": MLP,
    "vq-sage": VQSAGE,
    "vq-gcn": VQGCN,
}
_ALIASES = {"graphsage": "sage"}


def build_model(name: str, in_channels: int, out_channels: int, hidden_channels: int = 64, **kwargs) -> Model:
    r"""Builds model ``name`` (``gcn``, ``sage``/``graphsage``, ``gat``, ``gin``, ``appnp``,
    ``mlp``, and VQGraph's tokenizer teachers ``vq-sage``, ``vq-gcn``) with the given sizes and
    keyword arguments.

    Raises:
        ValueError: for an unknown name (listing the valid ones) or an invalid argument.
    """
    cls = resolve(name, MODELS, "model", _ALIASES)
    try:
        return cls(in_channels, hidden_channels, out_channels, **kwargs)
    except TypeError as err:  # an unexpected keyword: say which model and what it takes
        raise ValueError(f"invalid argument for model {name!r}: {err}") from None
