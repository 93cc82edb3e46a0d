"""One training engine for every graphkd model."""

from __future__ import annotations

import copy
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data
from tqdm.auto import tqdm

from ..datasets.validate import validate_data
from ..eval.metrics import Metric, accuracy, evaluate
from ..nn.base import Model
from ..resolver import resolve
from ..sampling import choose_backend
from ..utils.fingerprint import callable_identity, graph_digest
from ..utils.seed import seed_everything
from .batches import Batch, BatchSource, FullBatch, NodeBatches, SampledBatches
from .checkpoint import TrainingState, load_checkpoint
from .history import EpochRecord, History

__all__ = ["LossFn", "OPTIMIZERS", "Trainer", "cross_entropy_loss"]

log = logging.getLogger("graphkd.train")

# A loss function returns the total, or the total and its named terms (logged per epoch).
LossFn = Callable[[Model, Batch], Tensor | tuple[Tensor, dict[str, Tensor]]]
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def cross_entropy_loss(model: Model, batch: Batch) -> Tensor:
    r"""Cross-entropy on the batch's labelled nodes (the default objective), plus the model's
    own auxiliary loss of this forward when it defines ``auxiliary_loss()`` (e.g. the
    quantiser and reconstruction terms of :class:`graphkd.nn.VQGNN`)."""
    logits = batch.targets(model(batch.x, batch.edge_index, **batch.hops()))
    mask = batch.targets(batch.mask)
    # mean over the labelled targets; 0 (not NaN) for a mini-batch without any
    loss = F.cross_entropy(logits[mask], batch.targets(batch.y)[mask], reduction="sum")
    loss = loss / mask.sum().clamp_min(1)
    auxiliary = getattr(model, "auxiliary_loss", None)
    return loss + auxiliary() if callable(auxiliary) else loss


