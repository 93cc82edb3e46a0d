import pytest
import torch
from scipy.stats import chisquare
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph

from graphkd.datasets import csbm
from graphkd.nn import GraphSAGE
from graphkd.sampling import NeighborSampler, neighbor_loader, pyg_sampler_available, sample_without_replacement

# a small directed graph with a hub (node 0), a chain and an isolated node (9)
EDGES = torch.tensor(
    [
        [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 2, 6],
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 1, 8],
    ]
)


def _graph(n=300, seed=0):
    data = csbm(n, num_features=8, avg_degree=10.0, seed=seed)
    data.train_mask = torch.arange(n) % 3 == 0
    return data


def test_floyd_rows_are_distinct_in_range_and_uniform_over_subsets():
    deg = torch.tensor([5] * 20000 + [10**9])
    gen = torch.Generator().manual_seed(0)
    picks = sample_without_replacement(deg, 2, gen)
    assert picks.shape == (20001, 2)
    assert (picks[:, 0] != picks[:, 1]).all()
    assert (picks >= 0).all() and (picks[:-1] < 5).all() and picks[-1].max() < 10**9
    pairs = picks[:-1].sort(1).values
    codes = pairs[:, 0] * 5 + pairs[:, 1]
    counts = torch.bincount(codes, minlength=25)[[a * 5 + b for a in range(5) for b in range(a + 1, 5)]]
    assert counts.sum() == 20000
    assert chisquare(counts.numpy()).pvalue > 1e-3  # all 10 subsets equally likely


def test_sampled_edges_exist_and_fanouts_hold_without_duplicates():
    data = _graph()
    sampler = NeighborSampler(data, [4, 3], seed=0)
    seeds = torch.arange(0, 300, 7)
    out = sampler.sample(seeds)
    node, row, col, edge = out.node, out.row, out.col, out.edge
    assert torch.equal(node[: seeds.numel()], seeds)  # seeds first
    assert node.unique().numel() == node.numel()
    # every sampled edge is the graph's edge e_id, between the right global nodes
    assert torch.equal(data.edge_index[:, edge], torch.stack([node[row], node[col]]))
    # per hop: each target has min(fan-out, in-degree) distinct in-edges
    deg = torch.bincount(data.edge_index[1], minlength=300)
    bounds = torch.tensor([0, *out.num_sampled_nodes]).cumsum(0)
    ebounds = torch.tensor([0, *out.num_sampled_edges]).cumsum(0)
    for hop, fanout in enumerate([4, 3]):
        targets = torch.arange(bounds[hop], bounds[hop + 1])
        cols = col[ebounds[hop] : ebounds[hop + 1]]
        per_target = torch.bincount(cols - bounds[hop], minlength=targets.numel())
        assert torch.equal(per_target, deg[node[targets]].clamp(max=fanout))
    pairs = col * node.numel() + row
    assert pairs.unique().numel() == pairs.numel()  # no neighbour twice for a node


def test_full_fanout_gives_the_k_hop_neighbourhood():
    data = _graph()
    seeds = torch.tensor([3, 50, 120])
    out = NeighborSampler(data, [-1, -1], seed=0).sample(seeds)
    subset, _, _, _ = k_hop_subgraph(seeds, 2, data.edge_index, num_nodes=300)
    assert set(out.node.tolist()) == set(subset.tolist())
    inner, _, _, _ = k_hop_subgraph(seeds, 1, data.edge_index, num_nodes=300)
    expected = torch.isin(data.edge_index[1], inner).nonzero().flatten()  # every in-edge of hops 0..1
    assert set(out.edge.tolist()) == set(expected.tolist())


def test_isolated_and_hub_nodes():
    sampler = NeighborSampler(EDGES, [3, 2], num_nodes=10, seed=0)
    out = sampler.sample(torch.tensor([9]))
    assert out.node.tolist() == [9] and out.row.numel() == 0 and out.num_sampled_edges == [0, 0]
    out = sampler.sample(torch.tensor([0, 9]))
    assert out.num_sampled_edges[0] == 3  # the hub keeps 3 of its 8 in-neighbours


