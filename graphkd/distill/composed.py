"""Composed distillation: a weighted sum of named loss terms, each reading chosen layers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor, nn
from torch_geometric.data import Data

from ..losses import SoftLabelLoss
from ..nn.base import Model
from ..train import Batch, Trainer
from .base import Distiller
from .teacher_outputs import TeacherOutputs

__all__ = ["ComposedKD", "Term"]


@dataclass
class Term:
    r"""One weighted term of a :class:`ComposedKD` objective.

    Args:
        name (str): the term's name in the logs (:attr:`graphkd.train.EpochRecord.terms`).
        loss (nn.Module): a :class:`graphkd.losses.SoftLabelLoss` (on the logits: cross-entropy
            and/or soft labels), or a relational/representation loss called as
            ``loss(student_h, teacher_h, edge_index, mask)`` (:class:`~graphkd.losses.LSPLoss`,
            :class:`~graphkd.losses.GlobalStructureLoss`, :class:`~graphkd.losses.RKDLoss`,
            :class:`~graphkd.losses.ContrastiveLoss`, :class:`~graphkd.losses.HintLoss`, or
            your own module with that call).
        weight (float, optional): its weight in the sum (default: :obj:`1.0`).
        student_layer (int, optional): index into the student's hidden list
            (``forward(..., return_hidden=True)``); ``-1`` is the logits (default: :obj:`-1`).
        teacher_layer (int, optional): index into the teacher's hidden list; ``-1`` is the
            logits, any other layer must have been kept in the
            :class:`~graphkd.distill.TeacherOutputs` (``hidden_layers=``) (default: :obj:`-1`).
    """

    name: str
    loss: nn.Module
    weight: float = 1.0
    student_layer: int = -1
    teacher_layer: int = -1


class ComposedKD(Distiller):
    r"""Distillation by a weighted sum of named terms,

    .. math::
        \mathcal{L} = \sum_k w_k \, \mathcal{L}_k\big(\mathbf{H}^{s}_{l_k}, \mathbf{H}^{t}_{m_k}\big),

    where term :math:`k` compares the student's layer :math:`l_k` with the teacher's layer
    :math:`m_k`. Each term's value is logged per epoch under its name. Relational terms get the
    batch's edges, so an MLP student can learn LSP on the graph's edges during training and still
    need no graph at inference; with a GNN student (GNN→GNN) the same terms apply. Projection
    heads inside the terms are trained with the student.

    Example (GLNN + LSP between the MLP's hidden layer and the teacher's)::

        outputs = TeacherOutputs.compute(teacher, data, hidden_layers=[0])
        kd = ComposedKD(MLP(data.num_features, 128, data.num_classes), [
            Term("kd", SoftLabelLoss(lam=0.0)),
            Term("lsp", LSPLoss(kernel="rbf"), weight=1.0, student_layer=0, teacher_layer=0),
        ]).fit(data, outputs)

    Args:
        student (Model): the student (MLP or GNN).
        terms (Sequence[Term]): the terms; names must be distinct.
        trainer (Trainer, optional): the training engine (default: ``Trainer()``).
    """

    def __init__(self, student: Model, terms: Sequence[Term], trainer: Trainer | None = None) -> None:
        super().__init__(student, trainer)
        terms = list(terms)
        if not terms:
            raise ValueError("ComposedKD needs at least one term")
        names = [t.name for t in terms]
        if len(set(names)) != len(names):
            raise ValueError(f"term names must be distinct, got {names}")
        for t in terms:
            if not isinstance(t, Term) or not isinstance(t.loss, nn.Module):
                raise ValueError(f"each term must be a Term whose loss is an nn.Module, got {t!r}")
            if not (math.isfinite(t.weight) and t.weight >= 0):
                raise ValueError(f"term {t.name!r}: weight must be finite and >= 0, got {t.weight}")
            if not -student.num_layers <= t.student_layer < student.num_layers:
                raise ValueError(
                    f"term {t.name!r}: student_layer={t.student_layer} out of range for a student with "
                    f"{student.num_layers} layers"
                )
            if isinstance(t.loss, SoftLabelLoss) and (
                t.student_layer % student.num_layers != student.num_layers - 1 or t.teacher_layer != -1
            ):
                raise ValueError(f"term {t.name!r}: a SoftLabelLoss reads the logits; use layers -1")
        self.terms = terms
        self.loss_modules = nn.ModuleList(t.loss for t in terms)

    def _teacher_key(self, layer: int) -> str:
        return "teacher_logits" if layer == -1 else f"teacher_hidden_{layer}"

    def extras(self, data: Data, teacher_outputs: TeacherOutputs) -> dict[str, Tensor]:
        out = {"teacher_logits": teacher_outputs.logits}
        for t in self.terms:
            if t.teacher_layer != -1:
                out[self._teacher_key(t.teacher_layer)] = teacher_outputs.hidden_layer(t.teacher_layer)
        return out

    def teacher_layers(self) -> list[int]:
        return sorted({t.teacher_layer for t in self.terms if t.teacher_layer != -1})

    def trainable_modules(self) -> list[nn.Module]:
        return [m for m in self.loss_modules if any(True for _ in m.parameters())]

    def loss(self, student: Model, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        logits, hidden = student(batch.x, batch.edge_index, return_hidden=True)
        values: dict[str, Tensor] = {}
        total = logits.new_zeros(())
        for t in self.terms:
            teacher = batch.extras[self._teacher_key(t.teacher_layer)]
            if isinstance(t.loss, SoftLabelLoss):  # node-level: the batch's targets only
                value = t.loss(*(batch.targets(v) for v in (logits, teacher, batch.y, batch.mask)))
            else:
                value = t.loss(hidden[t.student_layer], teacher, batch.edge_index, batch.extras.get("seed_mask"))
            values[t.name] = value
            total = total + t.weight * value
        return total, values

    def get_params(self):
        params = super().get_params()
        params.pop("loss_modules", None)
        return params
