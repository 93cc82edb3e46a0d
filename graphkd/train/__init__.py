r"""The training engine: one loop for every model, pluggable batch sources and losses."""

from .batches import Batch, BatchSource, FullBatch
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
    "Trainer",
    "cross_entropy_loss",
]
