import pytest
import torch

from graphkd.datasets import inductive_split, load
from graphkd.distill import GLNN, TeacherOutputs
from graphkd.eval import evaluate, run_distillation, summarize
from graphkd.nn import MLP, GraphSAGE
from graphkd.train import Trainer


@pytest.fixture(scope="module")
def trained():
    data = load("csbm", num_nodes=800, num_classes=4, num_features=16, feature_noise=3.0)
    torch.manual_seed(0)
    teacher = GraphSAGE(16, 32, 4)
    Trainer(epochs=100, patience=None, progress=False).fit(teacher, data, seed=0)
    return data, teacher, TeacherOutputs.compute(teacher, data, dataset="csbm", seed=0)


def test_glnn_student_learns_from_teacher(trained):
    data, teacher, outs = trained
    torch.manual_seed(0)
    glnn = GLNN(MLP(16, 64, 4), trainer=Trainer(epochs=150, patience=None, weight_decay=0, progress=False))
    assert glnn.fit(data, outs, seed=0) is glnn
    student = evaluate(glnn.student, data)["test"]
    torch.manual_seed(0)
    mlp = MLP(16, 64, 4)
    Trainer(epochs=150, patience=None, weight_decay=0, progress=False).fit(mlp, data, seed=0)
    assert student > evaluate(mlp, data)["test"] + 0.05
    assert glnn.history_.best.val_acc == max(r.val_acc for r in glnn.history_.epochs)  # chosen on validation
    assert repr(glnn) == "GLNN(lam=0.0, temperature=1.0)"


def test_student_reaches_teacher_on_its_own_soft_labels(trained):
    data, _, outs = trained
    trainer = Trainer(epochs=150, patience=None, weight_decay=0, progress=False)
    glnn = GLNN(MLP(16, 64, 4), trainer=trainer).fit(data, outs, seed=0)
    pred = glnn.predict(data)
    assert pred.shape == (data.num_nodes, 4)
    mlp = MLP(16, 64, 4)
    trainer.fit(mlp, data, seed=0)  # the same MLP on the labels alone
    teacher = outs.logits.argmax(-1)
    agree = float((pred.argmax(-1) == teacher).float().mean())
    alone = float((mlp.eval()(data.x).argmax(-1) == teacher).float().mean())
    # the soft labels of every node make it imitate the teacher far beyond what the labels do
    assert agree > 0.75 and agree > alone + 0.15, (agree, alone)  # 0.78 vs 0.61


def test_glnn_rejects_mismatched_teacher(trained):
    data, _, outs = trained
    with pytest.raises(ValueError, match="teacher has 4 classes but the student has out_channels=3"):
        GLNN(MLP(16, 8, 3)).fit(data, outs)
    other = load("csbm", num_nodes=800, num_classes=4, num_features=16, graph_seed=3)
    with pytest.raises(ValueError, match="computed on another graph|other features or another node order"):
        GLNN(MLP(16, 8, 4)).fit(other, outs)
    with pytest.raises(ValueError, match="teacher_outputs must be a graphkd.distill.TeacherOutputs, got Tensor"):
        GLNN(MLP(16, 8, 4)).fit(data, outs.logits)
    bad = data.clone()
    bad.x = bad.x.clone()
    bad.x[5, 0] = float("nan")
    with pytest.raises(ValueError, match="data.x has 1 NaN/Inf entries"):
        GLNN(MLP(16, 8, 4)).fit(bad, outs)


