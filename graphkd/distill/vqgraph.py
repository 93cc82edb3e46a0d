"""VQGraph: soft labels plus the teacher's soft assignments to a codebook of structure-aware tokens."""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from ..losses import SoftLabelLoss
from ..losses.projection import projection
from ..nn.base import Model
from ..nn.vq import code_similarity
from ..train import Batch, Trainer
from .base import Distiller
from .teacher_outputs import TeacherOutputs

__all__ = ["VQGraph", "soft_token_loss"]


def soft_token_loss(student: Tensor, teacher: Tensor, codebook: Tensor, temperature: float = 1.0) -> Tensor:
    r"""VQGraph's token distillation: the KL divergence between the teacher's and the student's
    soft assignments of each node to the codes,

    .. math::
        \mathcal{L}_{\mathrm{token}} = \frac{\tau^2}{N} \sum_i \mathrm{KL}\big(
            \mathrm{softmax}(\mathbf{r}^t_i / \tau) \,\|\, \mathrm{softmax}(\mathbf{r}^s_i / \tau)\big),
        \qquad r_{ik} = \cos(\mathbf{h}_i, \mathbf{e}_k),

    computed on log-probabilities; the teacher is detached. Cost :math:`O(NKD)` and an
    :math:`N \times K` similarity matrix per side: pass batches of nodes, not a large graph.

    Args:
        student (Tensor): the student's embeddings in the code space ``[N, D]``.
        teacher (Tensor): the teacher's pre-quantisation embeddings ``[N, D]``.
        codebook (Tensor): the codes ``[K, D]``.
        temperature (float, optional): :math:`\tau > 0` (default: :obj:`1.0`).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if student.shape != teacher.shape:
        raise ValueError(
            f"student and teacher embeddings must have one shape [N, D], got {list(student.shape)} and "
            f"{list(teacher.shape)}"
        )
    if student.size(0) == 0:
        return student.sum() * 0.0
    codebook = codebook.detach()
    log_s = F.log_softmax(code_similarity(student, codebook) / temperature, dim=-1)
    log_t = F.log_softmax(code_similarity(teacher.detach(), codebook) / temperature, dim=-1)
    return F.kl_div(log_s, log_t, reduction="batchmean", log_target=True) * temperature**2


class VQGraph(Distiller):
    r"""VQGraph (`Yang et al., ICLR 2024 <https://arxiv.org/abs/2308.02117>`_): an MLP student
    taught by a tokenizer teacher (:class:`graphkd.nn.VQGNN`, e.g. ``"vq-sage"``) both its soft
    labels and its soft assignments of each node to the codebook of structure-aware tokens,

    .. math::
        \mathcal{L} = \lambda\,\mathrm{CE}(\mathbf{s}_{\mathcal{V}_L}, \mathbf{y}_{\mathcal{V}_L})
            + (1-\lambda)\,T^2\,\mathrm{KL}\big(\mathrm{softmax}(\mathbf{t}/T) \,\|\,
              \mathrm{softmax}(\mathbf{s}/T)\big)
            + w\,\mathcal{L}_{\mathrm{token}}\big(P\mathbf{h}^s, \mathbf{h}^t, \mathbf{E}\big),

    (:class:`~graphkd.losses.SoftLabelLoss` and :func:`soft_token_loss`), where
    :math:`\mathbf{h}^t` is the teacher's pre-quantisation embedding (hidden layer
    ``teacher_layer`` of the teacher outputs), :math:`\mathbf{E}` its codebook
    (``teacher_outputs.extras["codebook"]``), :math:`\mathbf{h}^s` the student's hidden layer
    ``student_layer`` and :math:`P` a learned linear projection into the code space (trained
    with the student; the identity at the start when the widths agree). Both terms cover every
    node of the batch (all nodes, test nodes included, as in VQGraph's transductive setting).
    The :math:`|B| \times K` similarities are computed per batch, never for all nodes at once:
    on a large graph train on node batches (``Trainer(batch_size=...)``).

    Both sides use the **cosine** similarity to the codes: the teacher's codes are assigned
    by cosine similarity, so this is the relation the tokens encode, and it does not depend on
    the scale of the student's projection. (VQGraph's released student compares its negative
    Euclidean distances with the teacher's cosine similarities, which cannot agree even for
    equal embeddings, and weighs the term by :math:`10^{-8}`, which turns it off.)

    Differences from VQGraph's released code: one optimiser step per batch on the sum of the
    terms (VQGraph: three passes with separate steps per epoch), soft labels at temperature
    :math:`T` with :math:`T^2` (VQGraph: :math:`T = 1`), and the checkpoint is chosen on
    **validation** accuracy (VQGraph's transductive script keeps the best test accuracy).

    Example::

        teacher = VQSAGE(data.num_features, 128, data.num_classes, codebook_size=512, aggregator="gcn")
        Trainer().fit(teacher, data)
        outputs = TeacherOutputs.compute(teacher, data, hidden_layers=[0])
        vq = VQGraph(MLP(data.num_features, 128, data.num_classes)).fit(data, outputs)

    Args:
        student (Model): the student, usually :class:`graphkd.nn.MLP` with a hidden layer.
        token_weight (float, optional): :math:`w` (default: :obj:`10.0`; ``0`` gives GLNN).
        token_temperature (float, optional): :math:`\tau` of the code assignments (default:
            :obj:`1.0`). Cosine similarities lie in :math:`[-1, 1]`, so at :math:`\tau = 1`
            both assignments are close to uniform over the codes and
            :math:`\tau^2\,\mathrm{KL}` is about half the variance of
            :math:`\mathbf{r}^t_i - \mathbf{r}^s_i` over the codes: small, hence the weight 10
            (chosen on cpf-cora's validation nodes, like :math:`w = 100, \tau = 0.05`).
        student_layer (int, optional): the student's hidden layer to project (default: the
            last hidden layer).
        teacher_layer (int, optional): the teacher's pre-quantisation layer (default:
            :obj:`0`, :attr:`graphkd.nn.VQGNN.quantized_layer`).
        lam (float, optional): weight of the hard labels (default: :obj:`0.0`).
        temperature (float, optional): soft-label temperature :math:`T` (default: :obj:`1.0`).
        trainer (Trainer, optional): the training engine (default: ``Trainer()``).
    """

    PARAMS = ("token_weight", "token_temperature", "student_layer", "teacher_layer")

    def __init__(
        self,
        student: Model,
        token_weight: float = 10.0,
        token_temperature: float = 1.0,
        student_layer: int | None = None,
        teacher_layer: int = 0,
        lam: float = 0.0,
        temperature: float = 1.0,
        trainer: Trainer | None = None,
    ) -> None:
        super().__init__(student, trainer)
        if not (isinstance(token_weight, (int, float)) and 0 <= token_weight < float("inf")):
            raise ValueError(f"token_weight must be a finite number >= 0, got {token_weight!r}")
        if not (isinstance(token_temperature, (int, float)) and 0 < token_temperature < float("inf")):
            raise ValueError(f"token_temperature must be a finite number > 0, got {token_temperature!r}")
        hidden = student.num_layers - 1
        if student_layer is None:
            student_layer = hidden - 1
        if token_weight > 0 and not (isinstance(student_layer, int) and 0 <= student_layer < hidden):
            raise ValueError(
                f"student_layer={student_layer} is not a hidden layer of a student with {student.num_layers} layers"
            )
        self.token_weight, self.token_temperature = token_weight, token_temperature
        self.student_layer, self.teacher_layer = student_layer, teacher_layer
        self.lam, self.temperature = lam, temperature
        self.criterion = SoftLabelLoss(lam, temperature)

    @classmethod
    def from_recipe(cls, recipe: Any, data: Data, trainer: Trainer | None = None) -> VQGraph:
        r"""The recipe's student and parameters; ``recipe.params`` may hold ``token_weight``,
        ``token_temperature``, ``student_layer`` and ``teacher_layer``."""
        unknown = sorted(k for k in recipe.params if k not in cls.PARAMS)
        if unknown:
            raise ValueError(f"Unknown VQGraph recipe parameter(s) {unknown}; valid: {', '.join(cls.PARAMS)}")
        return super().from_recipe(recipe, data, trainer)

    # -- hooks -------------------------------------------------------------------------------
    def teacher_layers(self) -> list[int]:
        return [self.teacher_layer] if self.token_weight > 0 else []

    def prepare(self, data: Data, teacher_outputs: TeacherOutputs, seed: int | None = None) -> None:
        if self.token_weight == 0:
            return
        codebook = teacher_outputs.extra("codebook")
        teacher = teacher_outputs.hidden_layer(self.teacher_layer)
        if codebook.dim() != 2 or teacher.dim() != 2 or codebook.size(1) != teacher.size(1):
            raise ValueError(
                f"the codebook {list(codebook.shape)} and the teacher's layer {self.teacher_layer} "
                f"{list(teacher.shape)} must have one width (codes [K, D], embeddings [N, D]): is that layer "
                "the one the teacher quantises?"
            )
        dead = float((teacher.detach().abs().sum(-1) == 0).float().mean())
        if dead > 0.5:  # zero embeddings match every code alike: their token targets are uniform
            warnings.warn(
                f"{dead:.0%} of the teacher's layer-{self.teacher_layer} embeddings are zero, so their token "
                "targets carry nothing: the tokenizer's layer died in training (e.g. a ReLU layer on raw, dense "
                "features); retrain the teacher with norm='batch' (--set teacher.norm=batch)",
                stacklevel=2,
            )
        self.codebook_ = F.normalize(torch.as_tensor(codebook, dtype=torch.float32), dim=-1)
        self.projection_ = projection(self.student.hidden_channels, codebook.size(1))

    def extras(self, data: Data, teacher_outputs: TeacherOutputs) -> dict[str, Tensor]:
        return self.logits_and_hidden(teacher_outputs, self.teacher_layer if self.token_weight > 0 else None)

    def trainable_modules(self) -> list[nn.Module]:
        return [self.projection_] if self.token_weight > 0 and hasattr(self, "projection_") else []

    def loss(self, student: Model, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        t, y, mask = (batch.targets(v) for v in (batch.extras["teacher_logits"], batch.y, batch.mask))
        if self.token_weight == 0:
            out = batch.targets(student(batch.x, batch.edge_index, **batch.hops()))
            kd = self.criterion(out, t, y, mask)
            return kd, {"kd": kd}
        logits, hidden = student(batch.x, batch.edge_index, return_hidden=True, **batch.hops())
        kd = self.criterion(batch.targets(logits), t, y, mask)
        h_s = self.projection_(batch.targets(hidden[self.student_layer]))
        h_t = batch.targets(batch.extras["teacher_hidden"]).to(h_s.dtype)
        if self.codebook_.device != h_s.device:
            self.codebook_ = self.codebook_.to(h_s.device)
        token = soft_token_loss(h_s, h_t, self.codebook_, self.token_temperature)
        return kd + self.token_weight * token, {"kd": kd, "token": token}

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params.pop("criterion", None)
        return params
