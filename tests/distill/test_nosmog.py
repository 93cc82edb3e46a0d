import dataclasses

import pytest
import torch

from graphkd.datasets import load
from graphkd.distill import NOSMOG, TeacherOutputs
from graphkd.eval import evaluate, run_distillation
from graphkd.features import PositionalFeatures
from graphkd.nn import MLP, GraphSAGE
from graphkd.recipes import get_recipe
from graphkd.train import Batch, Trainer

POS = {"walk_length": 10, "walks_per_node": 2}


@pytest.fixture(scope="module")
def trained():
    data = load("csbm", num_nodes=600, num_classes=4, num_features=16, feature_noise=3.0)
    torch.manual_seed(0)
    teacher = GraphSAGE(16, 32, 4)
    Trainer(epochs=60, patience=None, progress=False).fit(teacher, data, seed=0)
    return data, TeacherOutputs.compute(teacher, data, hidden_layers=[0])


def nosmog(width: int, epochs: int = 30, **kwargs) -> NOSMOG:
    trainer = Trainer(epochs=epochs, patience=None, batch_size=128, progress=False)
    return NOSMOG(MLP(width, 32, 4), trainer=trainer, **kwargs)


def test_fit_logs_every_term_and_predicts_from_features_and_positions(trained):
    data, outs = trained
    method = nosmog(16 + 8, positional=PositionalFeatures(8, **POS), rsd_kernel="cosine").fit(data, outs, seed=0)
    assert set(method.history_.epochs[-1].terms) == {"kd", "adv", "rsd"}
    assert method.predict(data).shape == (data.num_nodes, 4)
    assert method.transform(data).x.shape == (data.num_nodes, 24)
    assert method.teacher_layers() == [0] and method.trainable_modules() == [method.similarity_]
    assert method.history_.best.val_acc == max(r.val_acc for r in method.history_.epochs)  # chosen on validation


def test_without_positions_or_terms_it_is_glnn_on_batches(trained):
    data, outs = trained
    method = nosmog(16, positional=None, rsd_weight=0, adv_eps=0).fit(data, outs, seed=0)
    assert set(method.history_.epochs[-1].terms) == {"kd"} and method.teacher_layers() == []
    assert method.transform(data) is data
    assert evaluate(method.student, data)["test"] > 0.5


def test_attack_stays_in_the_ball_and_leaves_the_student_alone(trained):
    data, outs = trained
    method = nosmog(16, positional=None, adv_eps=0.3, adv_steps=3)
    batch = Batch(x=data.x[:50], edge_index=None, y=data.y[:50], mask=data.train_mask[:50])
    t = outs.logits[:50]
    delta = method._attack(method.student, batch, t, batch.y, batch.mask)
    assert delta.shape == (50, 16) and delta.abs().max() <= 0.3 + 1e-6 and not delta.requires_grad
    assert all(p.grad is None for p in method.student.parameters())
    crit = method.criterion
    clean = crit(method.student(batch.x), t, batch.y, batch.mask)
    assert crit(method.student(batch.x + delta), t, batch.y, batch.mask) > clean  # the attack raises the loss


def test_bad_configuration(trained):
    data, outs = trained
    with pytest.raises(ValueError, match="= 24 channels, but it has in_channels=16"):
        nosmog(16, positional=PositionalFeatures(8, **POS)).fit(data, outs)
    with pytest.raises(ValueError, match="adv_eps must be a finite number >= 0"):
        nosmog(16, adv_eps=-1.0)
    with pytest.raises(ValueError, match="Unknown rsd_kernel 'rbf'"):
        nosmog(16, rsd_kernel="rbf")
    with pytest.raises(ValueError, match="positional must be a PositionalFeatures"):
        nosmog(16, positional="node2vec")
    no_hidden = TeacherOutputs.compute(GraphSAGE(16, 32, 4), data)
    with pytest.raises(ValueError, match="teacher layer 0 was not kept"):
        nosmog(16, positional=None).fit(data, no_hidden)


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_protocol_runs_nosmog_from_its_recipe(setting):
    recipe = get_recipe("nosmog", "csbm").override(
        **{"teacher.epochs": 5, "student.epochs": 3, "baseline.epochs": 3, "pos_walk_length": 5}
    )
    assert recipe.params["rsd_kernel"] == "cosine"
    rows = run_distillation("csbm", [0], method="nosmog", recipe=recipe, setting=setting, timing_repeats=0)
    assert [r.model for r in rows] == ["sage", "mlp", "nosmog"]
    if setting == "inductive":
        assert rows[-1].test_ind_acc is not None and 0 <= rows[-1].test_ind_acc <= 1


