import pytest
import torch
from torch_geometric.utils import is_undirected

from graphkd.datasets import csbm


def test_shapes_and_determinism():
    a = csbm(num_nodes=400, num_classes=4, num_features=16, avg_degree=6, seed=3)
    b = csbm(num_nodes=400, num_classes=4, num_features=16, avg_degree=6, seed=3)
    c = csbm(num_nodes=400, num_classes=4, num_features=16, avg_degree=6, seed=4)
    assert a.x.shape == (400, 16) and a.y.shape == (400,)
    assert set(a.y.tolist()) == {0, 1, 2, 3}
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    assert is_undirected(a.edge_index)
    assert not bool((a.edge_index[0] == a.edge_index[1]).any())
    # about avg_degree * N directed edges (duplicates dropped)
    assert 0.9 * 400 * 6 < a.edge_index.size(1) <= 400 * 6


@pytest.mark.parametrize("h", [0.0, 0.5, 0.9])
def test_homophily_is_what_was_asked(h):
    g = csbm(num_nodes=2000, num_classes=5, homophily=h, avg_degree=10, seed=0)
    same = (g.y[g.edge_index[0]] == g.y[g.edge_index[1]]).float().mean().item()
    assert abs(same - h) < 0.03


def test_noise_controls_feature_signal():
    clean = csbm(num_nodes=500, feature_noise=0.0, seed=0)
    # without noise every node of a class has the same features
    for c in range(5):
        rows = clean.x[clean.y == c]
        assert torch.allclose(rows, rows[0].expand_as(rows))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_nodes": 1}, "num_nodes >= 2"),
        ({"num_classes": 1}, "num_classes >= 2"),
        ({"num_nodes": 3, "num_classes": 4}, "exceeds num_nodes"),
        ({"homophily": 1.5}, r"homophily must lie in \[0, 1\], got 1.5"),
        ({"avg_degree": 0}, "avg_degree must be > 0"),
        ({"feature_noise": -1}, "feature_noise >= 0"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        csbm(**kwargs)


def test_ogb_like_sizes():
    from graphkd.datasets import OGB_LIKE, ogb_like

    data = ogb_like("arxiv", num_nodes=2000, num_features=4)  # sizes overridable for a quick check
    assert data.num_nodes == 2000 and data.num_features == 4 and int(data.y.max()) == 39
    # duplicate edges (dropped) are frequent on so small a graph: the degree comes out a bit lower
    assert 0.85 < data.edge_index.size(1) / 2000 / OGB_LIKE["arxiv"]["avg_degree"] <= 1.0
    with pytest.raises(ValueError, match="Unknown OGB-sized graph 'papers'"):
        ogb_like("papers")
