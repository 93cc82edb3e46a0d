"""Data-parallel training: :class:`graphkd.train.Trainer` over ``torch.distributed``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch_geometric.data import Data

from ..eval.metrics import MLP_CHUNK
from ..nn.base import Model
from ..train import Trainer
from ..train.batches import BatchSource
from ..train.checkpoint import TrainingState, rng_state
from . import context
from .sharding import ShardedNodeBatches, ShardedSampledBatches, node_range

__all__ = ["DistributedTrainer"]


class _DataParallel(DistributedDataParallel):
    # the model's own attributes (uses_graph, out_channels, ...) stay readable through the wrapper
    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


class DistributedTrainer(Trainer):
    r"""A :class:`graphkd.train.Trainer` whose processes train one model together with
    :class:`~torch.nn.parallel.DistributedDataParallel` (DDP), in a process group started by
    ``torchrun`` and joined with :func:`graphkd.distributed.init`. Use it wherever a ``Trainer``
    goes: ``GLNN(student, trainer=DistributedTrainer(batch_size=4096)).fit(data, outputs)``
    distils data-parallel; ``DistributedTrainer(batch_size=512, num_neighbors=[5, 5]).fit(gnn, data)``
    trains a teacher with neighbour sampling on every process.

    * **Batches**: each epoch the training nodes are split over the processes with
      :class:`torch.utils.data.DistributedSampler`'s semantics (:class:`EpochShards`);
      ``batch_size`` is the **global** batch size, each process takes
      ``ceil(batch_size / world_size)`` nodes per step, so ``P`` processes take the same steps
      as one. Full-batch (``batch_size=None``) gives each process its share as one batch
      (graph-free students only: a GNN needs ``batch_size`` and ``num_neighbors``).
    * **Gradients**: DDP averages the model's gradients across processes; gradients of the
      method's extra modules (projection heads) are averaged too. Every method's loss runs on
      it, NOSMOG's several forwards per step included (tested: GLNN, NOSMOG, KRD and VQGraph
      keep identical replicas on 2 processes); CPF's student reads the whole graph and is
      refused.
    * **Metrics**: a graph-free model is evaluated on each process's share of the labelled
      nodes and the logits gathered, so every process sees the same scores (and stops at the
      same epoch); a GNN is evaluated on the whole graph by every process. Epoch losses are
      averaged across processes.
    * **Checkpoints**: written by rank 0 only (every process's generators and batch state
      included), read by all on resume, so a killed job restarted with the same command and
      ``world_size`` continues where it stopped; the number of processes is part of the run's
      signature.
    * **Failures**: a process that dies or does not answer within the process group's timeout
      fails the others with :class:`graphkd.distributed.DistributedError`.

    Args:
        device (str, optional): this process's device (default: ``cuda:<LOCAL_RANK>`` when
            CUDA is available, else the CPU).
        find_unused_parameters (bool, optional): passed to DDP, for models whose forward leaves
            some parameters out (default: :obj:`False`).
        **kwargs: the arguments of :class:`graphkd.train.Trainer`.

    Raises:
        ValueError: outside an initialised process group.
    """

    def __init__(
        self, *args: Any, device: str | torch.device | None = None, find_unused_parameters: bool = False, **kwargs: Any
    ) -> None:
        if not context.is_distributed():
            raise ValueError(
                "DistributedTrainer needs a process group: start the job with torchrun and call "
                "graphkd.distributed.init() first (or use graphkd.train.Trainer in one process)"
            )
        super().__init__(*args, device=device if device is not None else context.default_device(), **kwargs)
        self.rank, self.world_size = context.rank(), context.world_size()
        self.find_unused_parameters = find_unused_parameters
        self._seed = 0

    # -- batches -----------------------------------------------------------------------------
    def make_batches(
        self,
        model: Model,
        data: Data,
        extras: dict[str, Any] | None = None,
        seed_nodes: Tensor | None = None,
        seed: int | None = None,
    ) -> BatchSource:
        nodes = seed_nodes if seed_nodes is not None else data.train_mask
        shuffle_seed = 0 if seed is None else int(seed)
        if self.num_neighbors is None:
            if model.uses_graph:
                raise ValueError(
                    f"data-parallel training of {type(model).__name__} needs neighbour sampling: set batch_size and "
                    "num_neighbors (each process trains on sampled subgraphs around its share of the nodes)"
                )
            size = self.batch_size if self.batch_size is not None else int(_count(nodes, data.num_nodes))
            return ShardedNodeBatches(data, size, nodes, self.rank, self.world_size, shuffle_seed, extras=extras)
        return ShardedSampledBatches(
            data,
            self.num_neighbors,
            self.batch_size,
            nodes,
            self.rank,
            self.world_size,
            shuffle_seed,
            extras=extras,
            backend=self.sampler,
            num_workers=self.num_workers,
        )

    # -- the engine's hooks ------------------------------------------------------------------
    def fit(self, model: Model, data: Data, *args: Any, **kwargs: Any):
        if self.batch_size is None and model.uses_graph:
            raise ValueError(
                f"data-parallel training of {type(model).__name__} needs neighbour sampling: set batch_size and "
                "num_neighbors"
            )
        with context.collective(f"training {type(model).__name__}"):
            return super().fit(model, data, *args, **kwargs)

    def _training_module(self, model: Model, extra_modules: Sequence[nn.Module] = ()) -> nn.Module:
        # the method's own modules (projection heads) start from rank 0's state on every process,
        # as DDP does for the model: replicas agree whatever each process's generators drew
        with torch.no_grad():
            for module in extra_modules:
                for tensor in [*module.parameters(), *module.buffers()]:
                    dist.broadcast(tensor.data, src=0)
        ids = [self.device.index] if self.device.type == "cuda" else None
        return _DataParallel(model, device_ids=ids, find_unused_parameters=self.find_unused_parameters)

    def _after_backward(self, extra_modules: Sequence[nn.Module]) -> None:
        params = [p for m in extra_modules for p in m.parameters() if p.requires_grad]
        if not params:
            return
        device = context.collective_device()
        # a parameter with a gradient on any process gets one on all (zeros where it was unused)
        has = torch.tensor([p.grad is not None for p in params], dtype=torch.int32, device=device)
        dist.all_reduce(has, op=dist.ReduceOp.MAX)
        used = [p for p, h in zip(params, has.tolist(), strict=True) if h]
        if not used:
            return
        for p in used:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        flat = torch.cat([p.grad.reshape(-1) for p in used]).to(device)
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for p in used:
            p.grad.copy_(flat[offset : offset + p.numel()].view_as(p.grad))
            offset += p.numel()

    def _epoch(self, model, batches, loss_fn, opt, extra_modules=(), show=False):
        loss, terms = super()._epoch(model, batches, loss_fn, opt, extra_modules, show and self.rank == 0)
        # the terms any process logged (a term missing from a process's epoch counts as 0 there)
        every = [None] * self.world_size
        dist.all_gather_object(every, sorted(terms))
        names = sorted(set().union(*every))
        values = torch.tensor(
            [loss, *(terms.get(n, 0.0) for n in names)], dtype=torch.float64, device=context.collective_device()
        )
        dist.all_reduce(values)
        values /= self.world_size
        values = values.tolist()
        return values[0], dict(zip(names, values[1:], strict=True))

    @torch.no_grad()
    def _evaluate(self, model: Model, data: Data) -> dict[str, float]:
        if model.uses_graph:
            # the whole graph on every process; rank 0's scores decide for all, so that kernels
            # that are not deterministic (GPU scatter) cannot make processes stop apart
            return context.broadcast_object(super()._evaluate(model, data), what="evaluating")
        masks = {s: data[f"{s}_mask"] for s in ("train", "val", "test") if bool(data[f"{s}_mask"].any())}
        nodes = torch.stack(list(masks.values())).any(0).nonzero().view(-1)
        start, stop = node_range(nodes.numel(), self.rank, self.world_size)
        mine = nodes[start:stop]
        was_training = model.training
        model.eval()
        try:
            device = model._device()
            parts = [model(data.x[c].to(device)).float() for c in mine.split(MLP_CHUNK)]
            logits = torch.cat(parts) if parts else data.x.new_zeros(0, model.out_channels, device=device).float()
        finally:
            model.train(was_training)
        width = -(-nodes.numel() // self.world_size)
        padded = torch.zeros(width, model.out_channels, device=context.collective_device())
        padded[: logits.size(0)] = logits
        gathered = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(gathered, padded)
        sizes = [
            stop - start
            for start, stop in (node_range(nodes.numel(), r, self.world_size) for r in range(self.world_size))
        ]
        full = torch.cat([g[:n] for g, n in zip(gathered, sizes, strict=True)]).cpu()
        y = data.y[nodes].cpu()
        return {s: self.metric(full, y, m[nodes].cpu()) for s, m in masks.items()}

    def _save_state(self, run, path, signature, model, opt, extra_modules, batches, done) -> None:
        source = getattr(batches, "state_dict", None)
        mine = {"rng": rng_state(), "batches": source() if callable(source) else None}
        every = [None] * self.world_size
        dist.all_gather_object(every, mine)
        if self.rank == 0:
            run.save(
                path,
                signature,
                model,
                opt,
                extra_modules,
                batches,
                done=done,
                rng={"ranks": [e["rng"] for e in every]},
                batch_state={"ranks": [e["batches"] for e in every]},
            )
        dist.barrier()  # nobody moves on before the checkpoint exists

    def _restore_state(self, saved, model, opt, extra_modules, batches) -> TrainingState:
        saved = dict(saved)
        saved["rng"] = saved["rng"]["ranks"][self.rank]
        saved["batches"] = saved["batches"]["ranks"][self.rank] if saved.get("batches") else None
        return super()._restore_state(saved, model, opt, extra_modules, batches)

    def _signature(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        out = super()._signature(*args, **kwargs)
        out["trainer"] = {**out["trainer"], "world_size": self.world_size}
        return out

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, world_size={self.world_size})"


def _count(nodes: Tensor, num_nodes: int) -> int:
    return int(nodes.sum()) if nodes.dtype == torch.bool else int(nodes.numel())