def test_marginal_probability_of_each_neighbour_is_uniform_on_a_star():
    # 100 disjoint stars: centre c < 100 with leaves 100 + 20c .. 100 + 20c + 19 pointing to it
    leaves, stars = 20, 100
    centre = torch.arange(stars).repeat_interleave(leaves)
    graph = torch.stack([stars + torch.arange(stars * leaves), centre])
    sampler = NeighborSampler(graph, [5], num_nodes=stars * (leaves + 1), seed=1)
    counts = torch.zeros(stars * (leaves + 1), dtype=torch.long)
    for _ in range(20):
        counts += torch.bincount(sampler.sample(torch.arange(stars)).node[stars:], minlength=counts.numel())
    per_leaf = counts[stars:].view(stars, leaves).sum(0)  # leaf position within its star
    assert counts[:stars].sum() == 0 and per_leaf.sum() == 20 * stars * 5
    assert chisquare(per_leaf.numpy()).pvalue > 1e-3
    assert chisquare(counts[stars:].numpy()).pvalue > 1e-3  # every single leaf of every star


def test_same_seed_same_batches_and_workers():
    data = _graph()

    def batches(seed, **kw):
        loader = neighbor_loader(
            data, [3, 2], data.train_mask, batch_size=16, shuffle=True, backend="graphkd", seed=seed, **kw
        )
        return [(b.n_id, b.edge_index) for b in loader]

    a, b, c = batches(5), batches(5), batches(6)
    assert len(a) == len(b) == 7
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x[0], y[0]) for x, y in zip(a, c, strict=True))
    w, v = batches(5, num_workers=1), batches(5, num_workers=1)
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(w, v, strict=True))


def test_loader_batch_format():
    data = _graph()
    loader = neighbor_loader(data, [3, 2], data.train_mask, batch_size=32, backend="graphkd", seed=0)
    assert loader.backend == "graphkd"
    seen = []
    for batch in loader:
        assert batch.batch_size == batch.input_id.numel() <= 32
        assert torch.equal(batch.x, data.x[batch.n_id]) and torch.equal(batch.y, data.y[batch.n_id])
        assert batch.train_mask[: batch.batch_size].all()
        seen.append(batch.n_id[: batch.batch_size])
    assert torch.equal(torch.cat(seen), data.train_mask.nonzero().flatten())


@pytest.mark.skipif(not pyg_sampler_available(), reason="PyG's NeighborLoader needs pyg-lib or torch-sparse")
def test_full_fanout_model_output_matches_pygs_loader():
    data = _graph()
    model = GraphSAGE(8, 16, 5, num_layers=2).eval()
    full = model(data.x, data.edge_index)
    for backend in ("graphkd", "pyg"):
        loader = neighbor_loader(data, [-1, -1], data.train_mask, batch_size=40, backend=backend, seed=0)
        assert loader.backend == backend
        for batch in loader:
            out = model(batch.x, batch.edge_index)[: batch.batch_size]
            assert torch.allclose(out, full[batch.n_id[: batch.batch_size]], atol=1e-5)


def test_invalid_arguments_raise(monkeypatch):
    data = _graph()
    with pytest.raises(ValueError, match="num_neighbors"):
        NeighborSampler(data, [])
    with pytest.raises(ValueError, match="num_neighbors"):
        NeighborSampler(data, [3, -2])
    with pytest.raises(ValueError, match="num_nodes is required"):
        NeighborSampler(data.edge_index, [3])
    with pytest.raises(ValueError, match="seed nodes must lie in 0..299"):
        NeighborSampler(data, [3]).sample(torch.tensor([300]))
    with pytest.raises(ValueError, match="Unknown sampler backend 'dgl'"):
        neighbor_loader(data, [3], backend="dgl")
    with pytest.raises(ValueError, match="input_nodes is empty"):
        neighbor_loader(data, [3], torch.zeros(300, dtype=torch.bool))
    with pytest.raises(ValueError, match="batch_size"):
        neighbor_loader(data, [3], batch_size=0)
    monkeypatch.setattr("graphkd.sampling.loader.pyg_sampler_available", lambda: False)
    with pytest.raises(ValueError, match="needs pyg-lib or torch-sparse"):
        neighbor_loader(data, [3], backend="pyg")
    assert neighbor_loader(data, [3]).backend == "graphkd"  # auto falls back to graphkd's sampler


