r"""DeepWalk node embeddings in plain PyTorch: uniform random walks and skip-gram with negative
sampling (no torch-cluster, pyg-lib or gensim needed); gensim's word2vec as an optional backend."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..sampling.csc import CSC

__all__ = ["DEEPWALK_BACKENDS", "deepwalk", "random_walks", "walk_pairs"]

#: skip-gram trainers of :func:`deepwalk`
DEEPWALK_BACKENDS = ("torch", "gensim")


def random_walks(
    edge_index: Tensor,
    num_nodes: int,
    walk_length: int,
    walks_per_node: int = 1,
    self_loops: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Uniform random walks: ``walks_per_node`` walks from every node (in a shuffled order), each
    ``walk_length`` nodes long, start included. A step moves to a uniformly chosen neighbour
    (in-neighbour under PyG's source-to-target flow; the same for undirected graphs); a node
    without neighbours stays where it is.

    Args:
        edge_index (Tensor): ``[2, E]`` edges.
        num_nodes (int): number of nodes.
        walk_length (int): nodes per walk, :math:`\ge 2`.
        walks_per_node (int, optional): walks starting from each node (default: :obj:`1`).
        self_loops (bool, optional): add a self-loop to every node first, so that a walk may
            stay (NOSMOG walks on :math:`A + I`) (default: :obj:`True`).
        generator (torch.Generator, optional): the source of randomness.

    Returns:
        Tensor: ``[num_nodes * walks_per_node, walk_length]`` node ids.
    """
    if not isinstance(walk_length, int) or walk_length < 2:
        raise ValueError(f"walk_length must be an integer >= 2, got {walk_length!r}")
    if not isinstance(walks_per_node, int) or walks_per_node < 1:
        raise ValueError(f"walks_per_node must be a positive integer, got {walks_per_node!r}")
    edge_index = edge_index.cpu()
    if self_loops:
        loops = torch.arange(num_nodes).repeat(2, 1)
        edge_index = torch.cat([edge_index, loops], dim=1)
    csc = CSC.from_edge_index(edge_index, num_nodes)
    starts = torch.arange(num_nodes).repeat(walks_per_node)
    starts = starts[torch.randperm(starts.numel(), generator=generator)]
    walks = torch.empty(starts.numel(), walk_length, dtype=torch.long)
    walks[:, 0] = cur = starts
    deg = csc.degree()
    for step in range(1, walk_length):
        d = deg[cur]
        offset = (torch.rand(cur.numel(), generator=generator) * d).long().clamp_max((d - 1).clamp_min(0))
        nxt = csc.row[(csc.colptr[cur] + offset).clamp_max(max(csc.num_edges - 1, 0))] if csc.num_edges else cur
        cur = torch.where(d > 0, nxt, cur)
        walks[:, step] = cur
    return walks


def walk_pairs(walks: Tensor, window: int) -> Tensor:
    r"""Skip-gram (centre, context) pairs of ``walks``: every two nodes at most ``window``
    steps apart in a walk, both ways. Returns ``[2, P]``."""
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    pairs = []
    for k in range(1, min(window, walks.size(1) - 1) + 1):
        a, b = walks[:, :-k].reshape(-1), walks[:, k:].reshape(-1)
        pairs += [torch.stack([a, b]), torch.stack([b, a])]
    return torch.cat(pairs, dim=1)


