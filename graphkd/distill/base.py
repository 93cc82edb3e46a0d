"""The base of every distillation method."""

from __future__ import annotations

import copy
import os
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from ..datasets.validate import validate_data
from ..eval.metrics import predict
from ..nn.base import Model
from ..recipes import omit_later_defaults
from ..train import Batch, History, Trainer
from ..utils.seed import seed_everything
from .teacher_outputs import TeacherOutputs

__all__ = ["Distiller"]


class Distiller:
    r"""A distillation method: a student, the loss that teaches it, and the training engine.

    Subclasses override one hook, :meth:`loss` (and :meth:`extras` when they need more per-node
    teacher signals than the logits; :meth:`prepare` and :meth:`transform` when the student reads
    more than the node features, e.g. NOSMOG's positional features). :meth:`fit` checks that the
    teacher outputs belong to the graph and match the student's classes, trains with
    :class:`graphkd.train.Trainer` and keeps the checkpoint with the best **validation** accuracy.

    Following scikit-learn, ``__init__`` only stores arguments, :meth:`fit` returns ``self`` and
    learned state ends in ``_`` (``history_``).

    Args:
        student (Model): the student (an MLP for GNN-to-MLP distillation).
        trainer (Trainer, optional): the training engine (default: ``Trainer()``).
    """

    #: whether the method's student reads the graph at inference (CPF's label propagation), so
    #: it is not a graph-free MLP (reported as such by :func:`graphkd.eval.compare_table`)
    student_needs_graph: bool = False

    def __init__(self, student: Model, trainer: Trainer | None = None) -> None:
        self.student = student
        self.trainer = trainer if trainer is not None else Trainer()

    # -- hooks -------------------------------------------------------------------------------
    def loss(self, student: Model, batch: Batch) -> Tensor:
        r"""The training objective on one batch; ``batch.extras["teacher_logits"]`` holds the
        teacher's logits of the batch's nodes. May return ``(total, {name: term})`` to log terms."""
        raise NotImplementedError

    def extras(self, data: Data, teacher_outputs: TeacherOutputs) -> dict[str, Tensor]:
        r"""Per-node tensors made available to :meth:`loss` in ``batch.extras``."""
        return {"teacher_logits": teacher_outputs.logits}

    @staticmethod
    def logits_and_hidden(teacher_outputs: TeacherOutputs, layer: int | None) -> dict[str, Tensor]:
        r""":meth:`extras` of methods that read one teacher hidden layer besides the logits
        (NOSMOG's RSD, VQGraph's tokens): ``teacher_logits`` and, unless ``layer`` is ``None``
        (the term is off), ``teacher_hidden``."""
        out = {"teacher_logits": teacher_outputs.logits}
        if layer is not None:
            out["teacher_hidden"] = teacher_outputs.hidden_layer(layer)
        return out

    def trainable_modules(self) -> list[nn.Module]:
        r"""Modules trained with the student but not part of it (e.g. a loss's projection heads)."""
        return []

    def prepare(self, data: Data, teacher_outputs: TeacherOutputs, seed: int | None = None) -> None:
        r"""Fits what the method learns from the graph before training (default: nothing)."""

    def transform(self, data: Data, observed_nodes: Tensor | None = None) -> Data:
        r"""The graph as the student reads it (default: ``data`` unchanged). ``observed_nodes``
        places the training graph's nodes in a larger graph (the inductive protocol's full graph:
        :attr:`graphkd.datasets.InductiveSplit.observed_ids`)."""
        return data

    def teacher_signals(self, teacher: Model, data: Data, seed: int = 0) -> dict[str, Tensor]:
        r"""Per-node signals the method needs from the trained teacher model itself, beyond its
        logits and hidden layers (e.g. KRD's logits under feature noise), to store with the
        outputs: ``TeacherOutputs.compute(teacher, data, extras=method.teacher_signals(teacher, data))``
        (default: none)."""
        return {}

    def start_epoch(self, student: Model) -> None:
        r"""Called before each training epoch (default: nothing), e.g. to update what the loss
        samples from the student's current predictions (KRD). State that must survive a resumed
        run belongs in a module of :meth:`trainable_modules` (saved in the checkpoint)."""

    def teacher_layers(self) -> list[int]:
        r"""The teacher's hidden layers the method reads; :class:`TeacherOutputs` must keep them
        (``TeacherOutputs.compute(..., hidden_layers=method.teacher_layers())``)."""
        return []

    @classmethod
    def check_recipe(cls, recipe: Any) -> None:
        r"""Raises :class:`ValueError` for a :class:`graphkd.recipes.Recipe` the method cannot
        run, before anything trains (default: every recipe is accepted; e.g. CPF refuses
        mini-batches)."""

    @classmethod
    def from_recipe(cls, recipe: Any, data: Data, trainer: Trainer | None = None) -> Distiller:
        r"""The method with a :class:`graphkd.recipes.Recipe`'s student (built for ``data``) and
        parameters (``lam``, ``temperature`` and the recipe's ``params``)."""
        from ..nn import build_model

        spec = recipe.student
        student = build_model(spec.name, data.num_features, data.num_classes, **spec.model_kwargs())
        return cls(student, lam=recipe.lam, temperature=recipe.temperature, trainer=trainer, **recipe.params)

    # -- shared logic ------------------------------------------------------------------------
    def fit(
        self,
        data: Data,
        teacher_outputs: TeacherOutputs,
        seed: int | None = None,
        checkpoint: str | os.PathLike | None = None,
    ) -> Distiller:
        r"""Distils ``teacher_outputs`` into the student on ``data`` (the graph the outputs were
        computed on) and restores the student's best-validation weights.

        Args:
            data (Data): the graph, with its split masks.
            teacher_outputs (TeacherOutputs): the teacher's outputs for ``data``'s nodes.
            seed (int, optional): seeds every generator first (exactly reproducible on a CPU).
            checkpoint (str, optional): a file that makes the run resumable (see
                :meth:`graphkd.train.Trainer.fit`); the method's parameters are part of its
                signature, so another method's checkpoint is refused.

        Raises:
            ValueError: ``teacher_outputs`` that is not a :class:`TeacherOutputs`, a malformed
                graph (:func:`graphkd.datasets.validate_data`), outputs of another graph, or a
                class mismatch between teacher and student (all before any training).
        """
        if not isinstance(teacher_outputs, TeacherOutputs):
            raise ValueError(
                f"teacher_outputs must be a graphkd.distill.TeacherOutputs, got {type(teacher_outputs).__name__}; "
                "make one with TeacherOutputs.compute(teacher, data) (it records which graph the outputs belong to)"
            )
        # the graph is checked before prepare() fits anything on it (e.g. NOSMOG's DeepWalk)
        validate_data(data, num_classes=getattr(data, "num_classes", None))
        teacher_outputs.check(data)
        if teacher_outputs.num_classes != self.student.out_channels:
            raise ValueError(
                f"teacher has {teacher_outputs.num_classes} classes but the student has out_channels="
                f"{self.student.out_channels}"
            )
        if seed is not None:  # what prepare() initialises (e.g. projection heads) is seeded too
            seed_everything(seed)
        self.prepare(data, teacher_outputs, seed)
        extras = self.extras(data, teacher_outputs)
        data = self.transform(data)
        if self.trainer.batch_size is None:  # full-batch: everything on the device once
            device = self.trainer.device
            graph = copy.copy(data).to(device)
            extras = {k: v.to(device) for k, v in extras.items()}
        else:  # mini-batches gather rows on the host and move each batch
            graph = data
        # every node with teacher outputs is a target of the mini-batches (soft labels cover them all)
        every_node = torch.ones(data.num_nodes, dtype=torch.bool)
        batches = self.trainer.make_batches(self.student, graph, extras, seed_nodes=every_node, seed=seed)
        if type(self).start_epoch is not Distiller.start_epoch:
            batches = _EpochStart(batches, lambda: self.start_epoch(self.student))
        self.history_: History = self.trainer.fit(
            self.student,
            data,
            self.loss,
            batches,
            seed=seed,
            extra_modules=self.trainable_modules(),
            checkpoint=checkpoint,
            signature={"method": repr(self), "teacher_outputs": teacher_outputs.digest()},
        )
        return self

    def predict(self, data: Data, observed_nodes: Tensor | None = None) -> Tensor:
        r"""The student's logits for every node of ``data`` (see :meth:`transform`)."""
        return predict(self.student, self.transform(data, observed_nodes))

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def __repr__(self) -> str:
        # the repr is part of every checkpoint's signature (see omit_later_defaults)
        params = omit_later_defaults(self.get_params())
        args = ", ".join(f"{k}={v!r}" for k, v in params.items() if k not in ("student", "trainer"))
        return f"{type(self).__name__}({args})"


class _EpochStart:
    r"""A batch source that calls ``hook()`` before yielding each epoch's batches."""

    def __init__(self, batches: Any, hook: Any) -> None:
        self.batches, self.hook = batches, hook

    def __iter__(self):
        self.hook()
        yield from self.batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getattr__(self, name: str) -> Any:  # state_dict/load_state_dict of resumable sources
        if name == "batches":
            raise AttributeError(name)
        return getattr(self.batches, name)
