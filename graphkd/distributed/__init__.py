r"""Scale past one machine with ``torch.distributed``: sharded teacher inference into one
memory-mapped teacher-outputs folder, data-parallel (DDP) training of teachers (neighbour
sampling per process) and students, and the ``torchrun -m graphkd.distributed`` launcher."""

from .context import (
    DEFAULT_TIMEOUT_S,
    DistributedError,
    barrier,
    broadcast_object,
    collective,
    default_device,
    init,
    is_distributed,
    rank,
    shutdown,
    world_size,
)
from .inference import sharded_teacher_outputs
from .sharding import EpochShards, ShardedNodeBatches, ShardedSampledBatches, node_range
from .trainer import DistributedTrainer

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DistributedError",
    "DistributedTrainer",
    "EpochShards",
    "ShardedNodeBatches",
    "ShardedSampledBatches",
    "barrier",
    "broadcast_object",
    "collective",
    "default_device",
    "init",
    "is_distributed",
    "node_range",
    "rank",
    "sharded_teacher_outputs",
    "shutdown",
    "world_size",
]
