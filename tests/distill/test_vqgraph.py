import dataclasses
import hashlib

import pytest
import torch
import torch.nn.functional as F

from graphkd.datasets import load
from graphkd.distill import TeacherOutputs
from graphkd.distill.vqgraph import VQGraph, soft_token_loss
from graphkd.eval import evaluate
from graphkd.nn import MLP, VQSAGE, GraphSAGE, build_model
from graphkd.recipes import ModelSpec, Recipe
from graphkd.train import Batch, Trainer


@pytest.fixture(scope="module")
def trained():
    data = load("csbm", num_nodes=500, num_classes=4, num_features=16, feature_noise=3.0)
    torch.manual_seed(0)
    teacher = VQSAGE(16, 32, 4, codebook_size=64, aggregator="gcn")
    Trainer(epochs=25, patience=None, progress=False).fit(teacher, data, seed=0)
    return data, teacher, TeacherOutputs.compute(teacher, data, hidden_layers=[0])


def vqgraph(epochs: int = 20, **kwargs) -> VQGraph:
    return VQGraph(MLP(16, 32, 4), trainer=Trainer(epochs=epochs, patience=None, progress=False), **kwargs)


def test_token_loss_is_zero_when_the_similarities_agree():
    torch.manual_seed(0)
    codebook, h = torch.randn(50, 8), torch.randn(20, 8)
    assert float(soft_token_loss(h, h, codebook, 0.1)) == pytest.approx(0.0, abs=1e-6)
    assert float(soft_token_loss(3 * h, h, codebook, 0.5)) == pytest.approx(0.0, abs=1e-6)  # cosine: scale-free
    other = torch.randn(20, 8, requires_grad=True)
    loss = soft_token_loss(other, h, codebook, 0.5)
    loss.backward()
    assert loss > 0 and other.grad is not None
    r_t = F.normalize(h, dim=-1) @ F.normalize(codebook, dim=-1).t()
    r_s = F.normalize(other.detach(), dim=-1) @ F.normalize(codebook, dim=-1).t()
    p_t = F.softmax(r_t / 0.5, -1)
    expect = (p_t * (p_t.log() - F.log_softmax(r_s / 0.5, -1))).sum(-1).mean() * 0.25
    assert torch.allclose(loss, expect, atol=1e-6)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        soft_token_loss(h, h, codebook, 0.0)
    with pytest.raises(ValueError, match="must have one shape"):
        soft_token_loss(h[:, :4], h, codebook)


def test_teacher_outputs_carry_the_codebook_through_save_and_load(trained, tmp_path):
    data, teacher, outs = trained
    codebook = outs.extra("codebook")
    assert torch.equal(codebook, teacher.quantizer.codebook.cpu()) and outs.hidden[0].shape == (data.num_nodes, 32)
    back = TeacherOutputs.load(outs.save(tmp_path / "t.pt"), data)
    assert torch.equal(back.extra("codebook"), codebook) and back.digest() == outs.digest()
    mapped = TeacherOutputs.load(outs.save_mmap(tmp_path / "mm"), data)
    assert torch.equal(mapped.extra("codebook"), codebook) and mapped.digest() == outs.digest()
    assert torch.equal(mapped.hidden[0], outs.hidden[0]) and len(mapped.hidden) == 1
    changed = dataclasses.replace(outs, extras={"codebook": codebook.roll(1, 0)})
    assert changed.digest() != outs.digest()
    plain = dataclasses.replace(outs, extras=None)
    assert plain.digest() != outs.digest()
    old = hashlib.sha256()  # outputs without extras keep the digest of graphkd before extras existed
    for t in [plain.logits, *plain.hidden]:
        old.update(f"{tuple(t.shape)}".encode())
        old.update(t.contiguous().numpy().tobytes())
    assert plain.digest() == old.hexdigest()[:32]
    with pytest.raises(ValueError, match="carry no 'codebook'"):
        plain.extra("codebook")
    # a corrupted codebook is refused on load
    (tmp_path / "nan").mkdir()
    dataclasses.replace(outs, extras={"codebook": codebook * float("nan")}).save(tmp_path / "nan" / "t.pt")
    with pytest.raises(ValueError, match="extra 'codebook'"):
        TeacherOutputs.load(tmp_path / "nan" / "t.pt")
    with pytest.raises(ValueError, match="extras key 'code book'"):
        TeacherOutputs(outs.logits, outs.meta, extras={"code book": codebook})


def test_fit_logs_both_terms_and_trains_the_projection(trained):
    data, _, outs = trained
    method = vqgraph(token_weight=1.0, token_temperature=0.2)
    assert method.teacher_layers() == [0] and method.student_layer == 0
    method.fit(data, outs, seed=0)
    assert set(method.history_.epochs[-1].terms) == {"kd", "token"}
    assert method.trainable_modules() == [method.projection_]
    assert method.history_.best.val_acc == max(r.val_acc for r in method.history_.epochs)  # chosen on validation
    assert evaluate(method.student, data)["test"] > 0.5


