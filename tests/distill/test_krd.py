import pytest
import torch

from graphkd.datasets import load
from graphkd.distill import KRD, TeacherOutputs
from graphkd.distill.krd import fit_power, knowledge_reliability, noisy_teacher_logits
from graphkd.eval import evaluate, run_distillation
from graphkd.nn import MLP, GraphSAGE
from graphkd.recipes import get_recipe
from graphkd.train import Batch, Trainer


@pytest.fixture(scope="module")
def trained():
    data = load("csbm", num_nodes=600, num_classes=4, num_features=16, feature_noise=3.0)
    torch.manual_seed(0)
    teacher = GraphSAGE(16, 32, 4)
    Trainer(epochs=60, patience=None, progress=False).fit(teacher, data, seed=0)
    signals = KRD(MLP(16, 32, 4)).teacher_signals(teacher, data, seed=0)
    return data, teacher, TeacherOutputs.compute(teacher, data, extras=signals)


def krd(epochs: int = 30, batch_size: int | None = None, **kwargs) -> KRD:
    trainer = Trainer(epochs=epochs, patience=None, batch_size=batch_size, progress=False)
    return KRD(MLP(16, 32, 4), trainer=trainer, **kwargs)


def test_reliability_is_the_normalised_entropy_change():
    logits = torch.tensor([[5.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    d = knowledge_reliability(logits, logits)
    assert torch.equal(d, torch.zeros(3))  # no change anywhere: all reliable
    noisy = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])  # node 0 loses its confidence
    d = knowledge_reliability(logits, noisy)
    assert d[0] == 1 and d[1] == 0 and d[2] == 0
    with pytest.raises(ValueError, match="differ in shape"):
        knowledge_reliability(logits, logits[:2])


def test_fit_power_recovers_the_exponent_of_an_agreement_curve():
    d = torch.linspace(0, 0.999, 5000)
    for a in (0.5, 2.0, 6.0):
        agree = torch.rand(5000, generator=torch.Generator().manual_seed(0)) < 1 - d**a
        assert fit_power(d, agree) == pytest.approx(a, rel=0.3)
    assert fit_power(d, torch.ones(5000, dtype=torch.bool), init=3.0) == 3.0  # flat: no information


def test_pairs_cover_self_and_neighbours_then_sample_by_reliability(trained):
    data, _, outs = trained
    method = krd(warmup_epochs=2)
    method.prepare(data, outs, seed=0)
    nodes = torch.tensor([0, 5])
    rows, teachers = method.pairs(nodes)
    neighbours = {int(n): set(method.col_[method.rowptr_[n] : method.rowptr_[n + 1]].tolist()) for n in nodes}
    assert rows[:2].tolist() == [0, 1] and teachers[:2].tolist() == [0, 5]  # every node teaches itself
    for r, t in zip(rows[2:].tolist(), teachers[2:].tolist(), strict=True):
        assert t in neighbours[int(nodes[r])]
    assert rows.numel() == 2 + sum(len(v) for v in neighbours.values())  # warm-up: all neighbours
    method.state_.epoch.fill_(3)
    method.state_.power.fill_(1.0)
    method.unreliability_ = torch.ones_like(method.unreliability_)  # nobody reliable: only self pairs
    assert method.pairs(nodes)[0].tolist() == [0, 1]
    method.unreliability_ = torch.zeros_like(method.unreliability_)  # everybody reliable: all pairs
    assert method.pairs(nodes)[0].numel() == rows.numel()


def test_loss_is_zero_for_a_student_that_is_the_teacher_on_every_pair():
    # two nodes joined by an edge, the same teacher logits on both: a student equal to them has no loss
    from torch_geometric.data import Data

    x = torch.eye(2)
    data = Data(x=x, y=torch.tensor([0, 1]), edge_index=torch.tensor([[0, 1], [1, 0]]))
    data.train_mask = data.val_mask = data.test_mask = torch.ones(2, dtype=torch.bool)
    student = MLP(2, 4, 2, num_layers=1)
    with torch.no_grad():
        student.layers[0].weight.zero_()
        student.layers[0].bias.copy_(torch.tensor([2.0, -1.0]))
    logits = student(x).detach()
    outs = TeacherOutputs(logits, {"num_nodes": 2, "num_classes": 2}, extras={"noisy_logits": logits})
    method = KRD(student, temperature=2.0)
    method.prepare(data, outs)
    loss, terms = method.loss(student, Batch(x, data.edge_index, data.y, data.train_mask))
    assert float(loss.detach()) == pytest.approx(0.0, abs=1e-7) and set(terms) == {"kd"}


def test_fit_full_batch_and_mini_batch_choose_on_validation(trained):
    data, _, outs = trained
    for batch_size in (None, 128):
        method = krd(epochs=8, batch_size=batch_size, warmup_epochs=3).fit(data, outs, seed=0)
        assert int(method.state_.epoch) == 8 and float(method.state_.power) != 1.0  # the exponent moved
        assert method.history_.best.val_acc == max(r.val_acc for r in method.history_.epochs)
        assert evaluate(method.student, data)["test"] > 0.5


class _Killed(Exception):
    pass


def test_resumed_run_equals_an_uninterrupted_one(trained, tmp_path, monkeypatch):
    data, _, outs = trained
    torch.manual_seed(5)
    whole = krd(epochs=6, warmup_epochs=2).fit(data, outs, seed=0)

    ckpt = tmp_path / "krd.ckpt"
    torch.manual_seed(5)
    start = KRD.start_epoch

    def start_or_die(self, student):  # killed as its fifth epoch starts, after the fourth's checkpoint
        if int(self.state_.epoch) == 4:
            raise _Killed
        start(self, student)

    with monkeypatch.context() as patch:
        patch.setattr(KRD, "start_epoch", start_or_die)
        with pytest.raises(_Killed):
            krd(epochs=6, warmup_epochs=2).fit(data, outs, seed=0, checkpoint=ckpt)
    torch.manual_seed(5)
    resumed = krd(epochs=6, warmup_epochs=2).fit(data, outs, seed=0, checkpoint=ckpt)
    assert float(resumed.state_.power) == float(whole.state_.power) and int(resumed.state_.epoch) == 6
    state, other = whole.student.state_dict(), resumed.student.state_dict()
    assert all(torch.equal(state[k], other[k]) for k in state)


def test_bad_input(trained):
    data, teacher, _ = trained
    plain = TeacherOutputs.compute(teacher, data)
    with pytest.raises(ValueError, match="KRD needs the teacher's logits under feature noise"):
        krd().fit(data, plain)
    with pytest.raises(ValueError, match="lam must lie in"):
        krd(lam=1.5)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        krd(temperature=0)
    with pytest.raises(ValueError, match="bins must be an integer >= 2"):
        krd(bins=1)
    with pytest.raises(ValueError, match="noise_std must be > 0"):
        noisy_teacher_logits(teacher, data, noise_std=0)


def test_protocol_runs_krd_from_its_recipe():
    recipe = get_recipe("krd", "csbm").override(
        **{"teacher.epochs": 5, "student.epochs": 6, "baseline.epochs": 3, "warmup_epochs": 2}
    )
    rows = run_distillation("csbm", [0], method="krd", recipe=recipe, timing_repeats=0)
    assert [r.model for r in rows] == ["sage", "mlp", "krd"]
    krd_row = rows[-1]
    assert krd_row.seed == 0 and krd_row.epochs_run == 6 and 0 <= krd_row.best_epoch < 6
    assert all(0.0 <= acc <= 1.0 for r in rows for acc in (r.train_acc, r.val_acc, r.test_acc))


@pytest.mark.data
def test_quality_floor_on_real_cora(real_cora_teacher):
    data, teacher, baseline = real_cora_teacher
    recipe = get_recipe("krd", "cpf-cora")
    method = KRD.from_recipe(recipe, data, Trainer(**recipe.student.trainer_kwargs(), progress=False))
    outs = TeacherOutputs.compute(teacher, data, extras=method.teacher_signals(teacher, data, seed=0))
    method.fit(data, outs, seed=0)
    acc = evaluate(method.student, data)["test"]
    assert acc >= baseline + 0.15, (acc, baseline)
