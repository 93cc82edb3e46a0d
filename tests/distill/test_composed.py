import pytest
import torch

from graphkd.datasets import load
from graphkd.distill import GLNN, ComposedKD, TeacherOutputs, Term
from graphkd.losses import ContrastiveLoss, HintLoss, LSPLoss, SoftLabelLoss
from graphkd.nn import GCN, MLP, GraphSAGE
from graphkd.train import Trainer


@pytest.fixture(scope="module")
def trained():
    data = load("csbm", num_nodes=600, num_classes=4, num_features=16, feature_noise=3.0)
    teacher = GraphSAGE(16, 32, 4)
    Trainer(epochs=60, patience=None, progress=False).fit(teacher, data, seed=0)
    return data, TeacherOutputs.compute(teacher, data, hidden_layers=[0], dataset="csbm", seed=0)


def _trainer(epochs=20):
    return Trainer(epochs=epochs, patience=None, weight_decay=0, progress=False)


def test_single_soft_label_term_reproduces_glnn(trained):
    data, outs = trained
    torch.manual_seed(0)
    a = GLNN(MLP(16, 32, 4), trainer=_trainer()).fit(data, outs, seed=0)
    torch.manual_seed(0)
    b = ComposedKD(MLP(16, 32, 4), [Term("kd", SoftLabelLoss())], trainer=_trainer()).fit(data, outs, seed=0)
    assert [r.loss for r in a.history_.epochs] == pytest.approx([r.loss for r in b.history_.epochs], abs=1e-6)
    assert b.history_.epochs[0].terms.keys() == {"kd"}


def test_terms_are_logged_and_heads_are_trained(trained):
    data, outs = trained
    crd = ContrastiveLoss(32, 32, proj_channels=8, num_samples=128)
    head_before = crd.student_head.weight.detach().clone()
    kd = ComposedKD(
        MLP(16, 32, 4),
        [
            Term("kd", SoftLabelLoss()),
            Term("lsp", LSPLoss("rbf"), weight=2.0, student_layer=0, teacher_layer=0),
            Term("crd", crd, weight=0.5, student_layer=0, teacher_layer=0),
            Term("hint", HintLoss(32, 32), weight=0.1, student_layer=0, teacher_layer=0),
        ],
        trainer=_trainer(5),
    ).fit(data, outs, seed=0)
    rec = kd.history_.epochs[-1]
    assert rec.terms.keys() == {"kd", "lsp", "crd", "hint"}
    total = rec.terms["kd"] + 2.0 * rec.terms["lsp"] + 0.5 * rec.terms["crd"] + 0.1 * rec.terms["hint"]
    assert rec.loss == pytest.approx(total, rel=1e-5)
    assert not torch.equal(crd.student_head.weight.detach().cpu(), head_before)  # optimised with the student
    assert kd.student.uses_graph is False  # an MLP trained with LSP on edges still needs no graph


def test_gnn_student_with_lsp(trained):
    data, outs = trained
    kd = ComposedKD(
        GCN(16, 32, 4),
        [Term("ce", SoftLabelLoss(lam=1.0)), Term("lsp", LSPLoss(), student_layer=0, teacher_layer=0)],
        trainer=_trainer(5),
    ).fit(data, outs, seed=0)
    assert kd.history_.best_epoch >= 0 and kd.history_.epochs[0].terms["lsp"] > 0


def test_invalid_compositions(trained):
    data, outs = trained
    with pytest.raises(ValueError, match="at least one term"):
        ComposedKD(MLP(16, 8, 4), [])
    with pytest.raises(ValueError, match="distinct"):
        ComposedKD(MLP(16, 8, 4), [Term("a", SoftLabelLoss()), Term("a", SoftLabelLoss())])
    with pytest.raises(ValueError, match="student_layer=3 out of range"):
        ComposedKD(MLP(16, 8, 4), [Term("lsp", LSPLoss(), student_layer=3)])
    with pytest.raises(ValueError, match="weight must be finite"):
        ComposedKD(MLP(16, 8, 4), [Term("kd", SoftLabelLoss(), weight=float("nan"))])
    with pytest.raises(ValueError, match="reads the logits"):
        ComposedKD(MLP(16, 8, 4), [Term("kd", SoftLabelLoss(), student_layer=0)])
    logits_only = TeacherOutputs.compute(GraphSAGE(16, 32, 4), data)
    kd = ComposedKD(MLP(16, 8, 4), [Term("lsp", LSPLoss(), student_layer=0, teacher_layer=0)], trainer=_trainer(1))
    with pytest.raises(ValueError, match=r"teacher layer 0 was not kept.*hidden_layers=\[0\]"):
        kd.fit(data, logits_only)


def test_teacher_outputs_hidden_layer_lookup(trained):
    _, outs = trained
    assert outs.hidden_layer(0) is outs.hidden[0]
    assert outs.hidden_layer(-1) is outs.logits and outs.hidden_layer(1) is outs.logits
    assert outs.hidden_layer(-2) is outs.hidden[0]
    with pytest.raises(ValueError, match="out of range"):
        outs.hidden_layer(2)
