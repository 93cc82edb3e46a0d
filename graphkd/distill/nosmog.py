"""NOSMOG: soft labels plus positional features, representation similarity and adversarial
feature augmentation."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from ..features import PositionalFeatures
from ..losses import SimilarityLoss, SoftLabelLoss
from ..losses.similarity import SIMILARITY_KERNELS
from ..nn.base import Model
from ..train import Batch, Trainer
from .base import Distiller
from .teacher_outputs import TeacherOutputs

__all__ = ["NOSMOG"]


class NOSMOG(Distiller):
    r"""NOSMOG (`Tian et al., ICLR 2023 <https://arxiv.org/abs/2208.10010>`_): an MLP student on
    the node features and positional features :math:`[\mathbf{X} \,\|\, \mathbf{P}]`
    (DeepWalk embeddings, :class:`~graphkd.features.PositionalFeatures`), trained on

    .. math::
        \mathcal{L} = \mathcal{L}_{\mathrm{KD}}(\mathbf{x}) + \alpha\, \mathcal{L}_{\mathrm{KD}}(\mathbf{x}
            + \boldsymbol{\delta}^\star) + \mu\, \mathcal{L}_{\mathrm{RSD}},

    * :math:`\mathcal{L}_{\mathrm{KD}}`: GLNN's soft-label loss (:class:`~graphkd.losses.SoftLabelLoss`,
      :math:`\lambda\,\mathrm{CE} + (1-\lambda)\,T^2\,\mathrm{KL}`);
    * adversarial feature augmentation: :math:`\boldsymbol{\delta}^\star` maximises the same loss
      within :math:`\lVert\boldsymbol{\delta}\rVert_\infty \le \epsilon`, found by PGD from a
      uniform start, ``adv_steps`` steps of :math:`\epsilon/4` along the gradient's sign, over the
      whole input (features and positions), the student in training mode as in NOSMOG (dropout
      active; a student with batch norm also updates its running statistics on those passes);
    * representation similarity: :class:`~graphkd.losses.SimilarityLoss` between the student's
      hidden layer ``student_layer`` (through a learned projection) and the teacher's hidden
      layer ``teacher_layer`` on the batch's nodes (use node mini-batches: the Gram matrices
      are :math:`|B| \times |B|`).

    Positional features are learned on the graph the student trains on (in the inductive
    protocol, the observed graph); an unseen node gets the mean of its observed neighbours'
    embeddings, so **its prediction reads its neighbours' ids** (a one-hop lookup), not only its
    features. With ``positional=None`` the student reads the features alone.

    Differences from NOSMOG's released code: graphkd's hidden layers are taken after the
    activation (NOSMOG's before it), DeepWalk is trained by :func:`~graphkd.features.deepwalk`
    (negative sampling in PyTorch, not gensim), and the inductive RSD reads the teacher's
    embeddings of the right nodes (the released code indexes them by position in the observed
    set).

    Example::

        outputs = TeacherOutputs.compute(teacher, data, hidden_layers=[0])
        pos = PositionalFeatures(64)
        student = MLP(data.num_features + 64, 128, data.num_classes)
        nosmog = NOSMOG(student, pos, rsd_weight=0.1, adv_eps=0.04,
                        trainer=Trainer(batch_size=512)).fit(data, outputs, seed=0)
        nosmog.predict(data)

    Args:
        student (Model): the student, whose ``in_channels`` is the number of features plus
            ``positional.embedding_dim``.
        positional (PositionalFeatures or str, optional): positional features; ``"deepwalk"``:
            ``PositionalFeatures(64)``; ``None``: none, the student reads the features alone
            (default: :obj:`"deepwalk"`).
        rsd_weight (float, optional): :math:`\mu` (default: :obj:`0.1`; ``0`` turns it off).
        adv_eps (float, optional): :math:`\epsilon` (default: :obj:`0.04`; ``0`` turns the
            augmentation off).
        adv_weight (float, optional): :math:`\alpha` (default: :obj:`0.1`).
        adv_steps (int, optional): PGD steps (default: :obj:`5`).
        rsd_kernel (str, optional): the relation of :class:`~graphkd.losses.SimilarityLoss`:
            ``"linear"`` (NOSMOG's dot products) or ``"cosine"`` (scale-free) (default: :obj:`"linear"`).
        student_layer (int, optional): the student's hidden layer for RSD (default: :obj:`0`).
        teacher_layer (int, optional): the teacher's hidden layer for RSD (default: :obj:`0`).
        lam (float, optional): weight of the hard labels (default: :obj:`0.0`).
        temperature (float, optional): distillation temperature (default: :obj:`1.0`).
        trainer (Trainer, optional): the training engine (default: ``Trainer()``).
    """

    def __init__(
        self,
        student: Model,
        positional: PositionalFeatures | str | None = "deepwalk",
        rsd_weight: float = 0.1,
        adv_eps: float = 0.04,
        adv_weight: float = 0.1,
        adv_steps: int = 5,
        rsd_kernel: str = "linear",
        student_layer: int = 0,
        teacher_layer: int = 0,
        lam: float = 0.0,
        temperature: float = 1.0,
        trainer: Trainer | None = None,
    ) -> None:
        super().__init__(student, trainer)
        for key, value in (("rsd_weight", rsd_weight), ("adv_eps", adv_eps), ("adv_weight", adv_weight)):
            if not (isinstance(value, (int, float)) and value >= 0 and value == value and value != float("inf")):
                raise ValueError(f"{key} must be a finite number >= 0, got {value!r}")
        if not isinstance(adv_steps, int) or adv_steps < 1:
            raise ValueError(f"adv_steps must be a positive integer, got {adv_steps!r}")
        if not 0 <= student_layer < student.num_layers - 1 and rsd_weight > 0:
            raise ValueError(
                f"student_layer={student_layer} is not a hidden layer of a student with {student.num_layers} layers"
            )
        if positional == "deepwalk":
            positional = PositionalFeatures(64)
        if positional is not None and not isinstance(positional, PositionalFeatures):
            raise ValueError(f"positional must be a PositionalFeatures, 'deepwalk' or None, got {positional!r}")
        self.positional = positional
        self.rsd_weight, self.adv_eps, self.adv_weight, self.adv_steps = rsd_weight, adv_eps, adv_weight, adv_steps
        if rsd_kernel not in SIMILARITY_KERNELS:
            raise ValueError(f"Unknown rsd_kernel {rsd_kernel!r}; valid choices: {', '.join(SIMILARITY_KERNELS)}")
        self.rsd_kernel = rsd_kernel
        self.student_layer, self.teacher_layer = student_layer, teacher_layer
        self.lam, self.temperature = lam, temperature
        self.criterion = SoftLabelLoss(lam, temperature)

    @classmethod
    def from_recipe(cls, recipe: Any, data: Data, trainer: Trainer | None = None) -> NOSMOG:
        r"""The recipe's student, widened by the positional features, and its parameters; the
        recipe's ``params`` hold the DeepWalk settings as ``pos_<name>`` (``pos_dim`` for the
        width, ``pos_dim=0`` for none) and NOSMOG's arguments by name."""
        from ..nn import build_model

        params = dict(recipe.params)
        valid = {"rsd_weight", "rsd_kernel", "adv_eps", "adv_weight", "adv_steps", "student_layer", "teacher_layer"}
        walk_keys = set(PositionalFeatures.DEEPWALK_ARGS)
        unknown = sorted(k for k in params if k not in valid and k.removeprefix("pos_") not in walk_keys | {"dim"})
        if unknown:
            choices = sorted(valid | {f"pos_{k}" for k in walk_keys | {"dim"}})
            raise ValueError(f"Unknown NOSMOG recipe parameter(s) {unknown}; valid: {', '.join(choices)}")
        dim = params.pop("pos_dim", 64)
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
            raise ValueError(f"pos_dim must be a non-negative integer (0: no positional features), got {dim!r}")
        walk = {k.removeprefix("pos_"): params.pop(k) for k in list(params) if k.startswith("pos_")}
        positional = PositionalFeatures(dim, **walk) if dim else None
        spec = recipe.student
        student = build_model(spec.name, data.num_features + dim, data.num_classes, **spec.model_kwargs())
        return cls(student, positional, lam=recipe.lam, temperature=recipe.temperature, trainer=trainer, **params)

    # -- hooks -------------------------------------------------------------------------------
    def teacher_layers(self) -> list[int]:
        return [self.teacher_layer] if self.rsd_weight > 0 else []

    def prepare(self, data: Data, teacher_outputs: TeacherOutputs, seed: int | None = None) -> None:
        width = data.num_features + (self.positional.embedding_dim if self.positional is not None else 0)
        if self.student.in_channels != width:
            raise ValueError(
                f"NOSMOG's student reads {data.num_features} features"
                + (f" + {self.positional.embedding_dim} positional features" if self.positional is not None else "")
                + f" = {width} channels, but it has in_channels={self.student.in_channels}"
            )
        if self.positional is not None:
            self.positional.fit(data, seed=seed if seed is not None else 0)
        if self.rsd_weight > 0:
            teacher = teacher_outputs.hidden_layer(self.teacher_layer)
            self.similarity_ = SimilarityLoss(
                self.student.hidden_channels, teacher.size(1), self.student.dropout, kernel=self.rsd_kernel
            )

    def transform(self, data: Data, observed_nodes: Tensor | None = None) -> Data:
        if self.positional is None:
            return data
        if not hasattr(self.positional, "embedding_"):
            raise ValueError("NOSMOG is not fitted: its positional features come from fit(data, teacher_outputs)")
        if observed_nodes is None and "ind_test_mask" in data and data.num_nodes != self.positional.embedding_.size(0):
            observed_nodes = ~data.ind_test_mask  # the inductive protocol's full graph
        return self.positional.transform(data, observed_nodes)

    def extras(self, data: Data, teacher_outputs: TeacherOutputs) -> dict[str, Tensor]:
        return self.logits_and_hidden(teacher_outputs, self.teacher_layer if self.rsd_weight > 0 else None)

    def trainable_modules(self) -> list[nn.Module]:
        return [self.similarity_] if self.rsd_weight > 0 and hasattr(self, "similarity_") else []

    def loss(self, student: Model, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        t, y, mask = (batch.targets(v) for v in (batch.extras["teacher_logits"], batch.y, batch.mask))
        hops = batch.hops()
        logits, hidden = student(batch.x, batch.edge_index, return_hidden=True, **hops)
        kd = self.criterion(batch.targets(logits), t, y, mask)
        total, terms = kd, {"kd": kd}
        if self.adv_eps > 0 and self.adv_weight > 0:
            delta = self._attack(student, batch, t, y, mask)
            adv = self.criterion(batch.targets(student(batch.x + delta, batch.edge_index, **hops)), t, y, mask)
            total, terms["adv"] = total + self.adv_weight * adv, adv
        if self.rsd_weight > 0:
            rsd = self.similarity_(
                batch.targets(hidden[self.student_layer]), batch.targets(batch.extras["teacher_hidden"])
            )
            total, terms["rsd"] = total + self.rsd_weight * rsd, rsd
        return total, terms

    def _attack(self, student: Model, batch: Batch, t: Tensor, y: Tensor, mask: Tensor) -> Tensor:
        r"""PGD within the :math:`\ell_\infty` ball of radius ``adv_eps``; only the perturbation
        gets gradients (the student's parameters are untouched)."""
        eps = self.adv_eps
        x = batch.x.detach()
        delta = torch.empty_like(x).uniform_(-eps, eps)
        for _ in range(self.adv_steps):
            delta.requires_grad_(True)
            out = batch.targets(student(x + delta, batch.edge_index, **batch.hops()))
            (grad,) = torch.autograd.grad(self.criterion(out, t, y, mask), delta)
            delta = (delta.detach() + eps / 4 * grad.sign()).clamp_(-eps, eps)
        return delta.detach()

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params.pop("criterion", None)
        return params