def deepwalk(
    edge_index: Tensor,
    num_nodes: int,
    embedding_dim: int = 64,
    walk_length: int = 50,
    walks_per_node: int = 5,
    window: int = 5,
    epochs: int = 1,
    negatives: int = 5,
    batch_size: int = 1024,
    lr: float = 0.025,
    self_loops: bool = True,
    seed: int = 0,
    backend: str = "torch",
) -> Tensor:
    r"""DeepWalk (`Perozzi et al., KDD 2014 <https://arxiv.org/abs/1403.6652>`_): node embeddings
    from skip-gram over uniform random walks, with negative sampling (word2vec's objective),

    .. math::
        \mathcal{L} = -\sum_{(u, v)} \Big[\log \sigma(\mathbf{z}_u^\top \mathbf{c}_v)
            + \sum_{k=1}^{K} \log \sigma(-\mathbf{z}_u^\top \mathbf{c}_{n_k})\Big],
        \qquad n_k \sim \mathrm{count}(n)^{3/4},

    over the (centre, context) pairs :math:`(u, v)` of :func:`walk_pairs`, with separate centre
    and context tables initialised as word2vec does and trained with word2vec's plain SGD, the
    learning rate falling linearly from ``lr`` to ``lr / 1e4``, on batches of shuffled pairs: a
    node met several times in a batch moves by the mean of its gradients (word2vec applies them
    one after another). Gradients are written out by hand (no autograd), so a step costs a few
    gathers and ``index_add_``. New walks are drawn for every epoch. The centre
    table :math:`\mathbf{Z}` is returned.

    NOSMOG computes these embeddings with gensim's ``Word2Vec`` (skip-gram, hierarchical
    softmax plus negative sampling, one pair at a time); graphkd trains the negative-sampling
    objective alone, on batches of pairs, in PyTorch. ``backend="gensim"`` trains NOSMOG's way
    instead: one draw of walks, then ``epochs`` passes of gensim's skip-gram over it, with
    hierarchical softmax and ``negatives`` negative samples, one worker, the learning rate falling
    from ``lr`` to ``lr / 1e4``, seeded by ``seed`` (gensim 4 draws its initial vectors from a
    generator seeded with it, so the embeddings do not depend on Python's hash seed).
    ``batch_size`` does not apply. It needs ``pip install gensim`` (``graphkd[gensim]``).

    Args:
        edge_index (Tensor): ``[2, E]`` edges.
        num_nodes (int): number of nodes.
        embedding_dim (int, optional): width of the embeddings (default: :obj:`64`).
        walk_length, walks_per_node, self_loops: see :func:`random_walks`.
        window (int, optional): context window (default: :obj:`5`).
        epochs (int, optional): passes, each over freshly drawn walks (default: :obj:`1`).
        negatives (int, optional): negative samples per pair :math:`K` (default: :obj:`5`).
        batch_size (int, optional): pairs per SGD step (default: :obj:`1024`).
        lr (float, optional): initial learning rate (default: :obj:`0.025`, word2vec's).
        seed (int, optional): seeds walks, negatives and initialisation (default: :obj:`0`).
        backend (str, optional): ``"torch"`` (graphkd's trainer) or ``"gensim"`` (gensim's
            ``Word2Vec``, as NOSMOG) (default: :obj:`"torch"`).

    Returns:
        Tensor: ``[num_nodes, embedding_dim]`` embeddings (float32, CPU).
    """
    for key, value in (("embedding_dim", embedding_dim), ("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    if not isinstance(negatives, int) or negatives < 0:
        raise ValueError(f"negatives must be a non-negative integer, got {negatives!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    check_backend(backend)
    edge_index = edge_index.cpu()
    gen = torch.Generator().manual_seed(seed)
    if backend == "gensim":  # NOSMOG's way: one draw of walks, ``epochs`` passes over it
        walks = random_walks(edge_index, num_nodes, walk_length, walks_per_node, self_loops, gen)
        return _gensim_skipgram(walks, num_nodes, embedding_dim, window, epochs, negatives, lr, seed)
    # word2vec's initialisation: small random centre vectors, zero context vectors
    centre = (torch.rand(num_nodes, embedding_dim, generator=gen) - 0.5) / embedding_dim
    context = torch.zeros(num_nodes, embedding_dim)
    # pairs per epoch: every walk gives 2 (L - k) pairs at each distance k <= window
    per_walk = 2 * sum(walk_length - k for k in range(1, min(window, walk_length - 1) + 1))
    total = epochs * num_nodes * walks_per_node * per_walk
    done = 0
    for epoch in range(epochs):
        walks = random_walks(edge_index, num_nodes, walk_length, walks_per_node, self_loops, gen)
        if epoch == 0:  # the noise table: node n appears in proportion to count(n) ** 0.75
            counts = torch.bincount(walks.reshape(-1), minlength=num_nodes).double().pow(0.75)
            size = min(max(100 * num_nodes, 10**6), 10**7)
            slots = (counts / counts.sum() * size).round().long().clamp_min(1)
            table = torch.repeat_interleave(torch.arange(num_nodes), slots)
        pairs = walk_pairs(walks, window)
        pairs = pairs[:, torch.randperm(pairs.size(1), generator=gen)]
        del walks
        for start in range(0, pairs.size(1), batch_size):
            u, v = pairs[:, start : start + batch_size]
            rate = lr * max(1e-4, 1.0 - done / total)
            done += u.numel()
            z, c = centre[u], context[v]
            g_pos = torch.sigmoid((z * c).sum(-1)) - 1.0  # d(-log sigmoid(s)) / ds
            grad_z = g_pos.unsqueeze(-1) * c
            ctx_ids, ctx_grads = [v], [g_pos.unsqueeze(-1) * z]
            if negatives:
                neg = table[torch.randint(table.numel(), (u.numel(), negatives), generator=gen)]
                cn = context[neg]  # [B, K, d]
                g_neg = torch.sigmoid(torch.bmm(cn, z.unsqueeze(-1)).squeeze(-1))  # d(-log sigmoid(-s)) / ds
                grad_z = grad_z + (g_neg.unsqueeze(-1) * cn).sum(1)
                ctx_ids.append(neg.reshape(-1))
                ctx_grads.append((g_neg.unsqueeze(-1) * z.unsqueeze(1)).reshape(-1, embedding_dim))
            _step(centre, u, grad_z, rate)
            _step(context, torch.cat(ctx_ids), torch.cat(ctx_grads), rate)
    return centre


def check_backend(backend: str) -> None:
    r"""Raises a :class:`ValueError` naming the choices if ``backend`` is not one of
    :data:`DEEPWALK_BACKENDS`."""
    if backend not in DEEPWALK_BACKENDS:
        raise ValueError(f"Unknown DeepWalk backend {backend!r}; valid choices: {', '.join(DEEPWALK_BACKENDS)}")


def _gensim_skipgram(
    walks: Tensor, num_nodes: int, dim: int, window: int, epochs: int, negatives: int, lr: float, seed: int
) -> Tensor:
    r"""gensim's skip-gram (hierarchical softmax + negative sampling), ``epochs`` passes over
    ``walks``; every node starts walks, so every node has a vector."""
    try:
        from gensim.models import Word2Vec
    except ImportError as err:  # an optional dependency
        raise ImportError("deepwalk(backend='gensim') needs gensim: pip install gensim") from err
    sentences = [[str(v) for v in walk] for walk in walks.tolist()]
    model = Word2Vec(
        sentences,
        vector_size=dim,
        window=window,
        min_count=0,
        sg=1,
        hs=1,
        negative=negatives,
        alpha=lr,
        min_alpha=lr * 1e-4,
        workers=1,
        epochs=epochs,
        seed=seed,
    )
    return torch.from_numpy(np.stack([model.wv[str(i)] for i in range(num_nodes)]).astype(np.float32))


def _step(table: Tensor, ids: Tensor, grads: Tensor, rate: float) -> None:
    r"""One SGD step on the rows ``ids`` of ``table``; a row met several times in the batch moves
    by the mean of its gradients (a sum would overshoot on hubs and on small graphs). Only the
    rows met are touched, so a step costs the batch, not the table."""
    rows, inverse = torch.unique(ids, return_inverse=True)
    total = torch.zeros(rows.numel(), table.size(1), dtype=table.dtype).index_add_(0, inverse, grads)
    count = torch.bincount(inverse, minlength=rows.numel()).unsqueeze(-1)
    table.index_add_(0, rows, rate * total / count, alpha=-1)
