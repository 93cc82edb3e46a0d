import resource
import time

import pytest
import torch
import torch.nn.functional as F

from graphkd.datasets import load
from graphkd.eval import evaluate
from graphkd.nn import VQGCN, VQSAGE, VectorQuantizer, build_model
from graphkd.nn.vq import code_similarity, structure_loss
from graphkd.train import Batch, Trainer, cross_entropy_loss


def _graph(n=40, e=160, f=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, f, generator=g), torch.randint(0, n, (2, e), generator=g)


def test_assignment_is_the_argmax_of_cosine_similarity():
    torch.manual_seed(0)
    vq = VectorQuantizer(7, 5).eval()
    h = torch.randn(30, 5) * torch.rand(30, 1) * 10  # norms vary: only directions matter
    cos = F.normalize(h, dim=-1) @ F.normalize(vq.codebook, dim=-1).t()
    assert torch.equal(vq.assign(h), cos.argmax(-1))
    q, idx, _ = vq(h)
    assert torch.equal(idx, cos.argmax(-1)) and torch.equal(q, vq.codebook[idx])
    assert torch.allclose(vq.similarity(h), cos) and torch.allclose(code_similarity(h, vq.codebook), cos)
    assert torch.allclose(vq.codebook.norm(dim=-1), torch.ones(7))


def test_assignment_in_blocks_equals_one_block(monkeypatch):
    import graphkd.nn.vq as vq_module

    torch.manual_seed(0)
    vq = VectorQuantizer(50, 4)
    h = torch.randn(333, 4)
    whole = vq.assign(h)
    monkeypatch.setattr(vq_module, "_ASSIGN_BLOCK", 120)  # blocks of 2 rows
    assert torch.equal(vq.assign(h), whole)


def test_ema_moves_used_codes_toward_their_members_and_leaves_unused_ones():
    vq = VectorQuantizer(3, 2, decay=0.5)
    with torch.no_grad():
        vq.codebook.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    h = torch.tensor([[2.0, 0.4], [3.0, 1.2], [0.1, 5.0]])  # two near code 0, one near code 1, none near 2
    before = vq.codebook.clone()
    vq.train()(h)
    mean0 = F.normalize(F.normalize(h[:2], dim=-1).mean(0), dim=0)
    expect0 = F.normalize(0.5 * before[0] + 0.5 * mean0, dim=0)
    assert torch.allclose(vq.codebook[0], expect0, atol=1e-6)
    assert torch.allclose(vq.codebook[1], F.normalize(0.5 * before[1] + 0.5 * F.normalize(h[2], dim=0), dim=0))
    assert torch.equal(vq.codebook[2], before[2])  # unused
    assert (vq.codebook[0] @ F.normalize(h[1], dim=0)) > (before[0] @ F.normalize(h[1], dim=0))  # closer
    assert torch.allclose(vq.cluster_size, torch.tensor([1.0, 0.5, 0.0]))
    vq.eval()(h)  # evaluation never updates
    assert torch.allclose(vq.codebook[0], expect0, atol=1e-6)


def test_dead_codes_restart_at_batch_representations():
    torch.manual_seed(0)
    vq = VectorQuantizer(4, 3, decay=0.5, dead_code_threshold=0.1)
    h = torch.randn(1, 3).repeat(6, 1)  # every row uses one code: the others are dead
    _, idx, _ = vq.train()(h)
    dead = torch.arange(4) != idx[0]
    assert torch.allclose(vq.codebook[dead], F.normalize(h[:3], dim=-1), atol=1e-6)
    assert torch.equal(vq.cluster_size[dead], torch.ones(3))
    assert not torch.allclose(vq.codebook[idx[0]], F.normalize(h[0], dim=-1))  # used: an EMA step only


def test_straight_through_gradient_reaches_h_and_commitment():
    torch.manual_seed(0)
    vq = VectorQuantizer(5, 4, commitment_weight=0.25).train()
    h = torch.randn(8, 4, requires_grad=True)
    before = vq.codebook.clone()
    q, idx, commitment = vq(h)
    assert torch.allclose(q, before[idx], atol=1e-6)  # the value is the code (before its EMA update)
    assert torch.allclose(commitment, 0.25 * F.mse_loss(h, before[idx]))
    w = torch.randn(8, 4)
    (q * w).sum().backward()
    assert torch.allclose(h.grad, w)  # identity gradient through the quantiser
    assert vq.codebook.grad is None and not vq.codebook.requires_grad
    codes = vq.codebook.clone()
    vq.eval()
    _, _, zero = vq(codes[[0, 2, 2]])  # h equal to its code
    assert float(zero) == 0.0


def test_structure_loss_uses_edges_and_as_many_sampled_pairs():
    z = torch.randn(10, 3)
    ei = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 2, 4, 0]])  # (2, 2) is a self-loop: left out
    torch.manual_seed(5)
    loss = structure_loss(z, ei)
    torch.manual_seed(5)
    neg = torch.randint(0, 10, (2, 4))
    pos = (z[[0, 1, 3, 4]] * z[[1, 2, 4, 0]]).sum(-1)
    negs = (z[neg[0]] * z[neg[1]]).sum(-1)
    expect = torch.cat([F.softplus(-pos), F.softplus(negs)]).mean()
    assert torch.allclose(loss, expect)
    assert torch.allclose(structure_loss(torch.zeros(10, 3), ei), torch.tensor(2.0).log())
    assert float(structure_loss(z, torch.empty(2, 0, dtype=torch.long))) == 0.0


