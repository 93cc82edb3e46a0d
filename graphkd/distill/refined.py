"""graphkd's recipe: the teacher's soft labels refined by label propagation, distilled into an MLP."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..features import PositionalFeatures
from ..nn.base import Model
from ..train import Trainer
from .cpf import CPF, check_restarts
from .nosmog import NOSMOG
from .teacher_outputs import TeacherOutputs

__all__ = ["RefinedKD"]

#: recipe params of the refiner (``refine_<name>``) and the PLP / trainer argument each sets
REFINER_PARAMS = {
    "refine_layers": "num_layers",
    "refine_hidden": "hidden_channels",
    "refine_dropout": "dropout",
    "refine_attention_dropout": "attention_dropout",
    "refine_lr": "lr",
    "refine_weight_decay": "weight_decay",
    "refine_epochs": "epochs",
    "refine_patience": "patience",
    "refine_restarts": "restarts",  # CPF's own argument: initialisations, the best kept on validation
}


class RefinedKD(NOSMOG):
    r"""graphkd's GNN-to-MLP recipe: the teacher's soft labels are first **refined** by a
    :class:`CPF` label-propagation model (PLP + FT, `Yang et al., WWW 2021
    <https://arxiv.org/abs/2103.02885>`_) fitted to them with the training labels clamped and
    chosen on validation; an MLP student is then distilled from the refined soft labels,
    with NOSMOG's optional terms (positional features, adversarial augmentation,
    representation similarity to the teacher's hidden layer):

    .. math::
        \mathbf{z}^{\mathrm{ref}} = \mathrm{PLP}_{\theta^\star}(\mathbf{X}, \mathbf{A}, \mathbf{Y}_L),
        \quad \theta^\star = \arg\min_\theta \big\lVert \mathrm{softmax}(\mathrm{PLP}_\theta)_{\mathcal{U}}
            - \mathrm{softmax}(\mathbf{t})_{\mathcal{U}} \big\rVert_F,
        \qquad \mathcal{L} = \mathcal{L}_{\mathrm{NOSMOG}}\big(\mathbf{s}, \mathbf{z}^{\mathrm{ref}}\big).

    The graph and the training labels are read only while training; the student is an MLP on
    node features (and positional features when enabled) and needs no graph at inference. In
    the inductive protocol the refiner sees the observed graph only, like the teacher.
    With ``refiner=None`` this is :class:`NOSMOG` (with every term off: GLNN on node batches).

    Example::

        refiner = CPF(PLP(data.num_features, 32, data.num_classes, data.num_nodes, num_layers=8,
                          dropout=0.8), trainer=Trainer(lr=0.001, weight_decay=0.01))
        method = RefinedKD(MLP(data.num_features, 128, data.num_classes), refiner)
        method.fit(data, TeacherOutputs.compute(teacher, data), seed=0)

    Args:
        student (Model): the MLP student.
        refiner (CPF, optional): the label-propagation model fitted to the teacher's soft labels
            in :meth:`prepare` (default: none).
        positional (PositionalFeatures or str, optional): as in :class:`NOSMOG` (default: none).
        rsd_weight, adv_eps (float, optional): as in :class:`NOSMOG` (default: :obj:`0`, off).
        **kwargs: further :class:`NOSMOG` arguments (``adv_weight``, ``lam``, ``temperature``,
            ``trainer``, ...).
    """

    def __init__(
        self,
        student: Model,
        refiner: CPF | None = None,
        positional: PositionalFeatures | str | None = None,
        rsd_weight: float = 0.0,
        adv_eps: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(student, positional, rsd_weight=rsd_weight, adv_eps=adv_eps, **kwargs)
        if refiner is not None and not isinstance(refiner, CPF):
            raise ValueError(f"refiner must be a graphkd.distill.CPF or None, got {type(refiner).__name__}")
        self.refiner = refiner

    @classmethod
    def from_recipe(cls, recipe: Any, data: Data, trainer: Trainer | None = None) -> RefinedKD:
        r"""NOSMOG's recipe reading (:meth:`NOSMOG.from_recipe`) plus the refiner's settings as
        ``refine_<name>`` params: ``refine_layers`` (:math:`K`), ``refine_hidden``,
        ``refine_dropout``, ``refine_attention_dropout``, ``refine_lr``,
        ``refine_weight_decay``, ``refine_epochs``, ``refine_patience``, ``refine_restarts``
        (:class:`CPF`'s ``restarts``) (``refine_layers=0``: no refiner)."""
        from ..recipes import ModelSpec, Recipe

        params = dict(recipe.params)
        refine = {REFINER_PARAMS[k]: params.pop(k) for k in list(params) if k in REFINER_PARAMS}
        method = super().from_recipe(dataclasses.replace(recipe, params=params), data, trainer)
        if refine.get("num_layers", 0):
            attention = refine.pop("attention_dropout", 0.2)
            restarts = refine.pop("restarts", 1)
            spec = ModelSpec("plp", **refine, options={"attention_dropout": attention})
            device = method.trainer.device
            plp = Recipe("cpf", recipe.dataset, recipe.teacher, spec, params={"restarts": restarts})
            method.refiner = CPF.from_recipe(plp, data, Trainer(**spec.trainer_kwargs(), device=device, progress=False))
        return method

    @classmethod
    def check_recipe(cls, recipe: Any) -> None:
        r"""Raises :class:`ValueError` for a bad ``refine_restarts``, before anything trains."""
        super().check_recipe(recipe)
        check_restarts(recipe.params.get("refine_restarts", 1), "refine_restarts")

    def prepare(self, data: Data, teacher_outputs: TeacherOutputs, seed: int | None = None) -> None:
        super().prepare(data, teacher_outputs, seed)
        if self.refiner is not None:
            self.refiner.fit(data, teacher_outputs, seed=seed)
            self.refined_logits_ = torch.log_softmax(self.refiner.predict(data).float(), dim=-1).cpu()

    def extras(self, data: Data, teacher_outputs: TeacherOutputs) -> dict[str, Tensor]:
        out = super().extras(data, teacher_outputs)
        if self.refiner is not None:
            out["teacher_logits"] = self.refined_logits_
        return out