def test_inductive_split_leaks_nothing():
    data = load("csbm", num_nodes=600, num_classes=3)
    parts = inductive_split(data, 0.2, seed=0)
    held = parts.full.ind_test_mask.nonzero().flatten()
    assert held.numel() == round(0.2 * int(data.test_mask.sum()))
    ids = parts.observed_ids
    assert not bool(torch.isin(ids, held).any())  # no held-out node is observed
    edges = ids[parts.observed.edge_index]  # observed edges in global ids
    assert not bool(torch.isin(edges, held).any())  # no edge touches a held-out node
    assert torch.equal(parts.observed.x, data.x[ids]) and torch.equal(parts.observed.y, data.y[ids])
    kept = set(map(tuple, data.edge_index.t().tolist()))
    assert set(map(tuple, edges.t().tolist())) <= kept
    n_kept = int((~torch.isin(data.edge_index, held).any(0)).sum())
    assert edges.size(1) == n_kept  # every edge between observed nodes survives
    assert int(parts.observed.test_mask.sum()) == int(parts.full.test_mask.sum())
    assert not bool((parts.full.test_mask & parts.full.ind_test_mask).any())
    with pytest.raises(ValueError, match=r"fraction must lie in \(0, 1\), got 1.5"):
        inductive_split(data, 1.5)


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_run_distillation_rows(setting):
    from graphkd.recipes import get_recipe

    recipe = get_recipe("glnn", "csbm").override(
        **{"teacher.epochs": 20, "student.epochs": 20, "teacher.hidden_channels": 16}
    )
    logged = []
    rows = run_distillation("csbm", [0], recipe=recipe, setting=setting, on_seed=lambda s, r: logged.append((s, r)))
    assert [r.model for r in rows] == ["sage", "mlp", "glnn"]
    assert logged == [(0, rows)]
    for r in rows:
        assert r.infer_time_s > 0
        if setting == "inductive":
            assert r.test_prod_acc == pytest.approx(0.8 * r.test_acc + 0.2 * r.test_ind_acc)
        else:
            assert r.test_ind_acc is None
    (s, *_) = summarize(rows)
    assert (s.ind_mean is None) == (setting == "transductive")
    with pytest.raises(ValueError, match="Unknown setting 'semi'"):
        run_distillation("csbm", [0], setting="semi")
    with pytest.raises(ValueError, match="Unknown method 'dkd'"):
        run_distillation("csbm", [0], method="dkd")


def test_recipe_overrides():
    from graphkd.recipes import get_recipe

    r = get_recipe("glnn", "cpf-cora")
    assert r.student.lr == 0.01 and r.student.weight_decay == 0.0 and r.teacher.options == {"aggregator": "gcn"}
    r2 = r.override(**{"student.dropout": 0.1, "teacher.heads": 2, "lam": 0.5})
    assert r2.student.dropout == 0.1 and r2.teacher.options["heads"] == 2 and r2.lam == 0.5 and r.lam == 0.0
    assert r.baseline_spec.weight_decay == 0.005 and r.override(**{"baseline.dropout": 0.2}).baseline.dropout == 0.2
    assert get_recipe("glnn", "csbm").baseline_spec is get_recipe("glnn", "csbm").student
    r3 = r.override(**{"teacher.name": "gat", "teacher.heads": 4})
    assert r3.teacher.name == "gat" and r3.teacher.options == {"heads": 4}
    with pytest.raises(ValueError, match="Unknown recipe key 'alpha'"):
        r.override(alpha=1)
    assert get_recipe("glnn", "amazon-photo").dataset == "default"


def test_recipe_per_setting(monkeypatch):
    from graphkd import recipes

    special = recipes.get_recipe("glnn", "cpf-cora").override(**{"student.dropout": 0.9})
    monkeypatch.setitem(recipes.RECIPES["glnn"], "cpf-cora:inductive", special)
    assert recipes.get_recipe("glnn", "cpf-cora", "inductive") is special
    assert recipes.get_recipe("glnn", "CPF_Cora", "inductive") is special
    assert recipes.get_recipe("glnn", "cpf-cora", "transductive").student.dropout != 0.9
    assert recipes.get_recipe("glnn", "csbm", "inductive").dataset == "default"
    with pytest.raises(ValueError, match="Unknown setting 'production'; valid choices: inductive, transductive"):
        recipes.get_recipe("glnn", "cpf-cora", "production")


def test_recipe_teacher_presets():
    from graphkd.recipes import TEACHERS, get_recipe

    r = get_recipe("glnn", "cora").with_teacher("GAT")
    assert r.teacher is TEACHERS["gat"] and r.teacher.options["heads"] == 8
    assert r.student == get_recipe("glnn", "cora").student
    with pytest.raises(ValueError, match="gcn"):
        r.with_teacher("transformer")


def test_inductive_split_is_glnns_draw():
    # GLNN (utils.graph_split / idx_split): torch.manual_seed(seed), randperm over the test nodes in
    # ascending order, the first floor(rate * n) held out
    data = load("csbm", num_nodes=533, num_classes=3, train_per_class=10, val_per_class=10)
    test = data.test_mask.nonzero().flatten()
    for seed in (0, 5):
        torch.manual_seed(seed)
        held = test[torch.randperm(test.numel())[: int(0.2 * test.numel())]]
        parts = inductive_split(data, 0.2, seed)
        assert parts.ind_test_mask.nonzero().flatten().tolist() == sorted(held.tolist())
    assert int(parts.ind_test_mask.sum()) == 94  # 0.2 * 473 = 94.6: the floor, as GLNN cuts