class Trainer:
    r"""Trains a model, selecting the checkpoint with the best **validation** accuracy.

    After :meth:`fit` the model holds the selected weights and is in evaluation mode (the
    caller's ``data`` is not moved). Test accuracy is recorded per
    epoch for reporting (at the selected epoch), never used to select.

    Args:
        epochs (int, optional): maximum number of epochs (default: :obj:`500`).
        lr (float, optional): learning rate (default: :obj:`0.01`).
        weight_decay (float, optional): weight decay (default: :obj:`5e-4`).
        optimizer (str, optional): ``"adam"`` or ``"adamw"`` (default: :obj:`"adam"`).
        patience (int, optional): stop after this many epochs without a better validation
            accuracy; ``None`` never stops early (default: :obj:`100`).
        device (str, optional): where to train (default: CUDA if available, else CPU).
        eval_batch_size (int, optional): chunk size of layer-wise evaluation (default: :obj:`65536`).
        progress (bool, optional): show a progress bar; ``None``: when stderr is a terminal.
        batch_size (int, optional): mini-batch training with this many target nodes per batch;
            ``None`` trains full-batch (default: :obj:`None`).
        num_neighbors (Sequence[int], optional): with ``batch_size``, the fan-out per hop of the
            neighbour-sampled subgraph around each batch (:mod:`graphkd.sampling`); required for
            GNNs, and for losses over edges (LSP). ``None`` with ``batch_size`` gives graph-free
            batches of nodes (MLP students) (default: :obj:`None`).
        sampler (str, optional): neighbour sampler backend, ``"auto"``, ``"graphkd"`` or ``"pyg"``
            (default: :obj:`"auto"`).
        num_workers (int, optional): loader worker processes for sampling (default: :obj:`0`).
        checkpoint_every (int, optional): with :meth:`fit`'s ``checkpoint``, write the state every
            this many epochs (and always after the last) (default: :obj:`1`).
        metric (callable, optional): ``metric(logits, y, mask) -> float``, the score recorded per
            split and used to choose the checkpoint, e.g. OGB's evaluator
            (:class:`graphkd.eval.OGBMetric`) (default: :func:`graphkd.eval.accuracy`).
    """

    def __init__(
        self,
        epochs: int = 500,
        lr: float = 0.01,
        weight_decay: float = 5e-4,
        optimizer: str = "adam",
        patience: int | None = 100,
        device: str | torch.device | None = None,
        eval_batch_size: int = 65536,
        progress: bool | None = None,
        batch_size: int | None = None,
        num_neighbors: Sequence[int] | None = None,
        sampler: str = "auto",
        num_workers: int = 0,
        checkpoint_every: int = 1,
        metric: Metric = accuracy,
    ) -> None:
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        if lr <= 0 or weight_decay < 0:
            raise ValueError(f"lr must be > 0 and weight_decay >= 0, got lr={lr}, weight_decay={weight_decay}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {patience}")
        self.epochs, self.lr, self.weight_decay, self.patience = epochs, lr, weight_decay, patience
        self.optimizer_cls = resolve(optimizer, OPTIMIZERS, "optimizer")
        self.optimizer = optimizer
        try:
            self.device = torch.device(device) if device is not None else _default_device()
        except RuntimeError as err:
            raise ValueError(f"invalid device {device!r}; use e.g. 'cpu', 'cuda' or 'cuda:1' ({err})") from None
        self.eval_batch_size = eval_batch_size
        self.progress = progress
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        if num_neighbors is not None and batch_size is None:
            raise ValueError("num_neighbors needs batch_size (neighbour sampling is a mini-batch mode)")
        choose_backend(sampler, self.device)  # an unknown or unavailable backend fails here, not mid-fit
        self.batch_size, self.num_workers, self.sampler = batch_size, num_workers, sampler
        if not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
        self.checkpoint_every = checkpoint_every
        self.metric = metric
        self.num_neighbors = list(num_neighbors) if num_neighbors is not None else None

    def make_batches(
        self,
        model: Model,
        data: Data,
        extras: dict[str, Any] | None = None,
        seed_nodes: Tensor | None = None,
        seed: int | None = None,
    ) -> BatchSource:
        r"""The batch source this trainer's settings call for: the whole graph, neighbour-sampled
        subgraphs around ``seed_nodes``, or graph-free node batches (MLPs only).

        Args:
            model (Model): the model to train (a GNN needs ``num_neighbors`` in mini-batch mode).
            data (Data): the graph.
            extras (dict, optional): per-node tensors for the loss (teacher outputs).
            seed_nodes (Tensor, optional): the target nodes of the mini-batches, ids or a mask
                (default: ``data.train_mask``).
            seed (int, optional): seeds graphkd's sampler (the batch order follows torch's
                global generator, seeded by :meth:`fit`).
        """
        if self.batch_size is None:
            return FullBatch(data, extras=extras)
        nodes = seed_nodes if seed_nodes is not None else data.train_mask
        if self.num_neighbors is None:
            if model.uses_graph:
                raise ValueError(
                    f"{type(model).__name__} needs a graph in every batch: set num_neighbors (e.g. [10, 10]) "
                    "with batch_size"
                )
            return NodeBatches(data, self.batch_size, nodes, extras=extras)
        backend = choose_backend(self.sampler, self.device)
        num_workers = self.num_workers
        if backend == "graphkd" and self.device.type != "cpu":
            if data.x.device != self.device:
                data = copy.copy(data).to(self.device)  # sample and gather on the device itself
            num_workers = 0  # CUDA tensors cannot be shared with forked loader workers
        pin = self.device.type == "cuda" and data.x.device.type == "cpu"
        return SampledBatches.from_data(
            data,
            self.num_neighbors,
            self.batch_size,
            nodes,
            extras=extras,
            backend=backend,
            seed=seed,
            num_workers=num_workers,
            pin_memory=pin,
        )

    def fit(
        self,
        model: Model,
        data: Data,
        loss_fn: LossFn = cross_entropy_loss,
        batches: BatchSource | None = None,
        seed: int | None = None,
        extra_modules: Sequence[nn.Module] = (),
        seed_nodes: Tensor | None = None,
        checkpoint: str | os.PathLike | None = None,
        signature: dict[str, Any] | None = None,
    ) -> History:
        r"""Trains ``model`` on ``data`` and restores its best-validation weights.

        Args:
            model (Model): the model to train.
            data (Data): the graph with ``train_mask``/``val_mask``/``test_mask`` (used for
                evaluation; and for training unless ``batches`` is given).
            loss_fn (LossFn, optional): ``loss_fn(model, batch) -> Tensor``, or
                ``-> (Tensor, {name: Tensor})`` to log named terms of the total in
                :attr:`EpochRecord.terms` (default: :func:`cross_entropy_loss`).
            batches (BatchSource, optional): the epoch's batches (default: :meth:`make_batches`:
                full-batch, or mini-batches when ``batch_size`` is set).
            seed (int, optional): seeds every generator first, so a CPU run is exactly
                reproducible.
            extra_modules (Sequence[nn.Module], optional): further trained modules outside the
                model (e.g. a loss's projection heads): moved to the device, optimised with the
                model, put in training mode for each epoch; not part of the best-validation
                weights restored at the end (their state is saved in ``checkpoint``, though).
            seed_nodes (Tensor, optional): the target nodes of mini-batches (default: the
                training nodes); ignored when ``batches`` is given or training is full-batch.
            checkpoint (str, optional): a file to make the run resumable. After every
                ``checkpoint_every`` epochs the whole state (weights, optimiser, best checkpoint
                so far, history, random generators, the batch source's generators) is written
                there atomically; if the file exists, ``fit`` continues from it (and returns at
                once if that run had ended), so an interrupted run ends as an uninterrupted one
                would. A checkpoint of another run (model, settings, data, seed or
                ``signature`` differ) raises :class:`ValueError`.
            signature (dict, optional): further settings that identify the run in its
                checkpoint (e.g. a distillation method's parameters).
        """
        validate_data(data, num_classes=getattr(data, "num_classes", None))
        num_classes = int(getattr(data, "num_classes", 0) or int(data.y.max()) + 1)
        if model.out_channels != num_classes:
            raise ValueError(
                f"{type(model).__name__} has out_channels={model.out_channels} but the data has {num_classes} classes"
            )
        if model.in_channels != data.num_features:
            raise ValueError(
                f"{type(model).__name__} has in_channels={model.in_channels} "
                f"but data.x has {data.num_features} features"
            )
        if seed is not None:
            seed_everything(seed)
        model.to(self.device)
        for module in extra_modules:
            module.to(self.device)
        if batches is None:
            # a sampled loader reads the graph where it is (the CPU unless the caller moved it);
            # full-batch training moves the whole graph to the device
            source = data if self.batch_size is not None else copy.copy(data).to(self.device)
            batches = self.make_batches(model, source, seed_nodes=seed_nodes, seed=seed)
        data = copy.copy(data).to(self.device)  # Data.to works in place: never move the caller's graph
        params = [*model.parameters(), *(p for m in extra_modules for p in m.parameters())]
        opt = self.optimizer_cls(params, lr=self.lr, weight_decay=self.weight_decay)
        run = TrainingState()
        if checkpoint is not None:
            sig = self._signature(model, data, loss_fn, extra_modules, seed, signature)
            saved = load_checkpoint(checkpoint, sig)
            if saved is not None:
                run = self._restore_state(saved, model, opt, extra_modules, batches)
                what = "finished run" if saved["done"] else f"run at epoch {run.epoch} of {self.epochs}"
                log.info("%s: resumed the %s from %s", type(model).__name__, what, checkpoint)
                if saved["done"]:
                    if run.best_state is not None:
                        model.load_state_dict(run.best_state)
                    model.eval()
                    return run.history
        history = run.history
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        bar = tqdm(range(run.epoch, self.epochs), disable=not show, desc=type(model).__name__, leave=False)
        start = time.perf_counter() - history.train_time_s
        trained = self._training_module(model, extra_modules)
        for epoch in bar:
            tic = time.perf_counter()
            loss, terms = self._epoch(trained, batches, loss_fn, opt, extra_modules, show)
            steps = time.perf_counter() - tic
            acc = self._evaluate(model, data)
            history.epochs.append(EpochRecord(epoch, loss, acc["train"], acc["val"], acc.get("test"), terms, steps))
            if acc["val"] > run.best_val:
                run.best_val, history.best_epoch, run.waited = acc["val"], epoch, 0
                run.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            else:
                run.waited += 1
            bar.set_postfix(loss=f"{loss:.4f}", val=f"{acc['val']:.4f}", best=f"{run.best_val:.4f}")
            run.epoch = epoch + 1
            stop = self.patience is not None and run.waited >= self.patience
            history.stopped_early = stop
            history.train_time_s = time.perf_counter() - start
            last = stop or run.epoch == self.epochs
            if checkpoint is not None and (last or run.epoch % self.checkpoint_every == 0):
                self._save_state(run, checkpoint, sig, model, opt, extra_modules, batches, last)
            if stop:
                break
        if run.best_state is not None:
            model.load_state_dict(run.best_state)
        model.eval()
        return history

    # -- hooks of data-parallel training (graphkd.distributed.DistributedTrainer) --------------
    def _training_module(self, model: Model, extra_modules: Sequence[nn.Module] = ()) -> nn.Module:
        r"""The module the loss runs the model through (a data-parallel wrapper, or the model),
        once the run's state is in place (before the first epoch, after a resume)."""
        return model

    def _evaluate(self, model: Model, data: Data) -> dict[str, float]:
        r"""The metric on every split, after an epoch."""
        return evaluate(model, data, self.eval_batch_size, self.metric)

    def _after_backward(self, extra_modules: Sequence[nn.Module]) -> None:
        r"""Called between each step's backward and optimiser step (data-parallel training
        averages the gradients of ``extra_modules`` across processes here)."""

    def _save_state(
        self,
        run: TrainingState,
        path: str | os.PathLike,
        signature: dict[str, Any],
        model: Model,
        opt: torch.optim.Optimizer,
        extra_modules: Sequence[nn.Module],
        batches: BatchSource,
        done: bool,
    ) -> None:
        run.save(path, signature, model, opt, extra_modules, batches, done=done)

    def _restore_state(
        self,
        saved: dict[str, Any],
        model: Model,
        opt: torch.optim.Optimizer,
        extra_modules: Sequence[nn.Module],
        batches: BatchSource,
    ) -> TrainingState:
        return TrainingState.restore(saved, model, opt, extra_modules, batches)

    def _signature(
        self,
        model: Model,
        data: Data,
        loss_fn: LossFn,
        extra_modules: Sequence[nn.Module],
        seed: int | None,
        extra: dict[str, Any] | None,
    ) -> dict[str, Any]:
        # what makes two runs the same run: a checkpoint of any other is refused
        return {
            "model": repr(model),
            "parameters": {k: list(v.shape) for k, v in model.state_dict().items()},
            "extra_modules": [repr(m) for m in extra_modules],
            "loss": callable_identity(loss_fn),
            "trainer": {
                "epochs": self.epochs,
                "lr": self.lr,
                "weight_decay": self.weight_decay,
                "optimizer": self.optimizer,
                "patience": self.patience,
                "batch_size": self.batch_size,
                "num_neighbors": self.num_neighbors,
                "sampler": self.sampler,
                "num_workers": self.num_workers,
                "device": self.device.type,
                "metric": callable_identity(self.metric),
            },
            "data": graph_digest(data),  # features, labels, edges and split masks
            "seed": seed,
            **({"extra": extra} if extra else {}),
        }

    def _epoch(
        self,
        model: Model,
        batches: BatchSource,
        loss_fn: LossFn,
        opt: torch.optim.Optimizer,
        extra_modules: Sequence[nn.Module] = (),
        show: bool = False,
    ) -> tuple[float, dict[str, float]]:
        model.train()
        for module in extra_modules:
            module.train()
        total, count, term_sums = 0.0, 0, {}
        many = show and len(batches) > 1 if hasattr(batches, "__len__") else show
        for batch in tqdm(batches, disable=not many, desc="batches", leave=False, unit="batch"):
            batch = batch.to(self.device)
            opt.zero_grad()
            loss = loss_fn(model, batch)
            if isinstance(loss, tuple):
                loss, terms = loss
                for name, value in terms.items():
                    term_sums[name] = term_sums.get(name, 0.0) + float(value.detach())
            if not torch.isfinite(loss):
                raise ValueError(
                    f"training loss became {float(loss.detach())}; lower the learning rate or check the inputs"
                )
            loss.backward()
            self._after_backward(extra_modules)
            opt.step()
            total, count = total + float(loss.detach()), count + 1
        if count == 0:
            raise ValueError("the batch source yielded no batch for this epoch")
        return total / count, {name: value / count for name, value in term_sums.items()}

    def __repr__(self) -> str:
        return (
            f"Trainer(epochs={self.epochs}, lr={self.lr}, weight_decay={self.weight_decay}, "
            f"optimizer={self.optimizer!r}, patience={self.patience}, device={str(self.device)!r})"
        )


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
