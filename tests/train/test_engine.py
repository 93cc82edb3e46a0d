import pytest
import torch
import torch.nn.functional as F

from graphkd.datasets import load
from graphkd.eval import evaluate
from graphkd.nn import MLP, GraphSAGE
from graphkd.train import Batch, FullBatch, Trainer


@pytest.fixture(scope="module")
def graph():
    return load("csbm", num_nodes=600, num_classes=3, num_features=16, feature_noise=3.0)


def _fit(graph, seed, epochs=30):
    torch.manual_seed(seed)
    model = GraphSAGE(16, 16, 3)
    history = Trainer(epochs=epochs, patience=None, progress=False).fit(model, graph, seed=seed)
    return model, history


def test_same_seed_same_run(graph):
    m1, h1 = _fit(graph, seed=7)
    m2, h2 = _fit(graph, seed=7)
    assert h1.epochs == h2.epochs and h1.best_epoch == h2.best_epoch
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    _, h3 = _fit(graph, seed=8)
    assert h3.epochs != h1.epochs


def test_best_checkpoint_is_chosen_on_validation_and_restored(graph):
    model, history = _fit(graph, seed=0, epochs=40)
    vals = [r.val_acc for r in history.epochs]
    assert history.best.val_acc == max(vals)
    assert history.best_epoch == vals.index(max(vals))  # earliest best on ties
    acc = evaluate(model, graph)
    assert acc["val"] == pytest.approx(history.best.val_acc)
    assert acc["test"] == pytest.approx(history.best.test_acc)


def test_gnn_learns(graph):
    _, history = _fit(graph, seed=0, epochs=60)
    assert history.best.test_acc > 0.8


def test_early_stopping(graph):
    torch.manual_seed(0)
    history = Trainer(epochs=500, patience=5, progress=False).fit(MLP(16, 16, 3), graph, seed=0)
    assert history.stopped_early and len(history.epochs) == history.best_epoch + 6


def test_custom_loss_and_batch_source(graph):
    calls = []

    def loss_fn(model, batch: Batch):
        calls.append(batch.extras["tag"])
        return F.cross_entropy(model(batch.x)[batch.mask], batch.y[batch.mask])

    class Tagged(FullBatch):
        def __iter__(self):
            for b in super().__iter__():
                b.extras["tag"] = "mine"
                yield b

    Trainer(epochs=3, patience=None, progress=False).fit(MLP(16, 8, 3), graph, loss_fn, Tagged(graph), seed=0)
    assert calls == ["mine"] * 3


def test_mismatches_are_errors(graph):
    trainer = Trainer(epochs=1, progress=False)
    with pytest.raises(ValueError, match="out_channels=4 but the data has 3 classes"):
        trainer.fit(MLP(16, 8, 4), graph)
    with pytest.raises(ValueError, match="in_channels=10 but data.x has 16 features"):
        trainer.fit(MLP(10, 8, 3), graph)
    bad = graph.clone()
    bad.val_mask = torch.zeros_like(bad.val_mask)
    with pytest.raises(ValueError, match="val split is empty"):
        trainer.fit(MLP(16, 8, 3), bad)


def test_diverging_loss_is_an_error(graph):
    def nan_loss(model, batch):
        return model(batch.x).sum() * float("nan")

    with pytest.raises(ValueError, match="training loss became nan"):
        Trainer(epochs=2, progress=False).fit(MLP(16, 8, 3), graph, nan_loss)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"lr": 0}, "lr must be > 0"),
        ({"patience": 0}, "patience must be >= 1 or None"),
        ({"optimizer": "sgdd"}, r"Unknown optimizer 'sgdd'; valid choices: adam, adamw"),
    ],
)
def test_bad_trainer_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Trainer(**kwargs)


def test_fit_leaves_callers_data_alone_and_model_in_eval_mode(graph):
    x, mask = graph.x, graph.train_mask
    model = MLP(16, 8, 3)
    Trainer(epochs=2, progress=False, device="cpu").fit(model, graph)
    assert graph.x is x and graph.train_mask is mask
    assert not model.training


def test_bad_device():
    with pytest.raises(ValueError, match="invalid device 'gpu'"):
        Trainer(device="gpu")
