"""GLNN: graph-less neural networks, an MLP trained on a GNN teacher's soft labels."""

from __future__ import annotations

from torch import Tensor

from ..losses import SoftLabelLoss
from ..nn.base import Model
from ..train import Batch, Trainer
from .base import Distiller

__all__ = ["GLNN"]


class GLNN(Distiller):
    r"""Graph-less neural networks (`Zhang et al., ICLR 2022 <https://arxiv.org/abs/2110.08727>`_):
    an MLP student fitted to the teacher's soft labels on every node that has them, mixed with
    the hard labels of the training nodes,

    .. math::
        \mathcal{L} = \lambda \sum_{i \in \mathcal{V}_L} \mathrm{CE}(\mathbf{s}_i, y_i)
        + (1-\lambda)\, T^2 \sum_{i \in \mathcal{V}} \mathrm{KL}\big(\mathrm{softmax}(\mathbf{t}_i/T)
          \,\|\, \mathrm{softmax}(\mathbf{s}_i/T)\big)

    (each term averaged over its nodes). The published recipe uses :math:`\lambda = 0`, :math:`T = 1`.

    Example::

        teacher_outputs = TeacherOutputs.compute(teacher, data)
        glnn = GLNN(MLP(data.num_features, 128, data.num_classes)).fit(data, teacher_outputs)

    Args:
        student (Model): the student, usually :class:`graphkd.nn.MLP`.
        lam (float, optional): weight of the hard labels, in ``[0, 1]`` (default: :obj:`0.0`).
        temperature (float, optional): distillation temperature (default: :obj:`1.0`).
        trainer (Trainer, optional): the training engine (default: ``Trainer()``).
    """

    def __init__(self, student: Model, lam: float = 0.0, temperature: float = 1.0, trainer: Trainer | None = None):
        super().__init__(student, trainer)
        self.lam, self.temperature = lam, temperature
        self.criterion = SoftLabelLoss(lam, temperature)

    def loss(self, student: Model, batch: Batch) -> Tensor:
        out = batch.targets(student(batch.x, batch.edge_index, **batch.hops()))
        t, y, mask = (batch.targets(v) for v in (batch.extras["teacher_logits"], batch.y, batch.mask))
        return self.criterion(out, t, y, mask)

    def get_params(self):
        params = super().get_params()
        params.pop("criterion", None)
        return params
