import pytest
import torch

from graphkd.datasets import load
from graphkd.distill import CPF, RefinedKD, TeacherOutputs
from graphkd.eval import evaluate, run_distillation
from graphkd.nn import MLP, PLP, GraphSAGE
from graphkd.recipes import get_recipe
from graphkd.train import Trainer


@pytest.fixture(scope="module")
def trained():
    data = load("csbm", num_nodes=400, num_classes=3, num_features=16, feature_noise=3.0)
    torch.manual_seed(0)
    teacher = GraphSAGE(16, 32, 3)
    Trainer(epochs=40, patience=None, progress=False).fit(teacher, data, seed=0)
    return data, TeacherOutputs.compute(teacher, data)


def refiner(data, epochs=20) -> CPF:
    plp = PLP(data.num_features, 16, data.num_classes, data.num_nodes, num_layers=3, dropout=0.2)
    return CPF(plp, trainer=Trainer(epochs=epochs, lr=0.01, weight_decay=0.0, patience=None, progress=False))


def test_student_learns_the_refined_soft_labels(trained):
    data, outs = trained
    trainer = Trainer(epochs=10, patience=None, progress=False)
    method = RefinedKD(MLP(16, 32, 3), refiner(data), trainer=trainer).fit(data, outs, seed=0)
    refined = torch.log_softmax(method.refiner.predict(data), -1)
    assert torch.allclose(method.extras(data, outs)["teacher_logits"], refined)
    assert not torch.allclose(refined, torch.log_softmax(outs.logits, -1))  # not the raw teacher
    assert method.refiner.history_.best.val_acc == max(r.val_acc for r in method.refiner.history_.epochs)
    assert method.predict(data).shape == (data.num_nodes, 3) and not method.student.uses_graph


def test_without_refiner_it_is_soft_labels_alone(trained):
    data, outs = trained
    method = RefinedKD(MLP(16, 32, 3), trainer=Trainer(epochs=3, patience=None, progress=False))
    assert torch.equal(method.extras(data, outs)["teacher_logits"], outs.logits)
    with pytest.raises(ValueError, match="refiner must be a graphkd.distill.CPF or None"):
        RefinedKD(MLP(16, 32, 3), refiner="plp")


def test_recipe_builds_the_refiner_from_its_params():
    data = load("csbm")
    recipe = get_recipe("graphkd", "cpf-cora")
    method = RefinedKD.from_recipe(recipe, data)
    assert method.refiner.student.num_layers == 8 and method.refiner.trainer.lr == 0.001
    assert method.positional is None and method.rsd_weight == 0 and method.adv_eps == 0
    assert RefinedKD.from_recipe(recipe.override(refine_layers=0), data).refiner is None
    assert method.refiner.restarts == recipe.params["refine_restarts"]
    assert RefinedKD.from_recipe(recipe.override(refine_restarts=2), data).refiner.restarts == 2
    with pytest.raises(ValueError, match="refine_restarts must be a positive integer, got 0"):
        RefinedKD.check_recipe(recipe.override(refine_restarts=0))


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_protocol_runs_the_graphkd_recipe(setting):
    recipe = get_recipe("graphkd", "csbm").override(
        **{"teacher.epochs": 5, "student.epochs": 3, "baseline.epochs": 3, "refine_epochs": 3, "refine_layers": 2}
    )
    rows = run_distillation("csbm", [0], method="graphkd", recipe=recipe, setting=setting, timing_repeats=0)
    assert [r.model for r in rows] == ["sage", "mlp", "graphkd"]
    student = rows[-1]
    assert student.epochs_run == 3 and 0 <= student.best_epoch < 3
    assert all(0.0 <= acc <= 1.0 for r in rows for acc in (r.train_acc, r.val_acc, r.test_acc))
    if setting == "inductive":
        assert 0.0 <= student.test_ind_acc <= 1.0
        assert student.test_prod_acc == pytest.approx(0.8 * student.test_acc + 0.2 * student.test_ind_acc)
    else:
        assert student.test_ind_acc is None and student.test_prod_acc is None


@pytest.mark.data
def test_quality_floor_on_real_cora(real_cora_teacher):
    data, teacher, baseline = real_cora_teacher
    recipe = get_recipe("graphkd", "cpf-cora")
    torch.manual_seed(0)
    method = RefinedKD.from_recipe(recipe, data, Trainer(**recipe.student.trainer_kwargs(), progress=False))
    method.fit(data, TeacherOutputs.compute(teacher, data), seed=0)
    acc = evaluate(method.student, data)["test"]
    assert acc >= baseline + 0.15, (acc, baseline)


def test_the_refiner_trains_each_of_its_restarts(trained, monkeypatch):
    data, outs = trained
    resets = []
    reset = PLP.reset_parameters
    monkeypatch.setattr(PLP, "reset_parameters", lambda self: (resets.append(1), reset(self))[1])
    ref = refiner(data, epochs=5)
    ref.restarts = 3
    method = RefinedKD(MLP(16, 32, 3), ref, trainer=Trainer(epochs=3, patience=None, progress=False))
    method.fit(data, outs, seed=0)
    assert len(resets) == 2 and len(ref.restart_val_) == 3
    assert ref.history_.best.val_acc == max(ref.restart_val_)
