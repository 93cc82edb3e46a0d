import pytest
import torch

from graphkd.datasets import validate_data, validate_edge_index


def test_valid_graph_passes(tiny_graph):
    validate_data(tiny_graph)


def _broken(graph, **changes):
    g = graph.clone()
    for key, value in changes.items():
        g[key] = value
    return g


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda g: {"x": g.x[:, 0]}, r"data.x must be a \[num_nodes, num_features\] tensor, got shape \[6\]"),
        (lambda g: {"x": g.x.long()}, "data.x must be a float tensor"),
        (
            lambda g: {"x": torch.where(torch.arange(6).view(-1, 1) == 2, float("nan"), g.x)},
            r"NaN/Inf entries in 1 nodes \(first node: 2\)",
        ),
        (lambda g: {"x": torch.full_like(g.x, float("inf"))}, "NaN/Inf"),
        (lambda g: {"y": g.y[:5]}, r"data.y has 5 labels but data.x has 6 rows"),
        (lambda g: {"y": g.y.view(-1, 1)}, r"data.y must have shape \[6\] \(one label per node\), got shape \[6, 1\]"),
        (lambda g: {"y": g.y.float()}, "int64 class labels, got dtype torch.float32"),
        (lambda g: {"y": g.y.int()}, r"got dtype torch.int32; cast with y.long\(\)"),
        (lambda g: {"y": torch.tensor([0, 0, 0, 1, 1, 7])}, r"label 7, outside \[0, 2\)"),
        (lambda g: {"y": torch.tensor([0, 0, 0, 1, 1, -1])}, r"label -1, outside \[0, 2\)"),
        (lambda g: {"edge_index": torch.tensor([[0, 9], [1, 0]])}, r"node 9, outside \[0, 6\)"),
        (lambda g: {"edge_index": torch.tensor([0, 1])}, r"shape \[2, num_edges\]"),
        (lambda g: {"edge_index": g.edge_index.float()}, "must hold integers"),
        (lambda g: {"train_mask": torch.zeros(6, dtype=torch.bool)}, "the train split is empty"),
        (lambda g: {"val_mask": torch.zeros(6, dtype=torch.bool)}, "the val split is empty"),
        (lambda g: {"test_mask": g.train_mask}, "overlap"),
        (lambda g: {"train_mask": g.train_mask.long()}, "data.train_mask must be a boolean tensor"),
    ],
)
def test_each_problem_is_named(tiny_graph, change, match):
    with pytest.raises(ValueError, match=match):
        validate_data(_broken(tiny_graph, **change(tiny_graph)))


def test_edge_index_check():
    validate_edge_index(torch.empty(2, 0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match=r"node -1, outside \[0, 3\)"):
        validate_edge_index(torch.tensor([[-1], [0]]), 3)
