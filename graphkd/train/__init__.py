r"""The training engine: one loop for every model, pluggable batch sources and losses."""

from .batches import Batch, BatchSource, FullBatch, NodeBatches, SampledBatches, gather_rows
from .engine import OPTIMIZERS, LossFn, Trainer, cross_entropy_loss
from .history import EpochRecord, History

__all__ = [
    "OPTIMIZERS",
    "Batch",
    "BatchSource",
    "EpochRecord",
    "FullBatch",
    "History",
    "LossFn",
    "NodeBatches",
    "SampledBatches",
    "Trainer",
    "cross_entropy_loss",
    "gather_rows",
]
