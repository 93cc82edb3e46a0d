import functools

import torch

from graphkd.datasets import load
from graphkd.eval import OGBMetric, accuracy
from graphkd.nn import MLP
from graphkd.utils.fingerprint import callable_identity, graph_digest, tensor_digest, weights_digest


def test_tensor_digest_sees_values_shapes_and_dtypes():
    a = torch.randn(100, 7)
    assert tensor_digest([a]) == tensor_digest([a.clone()])
    assert tensor_digest([a]) != tensor_digest([a.view(7, 100)]) != tensor_digest([a.double()])
    b = a.clone()
    b[99, 6] += 1e-6
    assert tensor_digest([a]) != tensor_digest([b])
    assert tensor_digest([a, None]) != tensor_digest([a])
    assert tensor_digest([torch.tensor([True, False])]) != tensor_digest([torch.tensor([False, True])])
    assert tensor_digest([a], chunk=13) == tensor_digest([a])  # chunking does not change the hash


def test_graph_digest_covers_labels_edges_and_split():
    g = load("csbm", num_nodes=300, num_classes=3, train_per_class=10, val_per_class=10)
    base = graph_digest(g)
    for change in ("y", "edge_index", "train_mask"):
        h = g.clone()
        h[change] = h[change].flip(-1)
        assert graph_digest(h) != base, change
    assert graph_digest(g.clone()) == base


def test_weights_digest_follows_the_state_dict():
    torch.manual_seed(0)
    a = MLP(3, 4, 2)
    torch.manual_seed(0)
    assert weights_digest(MLP(3, 4, 2)) == weights_digest(a)
    with torch.no_grad():
        a.layers[0].weight[0, 0] += 1
    assert weights_digest(MLP(3, 4, 2)) != weights_digest(a)


class _NoRepr:
    def __call__(self, *args):
        return 0.0


def test_callable_identity_is_stable_and_never_an_address():
    assert callable_identity(accuracy) == "graphkd.eval.metrics.accuracy"
    f, g = (lambda x: x), (lambda x: x)  # noqa: E731
    assert "<lambda>@" in callable_identity(f) and callable_identity(f) == callable_identity(g)  # same line
    h = lambda x: x  # noqa: E731 - another line: another lambda
    assert callable_identity(h) != callable_identity(f)
    assert callable_identity(functools.partial(accuracy, mask=None)) == (
        "partial(graphkd.eval.metrics.accuracy, mask=None)"
    )
    assert callable_identity(_NoRepr()) == f"{__name__}._NoRepr"
    assert callable_identity(OGBMetric("ogbn-arxiv")) == "OGBMetric('ogbn-arxiv')"
    assert "0x" not in callable_identity(MLP(3, 4, 2).forward)
