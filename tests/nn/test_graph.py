import torch

from graphkd.nn import Graph


def test_chunks_cover_every_edge_once():
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 30, (2, 120), generator=g)
    graph = Graph.from_edge_index(ei, 30)
    seen = []
    for c in graph.chunks(7):
        assert torch.equal(c.n_id[: c.size], torch.arange(c.start, c.start + c.size))
        assert len(set(c.n_id.tolist())) == c.n_id.numel()  # no node twice
        src, dst = c.edge_index
        assert bool((dst < c.size).all())
        seen += list(zip(c.n_id[src].tolist(), (dst + c.start).tolist(), strict=True))
    assert sorted(seen) == sorted(map(tuple, graph.edge_index.t().tolist()))


def test_duplicates_removed_and_adjacency():
    ei = torch.tensor([[0, 0, 1], [1, 1, 2]])
    graph = Graph.from_edge_index(ei, 3)
    assert graph.edge_index.size(1) == 2
    dense = graph.adj_t().to_dense()
    assert dense[1, 0] == 1 and dense[2, 1] == 1 and dense.sum() == 2


def test_adjacency_keeps_csr_invariants_with_weights_and_unsorted_input():
    from graphkd.nn.graph import csr_rows

    ei = torch.tensor([[2, 0, 1, 2, 0], [0, 2, 0, 1, 1]])  # not sorted; self-loop style tail below
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    graph = Graph(ei, 3, w)
    adj = graph.adj_t()
    torch.sparse_csr_tensor(adj.crow_indices(), adj.col_indices(), adj.values(), adj.shape, check_invariants=True)
    dense = torch.zeros(3, 3)
    dense[ei[1], ei[0]] = w
    assert torch.equal(adj.to_dense(), dense)
    assert torch.equal(csr_rows(adj, 1, 3).to_dense(), dense[1:3])