def test_token_weight_zero_is_glnn(trained):
    data, _, outs = trained
    method = vqgraph(token_weight=0.0).fit(data, outs, seed=0)
    assert set(method.history_.epochs[-1].terms) == {"kd"} and method.teacher_layers() == []
    assert method.trainable_modules() == []
    no_extras = dataclasses.replace(outs, extras=None, hidden=None, meta={**outs.meta, "hidden_layers": None})
    vqgraph(epochs=2, token_weight=0.0).fit(data, no_extras, seed=0)  # needs neither codebook nor hidden layer


def test_token_loss_is_computed_per_batch(trained):
    data, _, outs = trained
    method = vqgraph(token_weight=1.0)
    method.prepare(data, outs)
    idx = torch.arange(0, 100)
    batch = Batch(
        data.x[idx],
        None,
        data.y[idx],
        data.train_mask[idx],
        n_id=idx,
        extras={"teacher_logits": outs.logits[idx], "teacher_hidden": outs.hidden[0][idx]},
    )
    _, terms = method.loss(method.student, batch)
    _, hidden = method.student(batch.x, return_hidden=True)
    t = method.token_temperature
    expect = soft_token_loss(method.projection_(hidden[0]), outs.hidden[0][idx], outs.extra("codebook"), t)
    assert torch.allclose(terms["token"], expect, atol=1e-6)


def test_mismatched_or_missing_teacher_signals_raise(trained):
    data, _, outs = trained
    wrong = dataclasses.replace(outs, extras={"codebook": torch.randn(10, 7)})
    with pytest.raises(ValueError, match=r"codebook \[10, 7\] and the teacher's layer 0 \[500, 32\] must have one"):
        vqgraph().fit(data, wrong)
    plain = TeacherOutputs.compute(GraphSAGE(16, 32, 4), data, hidden_layers=[0])
    with pytest.raises(ValueError, match="carry no 'codebook'"):
        vqgraph().fit(data, plain)
    no_hidden = TeacherOutputs.compute(VQSAGE(16, 32, 4, codebook_size=8), data)
    with pytest.raises(ValueError, match="teacher layer 0 was not kept"):
        vqgraph().fit(data, no_hidden)
    dead = dataclasses.replace(outs, hidden=[torch.zeros_like(outs.hidden[0])])  # a tokenizer whose layer died
    with pytest.warns(UserWarning, match=r"100% of the teacher's layer-0 embeddings are zero.*teacher.norm=batch"):
        vqgraph(epochs=1).fit(data, dead)
    with pytest.raises(ValueError, match="token_weight must be a finite number >= 0"):
        vqgraph(token_weight=-1)
    with pytest.raises(ValueError, match="token_temperature must be a finite number > 0"):
        vqgraph(token_temperature=0)
    with pytest.raises(ValueError, match="student_layer=1 is not a hidden layer"):
        vqgraph(student_layer=1)


def test_recipe_parameters_are_checked():
    data = load("csbm")
    teacher = ModelSpec("vq-sage", 32, options={"codebook_size": 16})
    recipe = Recipe("vqgraph", "csbm", teacher, ModelSpec("mlp", 32), params={"token_weight": 2.0})
    method = VQGraph.from_recipe(recipe, data)
    assert method.token_weight == 2.0 and method.student.hidden_channels == 32
    with pytest.raises(ValueError, match=r"Unknown VQGraph recipe parameter\(s\) \['token_wieght'\]"):
        VQGraph.from_recipe(dataclasses.replace(recipe, params={"token_wieght": 1.0}), data)


@pytest.mark.data
def test_cpf_cora_vqgraph_beats_plain_mlp_by_15_points(data_root):
    data = load("cpf-cora", root=data_root, seed=0)
    torch.manual_seed(0)
    teacher = build_model("vq-sage", data.num_features, data.num_classes, 128, dropout=0.8, aggregator="gcn")
    Trainer(weight_decay=1e-3, patience=50, progress=False).fit(teacher, data, seed=0)
    outputs = TeacherOutputs.compute(teacher, data, hidden_layers=[0])
    torch.manual_seed(0)
    student = MLP(data.num_features, 128, data.num_classes, dropout=0.3)
    trainer = Trainer(weight_decay=0.0, patience=50, progress=False)
    method = VQGraph(student, trainer=trainer).fit(data, outputs, seed=0)
    torch.manual_seed(0)
    mlp = MLP(data.num_features, 128, data.num_classes, dropout=0.6)
    Trainer(epochs=200, patience=50, weight_decay=5e-3, progress=False).fit(mlp, data, seed=0)
    assert evaluate(method.student, data)["test"] >= evaluate(mlp, data)["test"] + 0.15
