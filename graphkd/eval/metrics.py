"""Accuracy of a model on the split masks of a graph."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..nn.base import Model

__all__ = ["Metric", "accuracy", "evaluate", "predict"]

# A metric scores logits against labels over the nodes of a mask, e.g. :func:`accuracy` or
# OGB's evaluator (:class:`graphkd.eval.OGBMetric`).
Metric = Callable[[Tensor, Tensor, Tensor | None], float]
MLP_CHUNK = 4096  # rows per forward of an MLP over many nodes


def accuracy(logits: Tensor, y: Tensor, mask: Tensor | None = None) -> float:
    r"""Fraction of nodes (in ``mask``) whose arg-max logit equals the label."""
    if mask is not None:
        logits, y = logits[mask], y[mask]
    if y.numel() == 0:
        raise ValueError("accuracy over an empty set of nodes")
    return float((logits.argmax(dim=-1) == y).float().mean())


@torch.no_grad()
def predict(model: Model, data: Data, batch_size: int = 65536) -> Tensor:
    r"""Logits for every node, by layer-wise :meth:`Model.inference` (MLPs ignore the graph)."""
    device = model._device()
    if data.num_nodes <= batch_size:  # small graph: one forward on the model's device
        was_training = model.training
        model.eval()
        try:
            ei = data.edge_index.to(device) if model.uses_graph else None
            return model(data.x.to(device), ei).cpu()
        finally:
            model.train(was_training)
    if not model.uses_graph:  # an MLP: the whole forward chunk by chunk, each chunk's activations in cache
        with torch.inference_mode():
            was_training = model.training
            model.eval()
            try:
                return torch.cat([model(c.to(device)).cpu() for c in data.x.split(MLP_CHUNK)])
            finally:
                model.train(was_training)
    return model.inference(data.x, data.edge_index, batch_size=batch_size).cpu()


def evaluate(model: Model, data: Data, batch_size: int = 65536, metric: Metric = accuracy) -> dict[str, float]:
    r"""``metric`` (default: accuracy) on the ``train``/``val``/``test`` masks (a split whose mask
    is empty is left out)."""
    logits = predict(model, data, batch_size)
    y = data.y.cpu()
    out = {}
    for split in ("train", "val", "test"):
        mask = data[f"{split}_mask"].cpu()
        if bool(mask.any()):
            out[split] = metric(logits, y, mask)
    return out
