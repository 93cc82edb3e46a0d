import pytest
import torch

from graphkd.datasets import inductive_split
from graphkd.features import PositionalFeatures


def test_transform_appends_the_embeddings(tiny_graph):
    pos = PositionalFeatures(8, walk_length=5, walks_per_node=2).fit(tiny_graph, seed=0)
    out = pos.transform(tiny_graph)
    assert out.x.shape == (6, 4 + 8) and torch.equal(out.x[:, :4], tiny_graph.x)
    assert torch.equal(out.x[:, 4:], pos.embedding_) and tiny_graph.x.shape == (6, 4)  # the input is untouched


def test_unseen_nodes_get_their_observed_neighbours_mean(tiny_graph):
    # observe nodes 0, 1, 3, 4 (relabelled 0..3); 2 neighbours 1 and 3, 5 neighbours 3 and 4
    observed = tiny_graph.subgraph(torch.tensor([0, 1, 3, 4]))
    pos = PositionalFeatures(4, walk_length=5).fit(observed, seed=0)
    p = pos.embed(tiny_graph, observed_nodes=torch.tensor([0, 1, 3, 4]))
    emb = pos.embedding_
    assert torch.equal(p[[0, 1, 3, 4]], emb)
    assert torch.allclose(p[2], (emb[1] + emb[2]) / 2) and torch.allclose(p[5], (emb[2] + emb[3]) / 2)
    lonely = tiny_graph.clone()
    lonely.edge_index = tiny_graph.edge_index[:, (tiny_graph.edge_index != 5).all(0)]
    assert (pos.embed(lonely, observed_nodes=torch.tensor([0, 1, 3, 4]))[5] == 0).all()  # no observed neighbour


def test_inductive_split_ids_place_the_embeddings():
    from graphkd.datasets import load

    data = load("csbm", seed=0)
    parts = inductive_split(data, 0.2, seed=0)
    pos = PositionalFeatures(8, walk_length=5).fit(parts.observed, seed=0)
    full = pos.transform(parts.full, observed_nodes=parts.observed_ids)
    assert torch.equal(full.x[parts.observed_ids, -8:], pos.embedding_)
    assert full.x.shape == (data.num_nodes, data.num_features + 8)


def test_errors(tiny_graph):
    with pytest.raises(ValueError, match="not fitted"):
        PositionalFeatures(4).embed(tiny_graph)
    with pytest.raises(ValueError, match="Unknown DeepWalk argument"):
        PositionalFeatures(4, walks=3)
    with pytest.raises(ValueError, match="Unknown DeepWalk backend 'gensimm'; valid choices: torch, gensim"):
        PositionalFeatures(4, backend="gensimm")
    pos = PositionalFeatures(4, walk_length=5).fit(tiny_graph.subgraph(torch.tensor([0, 1, 2])))
    with pytest.raises(ValueError, match="cover 3 nodes but the graph has 6"):
        pos.embed(tiny_graph)
    with pytest.raises(ValueError, match="observed_nodes has 2 nodes but the embeddings cover 3"):
        pos.embed(tiny_graph, observed_nodes=torch.tensor([0, 1]))