@pytest.mark.data
def test_cpf_cora_nosmog_beats_plain_mlp_by_15_points(real_cora_teacher):
    data, teacher, baseline = real_cora_teacher  # NOSMOG's recipe has the GLNN recipe's teacher
    recipe = get_recipe("nosmog", "cpf-cora")
    assert recipe.teacher == get_recipe("glnn", "cpf-cora").teacher
    method = NOSMOG.from_recipe(recipe, data, Trainer(**recipe.student.trainer_kwargs(), progress=False))
    method.fit(data, TeacherOutputs.compute(teacher, data, hidden_layers=method.teacher_layers()), seed=0)
    distilled = evaluate(method.student, method.transform(data))["test"]
    assert distilled >= baseline + 0.15, (distilled, baseline)


def test_same_seed_same_student(trained):
    data, outs = trained
    states = []
    for _ in range(2):
        torch.manual_seed(1)  # the student's initial weights
        method = nosmog(16 + 8, epochs=3, positional=PositionalFeatures(8, **POS)).fit(data, outs, seed=3)
        states.append({**method.student.state_dict(), **method.similarity_.state_dict()})
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_inductive_full_graph_is_read_through_the_observed_neighbours(trained):
    from graphkd.datasets import inductive_split

    data, _ = trained
    parts = inductive_split(data, 0.2, seed=0)
    teacher = GraphSAGE(16, 32, 4)
    outs = TeacherOutputs.compute(teacher, parts.observed, hidden_layers=[0])
    method = nosmog(16 + 8, epochs=2, positional=PositionalFeatures(8, **POS))
    with pytest.raises(ValueError, match="NOSMOG is not fitted"):
        method.predict(parts.full)
    method.fit(parts.observed, outs, seed=0)
    auto = method.transform(parts.full)  # held-out nodes found through ind_test_mask
    assert torch.equal(auto.x, method.transform(parts.full, parts.observed_ids).x)
    assert torch.equal(auto.x[parts.observed_ids, 16:], method.positional.embedding_)


def test_recipe_parameters_are_checked():
    recipe = get_recipe("nosmog", "cpf-cora")
    assert recipe.to_dict()["params"]["adv_eps"] == 0.04 and "params" not in get_recipe("glnn", "cora").to_dict()
    data = load("csbm")
    with pytest.raises(ValueError, match=r"Unknown NOSMOG recipe parameter\(s\) \['pos_walks'\]"):
        NOSMOG.from_recipe(dataclasses.replace(recipe, params={**recipe.params, "pos_walks": 3}), data)
    with pytest.raises(ValueError, match="pos_dim must be a non-negative integer"):
        NOSMOG.from_recipe(recipe.override(pos_dim=True), data)
    assert NOSMOG.from_recipe(recipe.override(pos_dim=0), data).positional is None
    assert NOSMOG.from_recipe(recipe, data).student.in_channels == data.num_features + 64
    # DeepWalk's trainer is a recipe parameter too, checked when the distiller is built
    gensim = dataclasses.replace(recipe, params={**recipe.params, "pos_backend": "gensim"})
    assert NOSMOG.from_recipe(gensim, data).positional.deepwalk_kwargs["backend"] == "gensim"
    with pytest.raises(ValueError, match="Unknown DeepWalk backend 'w2v'"):
        NOSMOG.from_recipe(dataclasses.replace(recipe, params={**recipe.params, "pos_backend": "w2v"}), data)
