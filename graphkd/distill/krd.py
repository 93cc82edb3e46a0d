"""KRD: distillation from the teacher's reliable knowledge points."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize_scalar
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected

from ..eval.metrics import predict
from ..nn.base import Model
from ..train import Batch, Trainer
from .base import Distiller
from .teacher_outputs import TeacherOutputs

__all__ = ["KRD", "fit_power", "knowledge_reliability", "noisy_teacher_logits"]

NOISY_LOGITS = "noisy_logits"


@torch.no_grad()
def noisy_teacher_logits(teacher: Model, data: Data, noise_std: float = 1.0, seed: int = 0) -> Tensor:
    r"""The teacher's logits for every node when every feature is perturbed by Gaussian noise
    :math:`\mathbf{X}' = \mathbf{X} + \mathcal{N}(0, \sigma^2)` (one draw, from a generator
    seeded with ``seed``), computed layer-wise in evaluation mode; KRD's
    :func:`knowledge_reliability` compares them with the clean logits."""
    if not noise_std > 0:
        raise ValueError(f"noise_std must be > 0, got {noise_std!r}")
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(data.x.shape, generator=gen, dtype=data.x.dtype).to(data.x.device)
    return teacher.inference(data.x + noise_std * noise, data.edge_index).cpu()


def knowledge_reliability(logits: Tensor, noisy_logits: Tensor) -> Tensor:
    r"""KRD's per-node unreliability :math:`D_i \in [0, 1]`: the change of the teacher's
    prediction entropy under feature noise, normalised by its largest value,

    .. math::
        d_i = \big|H(\mathrm{softmax}(\mathbf{t}'_i)) - H(\mathrm{softmax}(\mathbf{t}_i))\big|,
        \qquad D_i = d_i / \max_j d_j .

    A small :math:`D_i` marks a reliable knowledge point (its prediction is robust to noise).
    """
    if logits.shape != noisy_logits.shape:
        raise ValueError(f"logits {list(logits.shape)} and noisy logits {list(noisy_logits.shape)} differ in shape")

    def entropy(z: Tensor) -> Tensor:
        logp = F.log_softmax(z.float(), dim=-1)
        return -(logp.exp() * logp).sum(-1)

    d = (entropy(noisy_logits) - entropy(logits)).abs()
    top = d.max()
    return d / top if top > 0 else torch.zeros_like(d)


def fit_power(unreliability: Tensor, agree: Tensor, bins: int = 50, init: float = 1.0) -> float:
    r"""KRD's fit of the sampling curve: bin the nodes by :math:`D_i` (``bins`` equal bins of
    ``[0, 1]``), take in each bin the share of nodes where student and teacher agree (an empty
    bin: 0), min-max normalise those shares, and fit :math:`f(x) = 1 - x^a` at the bins'
    centres by least squares; returns :math:`a` (``init`` when the shares are all (nearly) equal).

    Differences from KRD's released code: the curve is fitted at the bins' centres (the code
    offsets them by 0.05, two and a half bins), and :math:`a` is searched in ``[1e-3, 1e3]``.
    """
    d, agree = unreliability.detach().float().cpu(), agree.detach().bool().cpu()
    if d.numel() != agree.numel():
        raise ValueError(f"{d.numel()} unreliability values but {agree.numel()} agreement flags")
    index = (d * bins).long().clamp_(0, bins - 1)
    total = torch.bincount(index, minlength=bins).double()
    hits = torch.bincount(index[agree], minlength=bins).double()
    rate = (hits / (total + 1e-6)).numpy()  # an empty bin counts as no agreement, as released
    low, high = rate.min(), rate.max()
    if high - low < 1e-3:  # (nearly) the same agreement everywhere: nothing to fit
        return float(init)
    rate = (rate - low) / (high - low)
    x = (np.arange(bins) + 0.5) / bins

    def sse(log_a: float) -> float:
        return float(((1 - x ** np.exp(log_a) - rate) ** 2).sum())

    best = minimize_scalar(sse, bounds=(np.log(1e-3), np.log(1e3)), method="bounded")
    return float(np.exp(best.x))


class _KRDState(nn.Module):
    # the sampling curve's exponent and the epoch count: buffers, so a resumed run continues them
    def __init__(self, power: float) -> None:
        super().__init__()
        self.register_buffer("power", torch.tensor(float(power), dtype=torch.float64))
        self.register_buffer("epoch", torch.tensor(0, dtype=torch.int64))


class KRD(Distiller):
    r"""Knowledge-inspired reliable distillation (`Wu et al., ICML 2023
    <https://arxiv.org/abs/2306.05628>`_): an MLP student distilled from the teacher's soft
    labels of each node **and** of its reliable neighbours.

    Each node :math:`j` gets an unreliability :math:`D_j` (:func:`knowledge_reliability`: how much
    the teacher's entropy at :math:`j` moves under Gaussian feature noise). For the first
    ``warmup_epochs`` epochs every node :math:`i` is taught by itself and all its neighbours;
    afterwards each epoch keeps the pair :math:`(i, j)`, :math:`j \in \mathcal{N}(i)`, with
    probability :math:`s_j = 1 - D_j^{\,a}` (a node always keeps itself), where :math:`a` starts
    at ``init_power`` and follows the student: each epoch :func:`fit_power` fits
    :math:`1 - x^{a}` to the rate at which the student agrees with the teacher across the range
    of :math:`D`, and :math:`a \leftarrow m\,a + (1-m)\,a_{\mathrm{fit}}` (``momentum`` :math:`m`).
    The loss over the kept pairs :math:`\mathcal{P}` is

    .. math::
        \mathcal{L} = \lambda \frac{1}{|\mathcal{V}_L|}\sum_{i \in \mathcal{V}_L} \mathrm{CE}(\mathbf{s}_i, y_i)
        + (1-\lambda)\, \frac{1}{|\mathcal{P}|} \sum_{(i,j) \in \mathcal{P}}
          \mathrm{KL}\big(\mathrm{softmax}(\mathbf{t}_j/\tau) \,\|\, \mathrm{softmax}(\mathbf{s}_i/\tau)\big)

    (KRD's released code has no :math:`\tau^2` factor; its temperatures lie near 1).

    The teacher's noisy logits come with the teacher outputs, under ``extras["noisy_logits"]``
    (:func:`noisy_teacher_logits`; :meth:`teacher_signals` computes them for
    :meth:`TeacherOutputs.compute`). The neighbourhoods are those of the graph ``fit`` gets
    (undirected, without self-loops); in mini-batch mode each batch's nodes draw their pairs
    from it, and the student needs no graph at inference.

    Example::

        krd = KRD(MLP(data.num_features, 128, data.num_classes), lam=0.3, temperature=1.1)
        outputs = TeacherOutputs.compute(teacher, data, extras=krd.teacher_signals(teacher, data))
        krd.fit(data, outputs, seed=0)

    Args:
        student (Model): the student, usually :class:`graphkd.nn.MLP`.
        lam (float, optional): weight :math:`\lambda` of the hard labels (default: :obj:`0.0`).
        temperature (float, optional): :math:`\tau` (default: :obj:`1.0`).
        noise_std (float, optional): :math:`\sigma` of the feature noise (default: :obj:`1.0`).
        init_power (float, optional): the exponent :math:`a` at the start (default: :obj:`1.0`).
        momentum (float, optional): :math:`m` of the exponent's update (default: :obj:`0.99`).
        bins (int, optional): histogram bins of :func:`fit_power` (default: :obj:`50`).
        warmup_epochs (int, optional): epochs taught by every neighbour before sampling starts
            (default: :obj:`50`).
        trainer (Trainer, optional): the training engine (default: ``Trainer()``).
    """

    def __init__(
        self,
        student: Model,
        lam: float = 0.0,
        temperature: float = 1.0,
        noise_std: float = 1.0,
        init_power: float = 1.0,
        momentum: float = 0.99,
        bins: int = 50,
        warmup_epochs: int = 50,
        trainer: Trainer | None = None,
    ) -> None:
        super().__init__(student, trainer)
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"lam must lie in [0, 1], got {lam!r}")
        for key, value in (("temperature", temperature), ("noise_std", noise_std), ("init_power", init_power)):
            if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                raise ValueError(f"{key} must be a finite number > 0, got {value!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must lie in [0, 1], got {momentum!r}")
        if not isinstance(bins, int) or bins < 2:
            raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
        if not isinstance(warmup_epochs, int) or warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be a non-negative integer, got {warmup_epochs!r}")
        self.lam, self.temperature, self.noise_std = lam, temperature, noise_std
        self.init_power, self.momentum, self.bins, self.warmup_epochs = init_power, momentum, bins, warmup_epochs

    # -- hooks -------------------------------------------------------------------------------
    def teacher_signals(self, teacher: Model, data: Data, seed: int = 0) -> dict[str, Tensor]:
        r"""The teacher's logits under feature noise (``{"noisy_logits": ...}``), to store with
        its outputs (``TeacherOutputs.compute(..., extras=...)``)."""
        return {NOISY_LOGITS: noisy_teacher_logits(teacher, data, self.noise_std, seed)}

    def prepare(self, data: Data, teacher_outputs: TeacherOutputs, seed: int | None = None) -> None:
        extras = getattr(teacher_outputs, "extras", None) or {}
        if NOISY_LOGITS not in extras:
            raise ValueError(
                "KRD needs the teacher's logits under feature noise: compute the outputs with "
                "TeacherOutputs.compute(teacher, data, extras=krd.teacher_signals(teacher, data))"
            )
        self.unreliability_ = knowledge_reliability(teacher_outputs.logits, extras[NOISY_LOGITS])
        device = self.trainer.device
        self.teacher_logp_ = F.log_softmax(teacher_outputs.logits.float() / self.temperature, -1).to(device)
        self.teacher_pred_ = teacher_outputs.logits.argmax(-1)
        edge_index, _ = remove_self_loops(data.edge_index.cpu())
        edge_index = to_undirected(edge_index, num_nodes=data.num_nodes)
        row, col = edge_index  # sorted by row: a CSR of each node's neighbours
        rowptr = torch.zeros(data.num_nodes + 1, dtype=torch.long)
        rowptr[1:] = torch.bincount(row, minlength=data.num_nodes).cumsum(0)
        self.rowptr_ = rowptr.to(device)
        self.col_ = col.to(device)
        self.state_ = _KRDState(self.init_power)
        self.graph_ = data  # the student's predictions for the exponent's update

    def trainable_modules(self) -> list[nn.Module]:
        return [self.state_] if hasattr(self, "state_") else []

    def start_epoch(self, student: Model) -> None:
        state = self.state_
        if int(state.epoch) >= self.warmup_epochs:
            with torch.no_grad():
                pred = predict(student, self.graph_).argmax(-1).cpu()
            fitted = fit_power(self.unreliability_, pred == self.teacher_pred_, self.bins, float(state.power))
            state.power.fill_(self.momentum * float(state.power) + (1 - self.momentum) * fitted)
        state.epoch += 1

    def keep_probability(self) -> Tensor:
        r"""Each node's probability :math:`s_j = 1 - D_j^{\,a}` of teaching its neighbours now."""
        return 1 - self.unreliability_.double().pow(float(self.state_.power)).float()

    def pairs(self, nodes: Tensor) -> tuple[Tensor, Tensor]:
        r"""This step's (student row, teacher node) pairs for the batch's ``nodes``: every node
        with itself, and with each neighbour (all of them during the warm-up, afterwards those
        kept with probability :meth:`keep_probability`)."""
        device = self.col_.device
        nodes = nodes.to(device)
        start, end = self.rowptr_[nodes], self.rowptr_[nodes + 1]
        degree = end - start
        rows = torch.repeat_interleave(torch.arange(nodes.numel(), device=device), degree)
        offsets = torch.arange(rows.numel(), device=device) - torch.repeat_interleave(degree.cumsum(0) - degree, degree)
        teachers = self.col_[start[rows] + offsets]
        if int(self.state_.epoch) > self.warmup_epochs:  # start_epoch counted this epoch already
            # 1 - D_j^a for the batch's teachers only (keep_probability() over every node, gathered)
            unreliable = self.unreliability_.to(device)[teachers].double()
            keep = torch.rand(teachers.numel(), device=device) < (1 - unreliable.pow(float(self.state_.power))).float()
            rows, teachers = rows[keep], teachers[keep]
        own = torch.arange(nodes.numel(), device=device)
        return torch.cat([own, rows]), torch.cat([nodes, teachers])

    def loss(self, student: Model, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        logits = batch.targets(student(batch.x, batch.edge_index, **batch.hops()))
        nodes = batch.n_id[: logits.size(0)] if batch.n_id is not None else torch.arange(logits.size(0))
        rows, teachers = self.pairs(nodes)
        log_s = F.log_softmax(logits / self.temperature, -1)
        t = self.teacher_logp_.to(logits.device)[teachers.to(logits.device)]
        kd = F.kl_div(log_s[rows.to(logits.device)], t, reduction="batchmean", log_target=True)
        terms = {"kd": kd}
        total = (1 - self.lam) * kd
        mask = batch.targets(batch.mask)
        if self.lam > 0 and bool(mask.any()):
            ce = F.cross_entropy(logits[mask], batch.targets(batch.y)[mask])
            total, terms["ce"] = total + self.lam * ce, ce
        return total, terms
