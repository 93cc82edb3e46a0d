import numpy as np
import pytest
import torch

from graphkd.datasets import load
from graphkd.distill import GLNN, ComposedKD, TeacherOutputs, Term
from graphkd.eval import evaluate
from graphkd.losses import LSPLoss, SoftLabelLoss
from graphkd.nn import MLP, GraphSAGE
from graphkd.train import FullBatch, NodeBatches, SampledBatches, Trainer, gather_rows


@pytest.fixture(scope="module")
def graph():
    return load("csbm", num_nodes=600, num_classes=3, num_features=16, feature_noise=3.0)


def test_node_batches_cover_each_node_once_with_aligned_extras(graph, tmp_path):
    logits = torch.randn(graph.num_nodes, 3)
    mm = np.lib.format.open_memmap(tmp_path / "t.npy", mode="w+", dtype=np.float32, shape=(graph.num_nodes, 3))
    mm[:] = logits.numpy()
    torch.manual_seed(0)
    batches = list(NodeBatches(graph, 128, extras={"t": logits, "mm": mm}))
    assert len(batches) == 5 and all(b.edge_index is None for b in batches)
    ids = torch.cat([b.n_id for b in batches])
    assert torch.equal(ids.sort().values, torch.arange(graph.num_nodes))
    for b in batches:
        assert torch.equal(b.x, graph.x[b.n_id]) and torch.equal(b.mask, graph.train_mask[b.n_id])
        assert torch.equal(b.extras["t"], logits[b.n_id]) and torch.equal(b.extras["mm"], logits[b.n_id])
    assert torch.equal(gather_rows(mm, torch.tensor([5, 2])), logits[[5, 2]])


def test_sampled_batches_mark_the_seeds(graph):
    t = torch.randn(graph.num_nodes, 3)
    source = SampledBatches.from_data(graph, [4, 4], 100, graph.train_mask, extras={"t": t}, backend="graphkd", seed=0)
    seen = []
    for b in source:
        n = b.num_targets
        assert torch.equal(b.extras["seed_mask"], torch.arange(b.x.size(0)) < n)
        assert torch.equal(b.mask, graph.train_mask[b.n_id] & b.extras["seed_mask"])
        assert torch.equal(b.extras["t"], t[b.n_id]) and b.targets(b.y).numel() == n
        seen.append(b.n_id[:n])
    assert torch.equal(torch.cat(seen).sort().values, graph.train_mask.nonzero().flatten())


def test_full_neighbourhood_batch_of_every_node_gives_the_full_batch_loss(graph):
    # one sampled batch holding every node as a seed, with full fan-out, is the whole graph
    torch.manual_seed(0)
    student = MLP(16, 8, 3)
    kd = ComposedKD(student, [Term("kd", SoftLabelLoss(lam=0.3)), Term("lsp", LSPLoss(), 1.0, 0, 0)])
    extras = {"teacher_logits": torch.randn(graph.num_nodes, 3), "teacher_hidden_0": torch.randn(graph.num_nodes, 8)}
    full = next(iter(FullBatch(graph, extras=extras)))
    sampled = next(
        iter(SampledBatches.from_data(graph, [-1], graph.num_nodes, extras=extras, backend="graphkd", shuffle=False))
    )
    assert sampled.num_targets == graph.num_nodes
    student.eval()
    total_full, terms_full = kd.loss(student, full)
    # rows are relabelled (seeds first = every node in order), so the sampled batch is the graph
    total_s, terms_s = kd.loss(student, sampled)
    assert torch.allclose(total_full, total_s, atol=1e-6)
    assert all(torch.allclose(terms_full[k], terms_s[k], atol=1e-6) for k in terms_full)


def test_sampled_training_of_a_gnn_and_mini_batch_distillation(graph):
    torch.manual_seed(0)
    full = GraphSAGE(16, 32, 3)
    Trainer(epochs=30, patience=None, progress=False).fit(full, graph, seed=0)
    teacher = GraphSAGE(16, 32, 3)
    trainer = Trainer(epochs=30, patience=None, progress=False, batch_size=16, num_neighbors=[5, 5], sampler="graphkd")
    history = trainer.fit(teacher, graph, seed=0)
    assert len(history.epochs) == 30
    # 60 training nodes: 4 sampled batches per epoch; as accurate as full-batch training (0.87 here)
    assert evaluate(teacher, graph)["test"] >= evaluate(full, graph)["test"] - 0.03
    outputs = TeacherOutputs.compute(teacher, graph)
    accs = []
    for batch_size in (None, 128):  # full-batch, then graph-free batches of 128 nodes
        torch.manual_seed(0)
        trainer = Trainer(epochs=30, patience=None, progress=False, batch_size=batch_size)
        glnn = GLNN(MLP(16, 32, 3), trainer=trainer).fit(graph, outputs, seed=0)
        accs.append(evaluate(glnn.student, graph)["test"])
    assert accs[1] >= accs[0] - 0.03
    # LSP needs the sampled edges: an MLP student over neighbour-sampled subgraphs
    outputs = TeacherOutputs.compute(teacher, graph, hidden_layers=[0])
    kd = ComposedKD(
        MLP(16, 32, 3),
        [Term("kd", SoftLabelLoss()), Term("lsp", LSPLoss(), 1.0, 0, 0)],
        trainer=Trainer(epochs=5, patience=None, progress=False, batch_size=128, num_neighbors=[5]),
    ).fit(graph, outputs, seed=0)
    assert set(kd.history_.epochs[-1].terms) == {"kd", "lsp"}


def test_invalid_mini_batch_settings_raise(graph):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        Trainer(batch_size=0)
    with pytest.raises(ValueError, match="num_neighbors needs batch_size"):
        Trainer(num_neighbors=[5])
    with pytest.raises(ValueError, match="Unknown sampler backend"):
        Trainer(batch_size=8, num_neighbors=[5], sampler="dgl")
    with pytest.raises(ValueError, match="GraphSAGE needs a graph in every batch"):
        Trainer(batch_size=8, progress=False).fit(GraphSAGE(16, 8, 3), graph)
    with pytest.raises(ValueError, match="no nodes"):
        NodeBatches(graph, 8, torch.zeros(graph.num_nodes, dtype=torch.bool))
    with pytest.raises(ValueError, match="extra 't' has 3 rows"):
        NodeBatches(graph, 8, extras={"t": torch.zeros(3, 2)})


def test_batches_without_labelled_nodes_give_a_zero_hard_label_term(graph):
    # lam > 0 and node batches where most batches hold no training node: no NaN
    outputs = TeacherOutputs.compute(GraphSAGE(16, 8, 3).eval(), graph)
    few = graph.clone()
    labelled = few.train_mask.nonzero().flatten()
    few.train_mask[labelled[3:]] = False  # 3 labelled nodes left
    trainer = Trainer(epochs=2, patience=None, progress=False, batch_size=16)
    glnn = GLNN(MLP(16, 8, 3), lam=0.5, trainer=trainer).fit(few, outputs, seed=0)
    assert all(torch.isfinite(torch.tensor(r.loss)) for r in glnn.history_.epochs)


def test_node_batches_reject_nodes_outside_the_graph(graph):
    with pytest.raises(ValueError, match="nodes must lie in 0..599"):
        NodeBatches(graph, 8, torch.tensor([0, 600]))
