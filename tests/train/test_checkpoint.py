import os
import random

import numpy as np
import pytest
import torch

from graphkd.datasets import load
from graphkd.nn import MLP, GraphSAGE
from graphkd.train import Trainer, cross_entropy_loss
from graphkd.train.checkpoint import load_checkpoint, restore_rng_state, rng_state, save_checkpoint


@pytest.fixture(scope="module")
def graph():
    return load("csbm", num_nodes=400, num_classes=3, num_features=16, feature_noise=3.0)


class Interrupt(Exception):
    pass


def _interrupting(after_calls):
    calls = {"n": 0}

    def loss(model, batch):
        calls["n"] += 1
        if calls["n"] > after_calls:
            raise Interrupt  # as if the process were killed in the middle of an epoch
        return cross_entropy_loss(model, batch)

    return loss


CASES = {
    "full-batch sage": (lambda: GraphSAGE(16, 16, 3, dropout=0.5), {}),
    "sampled sage": (
        lambda: GraphSAGE(16, 16, 3, dropout=0.5),
        {"batch_size": 64, "num_neighbors": [4, 3], "sampler": "graphkd"},
    ),
    "node-batch mlp": (lambda: MLP(16, 16, 3, dropout=0.5), {"batch_size": 50}),
    # without a seed the sampler draws its own, which its worker reseeds from every epoch
    "sampled sage, a worker, no seed": (
        lambda: GraphSAGE(16, 16, 3, dropout=0.5),
        {"batch_size": 64, "num_neighbors": [4, 3], "sampler": "graphkd", "num_workers": 1},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_interrupted_run_resumes_to_the_uninterrupted_result(graph, tmp_path, case):
    build, kwargs = CASES[case]
    trainer = Trainer(epochs=8, patience=None, progress=False, **kwargs)
    # the same loss under another name, so all three runs share one signature
    loss = _interrupting(10**9)

    torch.manual_seed(0)
    reference = build()
    expected = trainer.fit(reference, graph, loss, seed=3, checkpoint=tmp_path / "ref.pt")

    batches_per_epoch = len(trainer.make_batches(build(), graph, seed=3))
    ckpt = tmp_path / "run.pt"
    torch.manual_seed(0)
    with pytest.raises(Interrupt):  # killed during the 5th epoch
        trainer.fit(
            build(), graph, _interrupting(4 * batches_per_epoch + (batches_per_epoch > 1)), seed=3, checkpoint=ckpt
        )
    assert load_checkpoint(ckpt, _signature_of(ckpt))["epoch"] == 4
    random.seed(123), np.random.seed(123), torch.manual_seed(123)  # whatever the new process holds
    model = build()
    resumed = trainer.fit(model, graph, loss, seed=3, checkpoint=ckpt)

    assert [r.epoch for r in resumed.epochs] == list(range(8))
    assert _records(resumed) == _records(expected) and resumed.best_epoch == expected.best_epoch
    for a, b in zip(model.state_dict().values(), reference.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def _records(history):
    return [(r.epoch, r.loss, r.train_acc, r.val_acc, r.test_acc) for r in history.epochs]


def _signature_of(path):
    return torch.load(path, weights_only=True)["signature"]


def test_a_finished_run_returns_at_once_with_its_best_weights(graph, tmp_path):
    trainer = Trainer(epochs=5, patience=None, progress=False)
    model = MLP(16, 8, 3)
    history = trainer.fit(model, graph, seed=0, checkpoint=tmp_path / "c.pt")
    again = MLP(16, 8, 3)

    def never(model, batch):
        raise AssertionError("a finished run must not train again")

    history2 = Trainer(epochs=5, patience=None, progress=False).fit(again, graph, seed=0, checkpoint=tmp_path / "c.pt")
    assert history2.epochs == history.epochs and history2.best_epoch == history.best_epoch
    for a, b in zip(again.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not again.training
    with pytest.raises(ValueError, match="loss"):  # another objective is another run
        trainer.fit(MLP(16, 8, 3), graph, never, seed=0, checkpoint=tmp_path / "c.pt")


def test_early_stopping_state_survives_a_resume(graph, tmp_path):
    trainer = Trainer(epochs=200, patience=3, lr=0.05, progress=False)
    loss = _interrupting(10**9)
    torch.manual_seed(0)
    ref = trainer.fit(MLP(16, 8, 3), graph, loss, seed=1, checkpoint=tmp_path / "a.pt")
    assert ref.stopped_early and len(ref.epochs) < 200
    torch.manual_seed(0)
    with pytest.raises(Interrupt):  # killed in the last epoch
        trainer.fit(MLP(16, 8, 3), graph, _interrupting(len(ref.epochs) - 1), seed=1, checkpoint=tmp_path / "b.pt")
    resumed = trainer.fit(MLP(16, 8, 3), graph, loss, seed=1, checkpoint=tmp_path / "b.pt")
    assert _records(resumed) == _records(ref) and resumed.stopped_early


def test_checkpoint_of_another_run_is_refused(graph, tmp_path):
    path = tmp_path / "c.pt"
    Trainer(epochs=2, progress=False).fit(MLP(16, 8, 3), graph, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match=r"another run \(trainer: .*'lr': 0.01.*'lr': 0.02"):
        Trainer(epochs=2, lr=0.02, progress=False).fit(MLP(16, 8, 3), graph, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match="parameters"):
        Trainer(epochs=2, progress=False).fit(MLP(16, 4, 3), graph, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match="seed: 0 in the checkpoint, 1 now"):
        Trainer(epochs=2, progress=False).fit(MLP(16, 8, 3), graph, seed=1, checkpoint=path)
    other = load("csbm", num_nodes=400, num_classes=3, num_features=16, feature_noise=3.0, graph_seed=1)
    other_split = load("csbm", num_nodes=400, num_classes=3, num_features=16, feature_noise=3.0, seed=1)
    other_labels = graph.clone()
    other_labels.y = other_labels.y.flip(0)
    for changed in (other, other_split, other_labels):  # other graph; same counts, other nodes; other labels
        with pytest.raises(ValueError, match="data: "):
            Trainer(epochs=2, progress=False).fit(MLP(16, 8, 3), changed, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match="'num_workers': 0.*'num_workers': 2"):
        Trainer(epochs=2, progress=False, num_workers=2).fit(MLP(16, 8, 3), graph, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match="extra"):
        Trainer(epochs=2, progress=False).fit(MLP(16, 8, 3), graph, seed=0, checkpoint=path, signature={"lam": 0.5})


def test_corrupt_or_foreign_checkpoint_raises(graph, tmp_path):
    path = tmp_path / "c.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable graphkd checkpoint"):
        Trainer(epochs=2, progress=False).fit(MLP(16, 8, 3), graph, checkpoint=path)
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a graphkd training checkpoint"):
        Trainer(epochs=2, progress=False).fit(MLP(16, 8, 3), graph, checkpoint=path)
    with pytest.raises(ValueError, match="checkpoint_every"):
        Trainer(checkpoint_every=0)


def test_checkpoint_every_k_epochs(graph, tmp_path):
    path = tmp_path / "c.pt"
    trainer = Trainer(epochs=7, patience=None, progress=False, checkpoint_every=3)
    torch.manual_seed(0)
    with pytest.raises(Interrupt):
        trainer.fit(MLP(16, 8, 3), graph, _interrupting(5), seed=0, checkpoint=path)
    assert torch.load(path, weights_only=True)["epoch"] == 3  # epoch 5's state was not written yet
    torch.manual_seed(0)
    ref = Trainer(epochs=7, patience=None, progress=False).fit(MLP(16, 8, 3), graph, seed=0)
    resumed = trainer.fit(MLP(16, 8, 3), graph, _interrupting(10**9), seed=0, checkpoint=path)
    assert _records(resumed) == _records(ref)


def test_rng_state_round_trip():
    state = rng_state()
    a = (random.random(), float(np.random.rand()), float(np.random.randn()), float(torch.rand(1)))
    restore_rng_state(state)
    assert (random.random(), float(np.random.rand()), float(np.random.randn()), float(torch.rand(1))) == a


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"signature": {}, "epoch": 1})

    def interrupted(*args, **kwargs):  # the new checkpoint is written in full, not yet in place
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"signature": {}, "epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path, {})["epoch"] == 1
    assert list(tmp_path.iterdir()) == [path]
