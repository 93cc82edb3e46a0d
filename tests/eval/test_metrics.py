import pytest
import torch

from graphkd.datasets import load
from graphkd.eval import accuracy, evaluate, predict
from graphkd.nn import MLP, GraphSAGE


def test_predict_in_chunks_equals_one_forward():
    data = load("csbm", num_nodes=900, num_classes=3, num_features=8)
    torch.manual_seed(0)
    for model in (MLP(8, 16, 3, norm="batch"), GraphSAGE(8, 16, 3)):
        model.eval()
        with torch.no_grad():
            full = model(data.x, data.edge_index)
        chunked = predict(model, data, batch_size=100)  # more nodes than batch_size: the chunked path
        assert torch.allclose(chunked, full, atol=1e-5)
        model.train()
        predict(model, data, batch_size=100)
        assert model.training  # the caller's mode is restored


def test_accuracy_and_evaluate_with_a_metric():
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([0, 0, 0])
    assert accuracy(logits, y) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="empty set of nodes"):
        accuracy(logits, y, torch.zeros(3, dtype=torch.bool))
    data = load("csbm", num_nodes=300, num_classes=3, train_per_class=10, val_per_class=10)
    scores = evaluate(MLP(data.num_features, 8, 3), data, metric=lambda logits, y, mask: float(mask.sum()))
    assert scores == {k: float(data[f"{k}_mask"].sum()) for k in ("train", "val", "test")}
