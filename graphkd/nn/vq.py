"""Vector quantisation of node representations, and the VQGraph tokenizer teacher built on it."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .gnn import GCN, GNN, GraphSAGE
from .graph import Graph

__all__ = ["VQGCN", "VQGNN", "VQSAGE", "VectorQuantizer", "code_similarity", "structure_loss"]

#: similarity entries computed at once when assigning codes (rows x codes), bounding memory
_ASSIGN_BLOCK = 1 << 22


def code_similarity(h: Tensor, codebook: Tensor) -> Tensor:
    r"""Cosine similarity of every row of ``h`` ``[N, D]`` to every code of ``codebook``
    ``[K, D]``: :math:`\cos(\mathbf{h}_i, \mathbf{e}_k)`, an ``[N, K]`` tensor in
    :math:`[-1, 1]` (a zero row gives zeros). Pass batches of rows: the result is
    :math:`N \times K`."""
    if h.dim() != 2 or codebook.dim() != 2 or h.size(1) != codebook.size(1):
        raise ValueError(
            f"code_similarity needs h [N, D] and codebook [K, D] of one width D, got {list(h.shape)} and "
            f"{list(codebook.shape)}"
        )
    return F.normalize(h, dim=-1) @ F.normalize(codebook, dim=-1).t()


def structure_loss(z: Tensor, edge_index: Tensor, num_negatives: int | None = None) -> Tensor:
    r"""Structure reconstruction from node embeddings, on edges and sampled non-edges (never a
    dense :math:`N \times N` matrix): with :math:`s_{ij} = \mathbf{z}_i^\top \mathbf{z}_j`,

    .. math::
        \mathcal{L}_{\mathrm{struct}} = \frac{1}{|E| + |E^-|} \Big(
            \sum_{(i, j) \in E} -\log \sigma(s_{ij}) + \sum_{(i, j) \in E^-} -\log \sigma(-s_{ij}) \Big),

    where :math:`E` are the edges of ``edge_index`` without self-loops and :math:`E^-` node
    pairs drawn uniformly at random from the ``z.size(0)`` nodes (torch's global generator),
    ``num_negatives`` of them (default: :math:`|E|`). A sampled pair that happens to be an edge
    counts as a non-edge (rare in a sparse graph). Cost :math:`O((|E| + |E^-|) D)`. Returns 0
    for a graph without edges.
    """
    if z.dim() != 2:
        raise ValueError(f"structure_loss needs z of shape [num_nodes, dim], got {list(z.shape)}")
    src, dst = edge_index
    keep = src != dst
    src, dst = src[keep], dst[keep]
    n_neg = src.numel() if num_negatives is None else num_negatives
    if src.numel() + n_neg == 0:
        return z.sum() * 0.0
    neg = torch.randint(0, z.size(0), (2, n_neg), device=z.device)
    rows, cols = torch.cat([src, neg[0]]), torch.cat([dst, neg[1]])
    scores = (z[rows] * z[cols]).sum(-1)
    labels = torch.cat([scores.new_ones(src.numel()), scores.new_zeros(n_neg)])
    return F.binary_cross_entropy_with_logits(scores, labels)


class VectorQuantizer(nn.Module):
    r"""A codebook of ``num_codes`` unit vectors with cosine-similarity assignment and an
    exponential-moving-average (EMA) update, as VQGraph's tokenizer (`Yang et al., ICLR 2024
    <https://arxiv.org/abs/2308.02117>`_; van den Oord et al., 2017).

    * **Assignment**: :math:`k_i = \arg\max_k \cos(\mathbf{h}_i, \mathbf{e}_k)`, the code
      :math:`\mathbf{e}_{k_i}` (a unit vector) replaces :math:`\mathbf{h}_i`.
    * **Straight-through estimator** in training: the output is
      :math:`\mathbf{h}_i + \mathrm{sg}(\mathbf{e}_{k_i} - \mathbf{h}_i)`, whose value is the code and
      whose gradient flows to :math:`\mathbf{h}_i` as if quantisation were the identity.
    * **Commitment loss**: :math:`\beta\,\frac{1}{ND}\sum_i
      \lVert \mathbf{h}_i - \mathrm{sg}(\mathbf{e}_{k_i}) \rVert^2` (``h`` not normalised, as in
      VQGraph), which pulls the representations toward their codes.
    * **EMA update** (training mode only; the codebook is a buffer, never given gradients):
      each code used by the batch moves toward the normalised mean of its members' normalised
      representations and is normalised again,
      :math:`\mathbf{e}_k \leftarrow \mathrm{n}\big(\gamma\,\mathbf{e}_k + (1-\gamma)\,
      \mathrm{n}(\mathrm{mean}_{i: k_i = k}\,\mathrm{n}(\mathbf{h}_i))\big)` with
      :math:`\mathrm{n}(\mathbf{v}) = \mathbf{v}/\lVert\mathbf{v}\rVert`; unused codes stay.
      The running usage :math:`c_k \leftarrow \gamma c_k + (1-\gamma)\,|\{i: k_i = k\}|` is kept
      in the ``cluster_size`` buffer.
    * **Dead codes**: with ``dead_code_threshold`` :math:`> 0`, after each update every code
      whose running usage :math:`c_k` is below it restarts at a random (normalised)
      representation of the batch, with :math:`c_k = 1`. VQGraph's released tokenizer keeps
      dead codes (threshold 0, the default): unused codes keep their random start.

    The codebook starts as random unit vectors (normal entries, normalised; seeded by torch's
    global generator). Assignment runs over blocks of rows, so memory stays bounded for any
    number of rows.

    Args:
        num_codes (int): codebook size :math:`K`.
        dim (int): code width :math:`D`.
        decay (float, optional): EMA decay :math:`\gamma \in [0, 1)` (default: :obj:`0.8`, VQGraph's).
        commitment_weight (float, optional): :math:`\beta` (default: :obj:`0.25`).
        dead_code_threshold (float, optional): restart codes whose running usage falls below
            this (default: :obj:`0.0`: never).

    Shapes:
        input ``h`` ``[N, D]``; output ``(q [N, D], indices [N], commitment [])``.
    """

    def __init__(
        self,
        num_codes: int,
        dim: int,
        decay: float = 0.8,
        commitment_weight: float = 0.25,
        dead_code_threshold: float = 0.0,
    ) -> None:
        super().__init__()
        for key, value in (("num_codes", num_codes), ("dim", dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must lie in [0, 1), got {decay!r}")
        for key, value in (("commitment_weight", commitment_weight), ("dead_code_threshold", dead_code_threshold)):
            if not (isinstance(value, (int, float)) and 0 <= value < float("inf")):
                raise ValueError(f"{key} must be a finite number >= 0, got {value!r}")
        self.num_codes, self.dim = num_codes, dim
        self.decay, self.commitment_weight, self.dead_code_threshold = decay, commitment_weight, dead_code_threshold
        self.register_buffer("codebook", F.normalize(torch.randn(num_codes, dim), dim=-1))
        self.register_buffer("cluster_size", torch.zeros(num_codes))

    def similarity(self, h: Tensor) -> Tensor:
        r"""Cosine similarity of each row of ``h`` to each code, ``[N, K]`` (see
        :func:`code_similarity`)."""
        return code_similarity(h, self.codebook)

    @torch.no_grad()
    def assign(self, h: Tensor) -> Tensor:
        r"""The index of each row's most similar code (cosine), ``[N]``, computed over blocks of
        rows so that no more than about :math:`2^{22}` similarities exist at once."""
        self._check(h)
        rows = max(1, _ASSIGN_BLOCK // self.num_codes)
        codes = F.normalize(self.codebook, dim=-1)
        return torch.cat([(F.normalize(c, dim=-1) @ codes.t()).argmax(-1) for c in h.detach().split(rows)])

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        self._check(h)
        indices = self.assign(h)
        code = self.codebook[indices]  # a copy: the EMA update below does not change it
        commitment = self.commitment_weight * F.mse_loss(h, code) if h.numel() else h.sum() * 0.0
        q = h + (code - h).detach() if self.training else code
        if self.training:
            self._update(h.detach(), indices)
        return q, indices, commitment

    @torch.no_grad()
    def _update(self, h: Tensor, indices: Tensor) -> None:
        if h.numel() == 0:
            return
        hn = F.normalize(h, dim=-1).to(self.codebook.dtype)
        counts = torch.bincount(indices, minlength=self.num_codes).to(self.codebook.dtype)
        used = counts > 0
        sums = torch.zeros_like(self.codebook).index_add_(0, indices, hn)
        means = F.normalize(sums[used] / counts[used, None], dim=-1)
        self.codebook[used] = F.normalize(self.decay * self.codebook[used] + (1 - self.decay) * means, dim=-1)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        if self.dead_code_threshold > 0:
            dead = (self.cluster_size < self.dead_code_threshold).nonzero().flatten()
            if dead.numel():
                pick = torch.randint(0, hn.size(0), (dead.numel(),), device=hn.device)
                self.codebook[dead] = F.normalize(hn[pick], dim=-1)
                self.cluster_size[dead] = 1.0

    def _check(self, h: Tensor) -> None:
        if h.dim() != 2 or h.size(1) != self.dim:
            raise ValueError(f"VectorQuantizer expects h of shape [N, {self.dim}], got {list(h.shape)}")

    def extra_repr(self) -> str:
        return (
            f"num_codes={self.num_codes}, dim={self.dim}, decay={self.decay}, "
            f"commitment_weight={self.commitment_weight}, dead_code_threshold={self.dead_code_threshold}"
        )


class VQGNN(GNN):
    r"""The graph tokenizer teacher of VQGraph (`Yang et al., ICLR 2024
    <https://arxiv.org/abs/2308.02117>`_): a GNN whose first hidden representation is
    vector-quantised into a codebook of structure-aware tokens.

    .. math::
        \mathbf{h} = \mathrm{act}(\mathrm{conv}_1(\mathbf{X}, A)), \quad
        \mathbf{q} = \mathrm{VQ}(\mathrm{dropout}(\mathbf{h})), \quad
        \mathbf{z} = \mathrm{dec}_e(\mathbf{q}), \quad
        \text{logits} = \mathrm{conv}_{L}(\cdots\mathrm{conv}_2(\mathbf{z}, A)\cdots)

    (:class:`VectorQuantizer`: cosine assignment, EMA codebook, straight-through gradients).
    Like VQGraph's released tokenizer, the classifier reads the structure decoder's output
    :math:`\mathbf{z}`. A training forward records the auxiliary loss

    .. math::
        \mathcal{L}_{\mathrm{aux}} = \beta\,\mathrm{MSE}(\mathbf{h}, \mathrm{sg}(\mathbf{q}))
            + w_f\,\mathrm{MSE}(\mathrm{dec}_n(\mathbf{q}), \mathbf{h})
            + w_s\,\mathcal{L}_{\mathrm{struct}}(\mathbf{z}),

    (commitment, feature reconstruction, and :func:`structure_loss`: binary cross-entropy of
    :math:`\mathbf{z}_i^\top\mathbf{z}_j` on the batch graph's edges and as many uniformly
    sampled node pairs), which :meth:`auxiliary_loss` hands to the training loss
    (:func:`graphkd.train.cross_entropy_loss` adds it). Here :math:`\mathbf{h}` is the quantiser's
    input (after dropout in training, as in VQGraph).

    ``forward(..., return_hidden=True)`` lists :math:`\mathbf{h}` (before dropout; the
    pre-quantisation embedding) as hidden layer 0, the later layers' outputs after it;
    :meth:`distillation_extras` gives the codebook, so :meth:`graphkd.distill.TeacherOutputs.compute`
    (with ``hidden_layers=[0]``) carries what a VQGraph student needs. Layer-wise
    :meth:`inference` quantises and decodes every node chunk by chunk and equals ``forward``
    in evaluation mode.

    Differences from VQGraph's released code: the codes have the hidden width (VQGraph
    quantises a layer as wide as the input features), the first layer is graphkd's convolution
    of the subclass (:class:`VQSAGE`, :class:`VQGCN`) with any depth after it, and the structure
    term is a BCE over edges and sampled non-edges (VQGraph: an RMSE between the dense
    adjacency with self-loops and min-max-normalised :math:`\mathbf{Z}\mathbf{Z}^\top`, memory
    :math:`O(N^2)`).

    On raw, dense features (the Amazon co-purchase sets: ~35% of ~760 binary features on per
    node) the ReLU layer before the quantiser can die in the first epochs without
    normalisation, leaving every node on one code; ``norm="batch"`` keeps it alive (graphkd's
    VQGraph recipes use it there).

    The quantiser is a bottleneck: the layers after it see one of :math:`K` codes per node. On
    cpf-cora (seeds 0-2) a trained 128-wide layer uses 100-200 codes whether :math:`K` is 512
    or 5000, and this teacher's test accuracy is about 78% against 82.6% for the same
    :class:`~graphkd.nn.GraphSAGE` without the quantiser.

    Args:
        codebook_size (int, optional): number of codes :math:`K` (default: :obj:`512`; VQGraph's
            is 5000, but a trained 128-wide layer of cpf-cora uses only 100-200 codes either
            way, and the student's token loss costs :math:`O(K)` per node).
        decay (float, optional): codebook EMA decay (default: :obj:`0.8`).
        commitment_weight (float, optional): :math:`\beta` (default: :obj:`0.25`).
        feature_weight (float, optional): :math:`w_f` (default: :obj:`1.0`).
        structure_weight (float, optional): :math:`w_s` (default: :obj:`1.0`).
        dead_code_threshold (float, optional): see :class:`VectorQuantizer` (default: :obj:`0.0`).
        **kwargs: the arguments of :class:`graphkd.nn.Model` (``num_layers >= 2``) and of the
            convolution's class.
    """

    #: the hidden layer that is quantised (its output feeds the quantiser)
    quantized_layer = 0
    #: fewest layers: one before the quantiser, one after it
    min_layers = 2

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        *,
        codebook_size: int = 512,
        decay: float = 0.8,
        commitment_weight: float = 0.25,
        feature_weight: float = 1.0,
        structure_weight: float = 1.0,
        dead_code_threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        num_layers = kwargs.get("num_layers", 2)
        if isinstance(num_layers, int) and num_layers < self.min_layers:
            raise ValueError(
                f"{type(self).__name__} needs num_layers >= {self.min_layers} (a layer before and after the "
                f"quantiser), got {num_layers}"
            )
        for key, value in (("feature_weight", feature_weight), ("structure_weight", structure_weight)):
            if not (isinstance(value, (int, float)) and 0 <= value < float("inf")):
                raise ValueError(f"{key} must be a finite number >= 0, got {value!r}")
        super().__init__(in_channels, hidden_channels, out_channels, **kwargs)
        self.feature_weight, self.structure_weight = feature_weight, structure_weight
        self.quantizer = VectorQuantizer(codebook_size, hidden_channels, decay, commitment_weight, dead_code_threshold)
        self.feature_decoder = nn.Linear(hidden_channels, hidden_channels)
        self.structure_decoder = nn.Linear(hidden_channels, hidden_channels)

    # -- the quantiser between layer 0 and layer 1 ------------------------------------------
    def apply_layer(self, i: int, x: Tensor, graph: Graph) -> Tensor:
        if i == self.quantized_layer + 1:
            x = self._tokenize(x, graph)
        return super().apply_layer(i, x, graph)

    def _tokenize(self, h: Tensor, graph: Graph | None) -> Tensor:
        q, _, commitment = self.quantizer(h)
        z = self.structure_decoder(q)
        if self.training:
            feature = F.mse_loss(self.feature_decoder(q), h)
            structure = structure_loss(z, graph.edge_index) if graph is not None else z.sum() * 0.0
            terms = {"commitment": commitment, "feature": feature, "structure": structure}
            self.__dict__["_aux"] = commitment + self.feature_weight * feature + self.structure_weight * structure
            self.__dict__["_aux_terms"] = {k: v.detach() for k, v in terms.items()}
        else:
            self.__dict__.pop("_aux", None)
        return z

    def _sparse_input(self, i: int, x: Tensor, batch_size: int) -> Tensor:
        if i == self.quantized_layer + 1:  # layer-wise inference: quantise and decode every node
            device = self._device()
            x = torch.cat([self._tokenize(c.to(device), None).to(x.device) for c in x.split(batch_size)])
        return super()._sparse_input(i, x, batch_size)

    # -- what training and distillation read -------------------------------------------------
    def auxiliary_loss(self) -> Tensor:
        r"""The auxiliary loss :math:`\mathcal{L}_{\mathrm{aux}}` of the last training forward,
        which it hands over once (a second call, or a call after an evaluation forward, gives 0)."""
        aux = self.__dict__.pop("_aux", None)
        return aux if aux is not None else self.quantizer.codebook.new_zeros(())

    def auxiliary_terms(self) -> dict[str, Tensor]:
        r"""The unweighted terms (``commitment``, which includes :math:`\beta`, ``feature``,
        ``structure``) of the last training forward, detached (for logging)."""
        return dict(self.__dict__.get("_aux_terms", {}))

    def distillation_extras(self) -> dict[str, Tensor]:
        r"""What :meth:`graphkd.distill.TeacherOutputs.compute` keeps besides per-node outputs:
        ``{"codebook": [K, D]}``, the (unit-norm) codes."""
        return {"codebook": self.quantizer.codebook.detach().cpu().clone()}

    @torch.no_grad()
    def code_indices(self, x: Tensor, edge_index: Tensor, batch_size: int = 65536) -> Tensor:
        r"""Each node's code (token) index, ``[N]``, in evaluation mode."""
        _, hidden = self.inference(x, edge_index, batch_size=batch_size, return_hidden=True)
        return self.quantizer.assign(hidden[self.quantized_layer].to(self._device())).cpu()

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        state.pop("_aux", None)  # part of the autograd graph of a step: never copied or pickled
        state.pop("_aux_terms", None)
        return state

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, codebook_size={self.quantizer.num_codes}, decay={self.quantizer.decay}, "
            f"commitment_weight={self.quantizer.commitment_weight}, feature_weight={self.feature_weight}, "
            f"structure_weight={self.structure_weight}, dead_code_threshold={self.quantizer.dead_code_threshold}"
        )


class VQSAGE(VQGNN, GraphSAGE):
    r""":class:`VQGNN` with GraphSAGE layers (:class:`graphkd.nn.GraphSAGE`; ``aggregator="gcn"``
    for GLNN's and VQGraph's SAGE teachers). Registered as ``"vq-sage"``.

    Args:
        aggregator (str, optional): ``"mean"`` or ``"gcn"`` (default: :obj:`"mean"`).
        **kwargs: the arguments of :class:`VQGNN`.
    """


class VQGCN(VQGNN, GCN):
    r""":class:`VQGNN` with GCN layers (:class:`graphkd.nn.GCN`; VQGraph's recommended teacher).
    Registered as ``"vq-gcn"``.

    Args:
        **kwargs: the arguments of :class:`VQGNN`.
    """