def test_auto_backend_choice(monkeypatch):
    from graphkd.sampling import choose_backend

    monkeypatch.setattr("graphkd.sampling.loader._with_pyg_lib", lambda: True)
    monkeypatch.setattr("graphkd.sampling.loader.pyg_sampler_available", lambda: True)
    assert choose_backend("auto", "cpu") == "pyg" and choose_backend("auto", "cuda") == "graphkd"
    monkeypatch.setattr("graphkd.sampling.loader._with_pyg_lib", lambda: False)
    assert choose_backend("auto", "cpu") == "graphkd" and choose_backend("pyg", "cpu") == "pyg"


def test_edge_attributes_follow_the_sampled_edges():
    data = Data(x=torch.randn(10, 2), edge_index=EDGES, edge_attr=torch.arange(EDGES.size(1)).float(), num_nodes=10)
    batch = next(iter(neighbor_loader(data, [2, 2], torch.tensor([0, 1]), batch_size=2, backend="graphkd", seed=0)))
    assert torch.equal(batch.edge_attr, batch.e_id.float())


def test_duplicate_seeds_and_a_failed_batch_leave_the_sampler_clean(monkeypatch):
    data = _graph()
    sampler = NeighborSampler(data, [3, 2], seed=0)
    out = sampler.sample(torch.tensor([5, 7, 5]))
    assert out.node[:3].tolist() == [5, 7, 5]
    assert torch.equal(data.edge_index[:, out.edge], torch.stack([out.node[out.row], out.node[out.col]]))
    assert (sampler._local == -1).all() and (sampler._first == 2**62).all()

    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(sampler, "_new_nodes", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        sampler.sample(torch.arange(10))
    monkeypatch.undo()
    assert (sampler._local == -1).all() and (sampler._first == 2**62).all()
    good = sampler.sample(torch.arange(10))
    assert torch.equal(data.edge_index[:, good.edge], torch.stack([good.node[good.row], good.node[good.col]]))


def test_loader_workers_draw_new_neighbours_every_epoch():
    data = _graph()
    loader = neighbor_loader(data, [2], torch.arange(50), batch_size=50, backend="graphkd", seed=0, num_workers=1)
    first, second = (next(iter(loader)).e_id for _ in range(2))
    assert not torch.equal(first, second)


@pytest.mark.parametrize("name", ["sage", "gat", "gin", "gcn"])
def test_layer_trimming_keeps_the_seed_outputs(name):
    from graphkd.nn import build_model

    data = _graph()
    torch.manual_seed(0)
    model = build_model(name, 8, 5, hidden_channels=16, num_layers=3).eval()
    loader = neighbor_loader(data, [4, 3, 2], data.train_mask, batch_size=40, backend="graphkd", seed=0)
    for batch in loader:
        full = model(batch.x, batch.edge_index)[: batch.batch_size]
        hops = {"num_sampled_nodes": batch.num_sampled_nodes, "num_sampled_edges": batch.num_sampled_edges}
        trimmed = model(batch.x, batch.edge_index, **hops)
        assert torch.allclose(trimmed[: batch.batch_size], full, atol=1e-5)
        assert trimmed.size(0) <= batch.x.size(0)
        if name != "gcn":  # GCN's normalisation needs every sampled edge: it does not trim
            assert trimmed.size(0) == sum(batch.num_sampled_nodes[:2])


def test_inconsistent_hop_counts_and_node_sets_raise():
    data = _graph()
    model = GraphSAGE(8, 16, 5, num_layers=2)
    with pytest.raises(ValueError, match="do not describe a hop-ordered batch of 300 nodes"):
        model(data.x, data.edge_index, num_sampled_nodes=[10, 20], num_sampled_edges=[30, 40])
    with pytest.raises(ValueError, match=r"input_nodes must lie in 0..299"):
        neighbor_loader(data, [3], torch.tensor([0, 300]))
    with pytest.raises(ValueError, match="input_nodes mask has 5 entries but the graph has 300 nodes"):
        neighbor_loader(data, [3], torch.ones(5, dtype=torch.bool))