def test_structure_loss_and_model_scale_past_a_dense_adjacency():
    # 50k nodes: a dense N x N float matrix would take 10 GB
    g = torch.Generator().manual_seed(0)
    n, e = 50_000, 200_000
    x, ei = torch.randn(n, 8, generator=g), torch.randint(0, n, (2, e), generator=g)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    start = time.perf_counter()
    torch.manual_seed(0)
    model = VQSAGE(8, 16, 3, codebook_size=64).train()
    out = model(x, ei)
    loss = out.sum() * 0 + model.auxiliary_loss()
    loss.backward()
    assert time.perf_counter() - start < 20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 2_000_000  # < 2 GB more
    assert set(model.auxiliary_terms()) == {"commitment", "feature", "structure"}


@pytest.mark.parametrize("name, extra", [("vq-sage", {}), ("vq-sage", {"aggregator": "gcn"}), ("vq-gcn", {})])
@pytest.mark.parametrize("layers", [2, 3])
def test_inference_equals_eval_forward_and_exposes_the_pre_quantisation_layer(name, extra, layers):
    x, ei = _graph()
    torch.manual_seed(0)
    model = build_model(name, 6, 3, hidden_channels=16, num_layers=layers, codebook_size=20, **extra)
    model.train()
    for _ in range(3):  # a trained codebook
        model(x, ei)
    model.eval()
    out, hidden = model(x, ei, return_hidden=True)
    out2, hidden2 = model.inference(x, ei, batch_size=7, return_hidden=True)
    assert torch.allclose(out, out2, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(hidden, hidden2, strict=True))
    # hidden layer 0 is what the quantiser reads: its codes give the logits
    h = hidden[0]
    z = model.structure_decoder(model.quantizer.codebook[model.quantizer.assign(h)])
    graph = model.prepare(ei, 40)
    assert torch.equal(model.code_indices(x, ei), model.quantizer.assign(h))
    if layers == 2:
        assert torch.allclose(out, model.layers[1](z, graph.adj_t()), atol=1e-5)
    assert torch.equal(model.distillation_extras()["codebook"], model.quantizer.codebook)
    assert float(model.auxiliary_loss()) == 0.0  # an evaluation forward records nothing


def test_training_loss_adds_the_auxiliary_loss_once():
    x, ei = _graph()
    torch.manual_seed(0)
    model = VQSAGE(6, 16, 3, codebook_size=20, dropout=0.0).train()
    y = torch.randint(0, 3, (40,))
    batch = Batch(x, ei, y, torch.ones(40, dtype=torch.bool))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)  # the structure term's sampled pairs
    total = cross_entropy_loss(model, batch)
    assert float(model.auxiliary_loss()) == 0.0  # handed over already
    terms = model.auxiliary_terms()
    assert set(terms) == {"commitment", "feature", "structure"} and all(float(v) >= 0 for v in terms.values())
    total.backward()
    assert all(p.grad is not None for p in model.parameters())  # decoders learn through the auxiliary loss
    model.load_state_dict(state)  # the same step again, by hand
    torch.manual_seed(1)
    logits = model(x, ei)
    assert torch.allclose(total, F.cross_entropy(logits, y) + model.auxiliary_loss())


def test_trains_full_batch_and_on_neighbour_sampled_batches():
    data = load("csbm", num_nodes=400, num_classes=3, num_features=12, feature_noise=2.0)
    torch.manual_seed(0)
    full = VQSAGE(12, 32, 3, codebook_size=32, aggregator="gcn")
    h = Trainer(epochs=20, patience=None, progress=False).fit(full, data, seed=0)
    assert h.best.val_acc == max(r.val_acc for r in h.epochs) and evaluate(full, data)["test"] > 0.6
    torch.manual_seed(0)
    sampled = VQGCN(12, 32, 3, codebook_size=32)
    trainer = Trainer(epochs=2, patience=None, progress=False, batch_size=100, num_neighbors=[5, 5])
    before = sampled.quantizer.codebook.clone()
    trainer.fit(sampled, data, seed=0)
    assert not torch.equal(before, sampled.quantizer.codebook.cpu())  # the EMA ran on the batches
    assert evaluate(sampled, data)["test"] > 0.5


def test_copies_and_pickles_leave_the_step_behind():
    import copy

    x, ei = _graph()
    model = VQSAGE(6, 8, 3, codebook_size=10).train()
    model(x, ei)  # records an auxiliary loss (part of an autograd graph)
    clone = copy.deepcopy(model)
    assert "_aux" not in clone.__dict__ and "_aux" in model.__dict__
    assert torch.equal(clone.quantizer.codebook, model.quantizer.codebook)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: VQSAGE(6, 8, 3, num_layers=1), "VQSAGE needs num_layers >= 2"),
        (lambda: VQSAGE(6, 8, 3, codebook_size=0), "num_codes must be a positive integer, got 0"),
        (lambda: VQSAGE(6, 8, 3, decay=1.0), r"decay must lie in \[0, 1\), got 1.0"),
        (lambda: VQGCN(6, 8, 3, structure_weight=-1), "structure_weight must be a finite number >= 0"),
        (lambda: VQSAGE(6, 8, 3, aggregator="max"), "Unknown aggregator 'max'"),
        (lambda: build_model("vq-gcn", 6, 3, aggregator="gcn"), "invalid argument for model 'vq-gcn'"),
    ],
)
def test_bad_configuration(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"VectorQuantizer expects h of shape \[N, 4\], got \[3, 5\]"):
        VectorQuantizer(6, 4)(torch.randn(3, 5))
    with pytest.raises(ValueError, match="one width D"):
        code_similarity(torch.randn(3, 5), torch.randn(6, 4))
