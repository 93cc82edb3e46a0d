import sys

import pytest
import torch
import torch.nn.functional as F

from graphkd.features import deepwalk, random_walks, walk_pairs


def two_cliques(k: int = 8) -> torch.Tensor:
    r"""Two disjoint k-cliques, 0..k-1 and k..2k-1."""
    edges = [(i, j) for c in (0, k) for i in range(c, c + k) for j in range(c, c + k) if i != j]
    return torch.tensor(edges).t()


def test_walks_follow_edges_or_stay(tiny_graph):
    gen = torch.Generator().manual_seed(0)
    walks = random_walks(tiny_graph.edge_index, 6, walk_length=7, walks_per_node=3, generator=gen)
    assert walks.shape == (18, 7)
    assert sorted(walks[:, 0].tolist()) == sorted(list(range(6)) * 3)  # every node starts 3 walks
    allowed = {tuple(e) for e in tiny_graph.edge_index.t().tolist()} | {(i, i) for i in range(6)}
    steps = torch.stack([walks[:, 1:].reshape(-1), walks[:, :-1].reshape(-1)], 1).tolist()
    assert all(tuple(s) in allowed for s in steps)
    no_loops = random_walks(tiny_graph.edge_index, 6, 7, self_loops=False, generator=gen)
    assert (no_loops[:, 1:] != no_loops[:, :-1]).all()  # a graph without self-loops never stays


def test_isolated_node_stays_and_walks_are_reproducible():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    walks = random_walks(edge_index, 3, 5, self_loops=False, generator=torch.Generator().manual_seed(1))
    assert (walks[walks[:, 0] == 2] == 2).all()
    again = random_walks(edge_index, 3, 5, self_loops=False, generator=torch.Generator().manual_seed(1))
    assert torch.equal(walks, again)


def test_walk_pairs_are_the_window_both_ways():
    walks = torch.tensor([[0, 1, 2, 3]])
    pairs = walk_pairs(walks, window=2)
    assert pairs.size(1) == 2 * (3 + 2)
    assert {tuple(p) for p in pairs.t().tolist()} == {
        (0, 1), (1, 2), (2, 3), (1, 0), (2, 1), (3, 2), (0, 2), (1, 3), (2, 0), (3, 1)
    }  # fmt: skip


def test_deepwalk_separates_communities_and_is_seeded():
    edge_index = two_cliques()
    kwargs = {"embedding_dim": 16, "walk_length": 20, "walks_per_node": 20, "window": 3, "epochs": 5, "batch_size": 64}
    z = deepwalk(edge_index, 16, seed=0, **kwargs)
    assert z.shape == (16, 16) and torch.isfinite(z).all()
    cos = F.normalize(z, dim=1) @ F.normalize(z, dim=1).t()
    same = torch.block_diag(torch.ones(8, 8), torch.ones(8, 8)).bool() & ~torch.eye(16, dtype=torch.bool)
    other = ~torch.block_diag(torch.ones(8, 8), torch.ones(8, 8)).bool()
    assert cos[same].mean() > cos[other].mean() + 0.5
    assert torch.equal(z, deepwalk(edge_index, 16, seed=0, **kwargs))


def test_gensim_backend_separates_communities_and_is_seeded():
    pytest.importorskip("gensim")
    edge_index = two_cliques()
    kwargs = {"embedding_dim": 16, "walk_length": 20, "walks_per_node": 20, "window": 3, "epochs": 5}
    z = deepwalk(edge_index, 16, seed=0, backend="gensim", **kwargs)
    assert z.shape == (16, 16) and z.dtype == torch.float32 and torch.isfinite(z).all()
    cos = F.normalize(z, dim=1) @ F.normalize(z, dim=1).t()
    same = torch.block_diag(torch.ones(8, 8), torch.ones(8, 8)).bool() & ~torch.eye(16, dtype=torch.bool)
    other = ~torch.block_diag(torch.ones(8, 8), torch.ones(8, 8)).bool()
    assert cos[same].mean() > cos[other].mean() + 0.5
    assert torch.equal(z, deepwalk(edge_index, 16, seed=0, backend="gensim", **kwargs))
    assert not torch.equal(z, deepwalk(edge_index, 16, seed=1, backend="gensim", **kwargs))


def test_gensim_backend_without_gensim_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gensim.models", None)  # as if gensim were not installed
    with pytest.raises(ImportError, match=r"backend='gensim'\) needs gensim: pip install gensim"):
        deepwalk(two_cliques(), 16, embedding_dim=4, walk_length=5, backend="gensim")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"walk_length": 1}, "walk_length must be an integer >= 2"),
        ({"walks_per_node": 0}, "walks_per_node must be a positive integer"),
        ({"window": 0}, "window must be a positive integer"),
        ({"embedding_dim": 0}, "embedding_dim must be a positive integer"),
        ({"negatives": -1}, "negatives must be a non-negative integer"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"backend": "word2vec"}, "Unknown DeepWalk backend 'word2vec'; valid choices: torch, gensim"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        deepwalk(two_cliques(), 16, **kwargs)
