import copy

import pytest
import torch
from torch_geometric.utils import add_self_loops, remove_self_loops

from graphkd.deploy.latency import gnn_predictor
from graphkd.eval import predict
from graphkd.nn import PLP, plp_inputs
from graphkd.nn.plp import _dropout


def inputs(data, rows=None):
    train = data.train_mask.nonzero().flatten()
    rows = torch.arange(data.num_nodes) if rows is None else rows
    return plp_inputs(data.x, 2, train, data.y[train], rows)


def reference(model, x, edge_index):
    """CPF's forward in evaluation mode with a dense adjacency, step by step."""
    f, c = model.num_features, model.out_channels
    feat, prior, clamp, rows = x[:, :f], x[:, f : f + c], x[:, f + c] > 0.5, x[:, -1].long()
    n = x.size(0)
    adj = torch.eye(n, dtype=torch.bool)
    adj[edge_index[1], edge_index[0]] = True  # adj[v, u]: u sends to v
    conf = feat @ model.attention.view(-1)
    w = torch.softmax(conf.expand(n, n).masked_fill(~adj, float("-inf")), dim=1)
    first, second = model.ft
    ft = second(torch.relu(first(feat)))
    beta = torch.where(rows >= 0, model.beta[rows.clamp_min(0)], model.beta.mean())
    alpha = torch.sigmoid(beta).view(-1, 1)
    h = prior
    for _ in range(model.num_layers):
        h = torch.relu(alpha * (w @ h) + (1 - alpha) * ft)
        h = torch.where(clamp.view(-1, 1), prior, h)
    return h


@pytest.fixture
def model(tiny_graph):
    torch.manual_seed(0)
    m = PLP(4, 8, 2, tiny_graph.num_nodes, num_layers=3, dropout=0.5, attention_dropout=0.3).eval()
    with torch.no_grad():
        m.beta.uniform_(-2, 2)
    return m


def test_inputs_layout(tiny_graph):
    x = inputs(tiny_graph)
    assert x.shape == (6, 4 + 2 + 2)
    assert torch.equal(x[:, :4], tiny_graph.x)
    assert torch.equal(x[:, 4:6], torch.tensor([[1.0, 0], [0.5, 0.5], [0.5, 0.5], [0, 1], [0.5, 0.5], [0.5, 0.5]]))
    assert x[:, 6].tolist() == [1, 0, 0, 1, 0, 0] and x[:, 7].tolist() == list(range(6))


def test_forward_matches_dense_reference_and_inference(model, tiny_graph):
    x = inputs(tiny_graph)
    out, hidden = model(x, tiny_graph.edge_index, return_hidden=True)
    assert torch.allclose(out, reference(model, x, tiny_graph.edge_index), atol=1e-6)
    assert len(hidden) == 3 and hidden[-1] is out and bool((out >= 0).all())
    assert torch.allclose(model.inference(x, tiny_graph.edge_index, batch_size=2), out, atol=1e-6)
    graph = tiny_graph.clone()
    graph.x = x
    assert torch.allclose(predict(model, graph), out, atol=1e-6)


def test_training_nodes_output_their_one_hot_label(model, tiny_graph):
    x = inputs(tiny_graph)
    for mode in (True, False):
        out = model.train(mode)(x, tiny_graph.edge_index)
        assert torch.equal(out[[0, 3]], torch.tensor([[1.0, 0.0], [0.0, 1.0]]))


def test_beta_extremes_give_pure_transformation_or_pure_propagation(model, tiny_graph):
    x = inputs(tiny_graph)
    unlabelled = ~tiny_graph.train_mask
    with torch.no_grad():
        model.beta.fill_(-1e4)  # alpha = 0: the FT MLP's output through the ReLU
    first, second = model.ft
    ft = torch.relu(second(torch.relu(first(tiny_graph.x))))
    assert torch.allclose(model(x, tiny_graph.edge_index)[unlabelled], ft[unlabelled], atol=1e-6)
    with torch.no_grad():
        model.beta.fill_(1e4)  # alpha = 1: label propagation alone, rows stay distributions
    out = model(x, tiny_graph.edge_index)
    with torch.no_grad():
        for p in model.ft.parameters():
            p.mul_(-3.0)
    assert torch.equal(model(x, tiny_graph.edge_index), out)  # the FT MLP no longer counts
    assert torch.allclose(out.sum(1), torch.ones(6), atol=1e-5)  # mixtures of the prior's rows
    assert bool((out[unlabelled] > 0).all())
    assert torch.allclose(out, reference(model, x, tiny_graph.edge_index), atol=1e-6)


def test_edge_softmax_rows_sum_to_one_over_neighbours_and_self(model, tiny_graph):
    # duplicate edges and an existing self-loop are merged into one self-loop per node
    ei = torch.cat([tiny_graph.edge_index, torch.tensor([[0, 1, 2], [1, 0, 2]])], dim=1)
    prepared = model.prepare(ei, 6)
    expected, _ = add_self_loops(remove_self_loops(tiny_graph.edge_index)[0], num_nodes=6)
    assert prepared.size(1) == expected.size(1) == 12 + 6
    w = model.edge_weights(torch.randn(6), prepared, 6)
    sums = torch.zeros(6).index_add_(0, prepared[1], w)
    assert torch.allclose(sums, torch.ones(6))
    model.train()
    torch.manual_seed(0)
    dropped = model.edge_weights(torch.randn(6), prepared, 6)
    assert bool((dropped == 0).any())  # attention dropout in training


def test_unseen_nodes_get_the_fallback(model, tiny_graph):
    rows = torch.tensor([0, 1, 2, 3, -1, -1])
    assert torch.allclose(model.alpha(rows)[4:], torch.sigmoid(model.beta.mean()).expand(2))
    x = inputs(tiny_graph, rows)
    assert torch.allclose(model(x, tiny_graph.edge_index), reference(model, x, tiny_graph.edge_index), atol=1e-6)
    zero = PLP(4, 8, 2, 6, unseen="zero")
    assert torch.equal(zero.alpha(rows)[4:], torch.full((2,), 0.5))


@pytest.mark.parametrize("density", [0.05, 0.3])  # multiplied as CSR, and scattered back
def test_dropout_on_the_non_zeros_is_dense_dropout_there(density):
    torch.manual_seed(0)
    feat = (torch.rand(200, 50) < density).float() * torch.rand(200, 50)
    model = PLP(50, 8, 3, 200, dropout=0.5).train()
    nz = model.nonzeros(feat)
    assert nz is not None and nz.values.numel() == int(feat.count_nonzero()) and nz.sparse == (density < 0.1)
    assert torch.equal(nz.values, feat[feat != 0])  # row-major order
    torch.manual_seed(1)
    dense = model._dropped(feat, nz)
    assert bool((dense[feat == 0] == 0).all())
    kept = dense[feat != 0] != 0
    assert torch.allclose(dense[feat != 0][kept], 2 * feat[feat != 0][kept])
    assert 0.4 < float(kept.float().mean()) < 0.6
    for columns in (8, 1):  # the FT layer's product, the confidence's
        w = torch.randn(50, columns, requires_grad=True)
        torch.manual_seed(1)  # the same draw as `dense`
        out = model._dropped_matmul(feat, nz, w)
        assert torch.allclose(out, dense @ w, atol=1e-5)
        (got,) = torch.autograd.grad(out.pow(2).sum(), w)
        (want,) = torch.autograd.grad((dense @ w).pow(2).sum(), w)
        assert torch.allclose(got, want, atol=1e-4)
    assert model.nonzeros(torch.randn(200, 50)) is None  # dense features: dense dropout
    assert model.nonzeros(feat.clone().requires_grad_()) is None
    assert model.eval().nonzeros(feat) is None


def test_dropout_keeps_with_probability_one_minus_p_and_rescales():
    torch.manual_seed(0)
    out = _dropout(torch.ones(100_000), 0.3, True)
    assert out.unique().tolist() == pytest.approx([0.0, 1 / 0.7])
    assert 0.69 < float((out != 0).float().mean()) < 0.71
    x = torch.randn(10)
    assert _dropout(x, 0.3, False) is x and _dropout(x, 0.0, True) is x


def test_training_gradients_equal_the_dense_reference(tiny_graph):
    # without dropout a training step is deterministic: the CSR products and their backward
    # must give the dense computation's gradients
    torch.manual_seed(0)
    model = PLP(4, 8, 2, tiny_graph.num_nodes, num_layers=3, dropout=0.0, attention_dropout=0.0).train()
    with torch.no_grad():
        model.beta.uniform_(-2, 2)
    x = inputs(tiny_graph)
    out = model(x, tiny_graph.edge_index)
    expected = reference(model, x, tiny_graph.edge_index)
    assert torch.allclose(out, expected, atol=1e-6)
    weights = torch.randn_like(out)
    params = list(model.parameters())
    got = torch.autograd.grad((out * weights).sum(), params)
    want = torch.autograd.grad((expected * weights).sum(), params)
    assert all(torch.allclose(g, w, atol=1e-5) for g, w in zip(got, want, strict=True))


def test_a_step_reuses_what_it_derives_from_the_same_inputs_and_rereads_modified_ones(model, tiny_graph):
    x, edge_index = inputs(tiny_graph), tiny_graph.edge_index.clone()
    model.train()
    assert model.adjacency(edge_index, 6) is model.adjacency(edge_index, 6)
    features = x[:, :4]
    assert model._reused_nonzeros(x, features) is model._reused_nonzeros(x, features)
    model.eval()
    before = model(x, edge_index)
    edge_index[1, 0] = (edge_index[1, 0] + 2) % 6  # in place: another graph
    after = model(x, edge_index)
    assert torch.allclose(after, model(x, edge_index.clone()), atol=1e-6)
    assert torch.allclose(after, reference(model, x, edge_index), atol=1e-6)
    assert not torch.allclose(before, after)


def test_denser_features_drop_their_non_zeros_into_a_dense_matrix():
    # 30% non-zeros (like the Amazon bag-of-words): dropout on the non-zeros, scattered back
    torch.manual_seed(0)
    feat = (torch.rand(400, 50) < 0.3).float() * torch.rand(400, 50)
    model = PLP(50, 8, 3, 400, dropout=0.8).train()
    nz = model.nonzeros(feat)
    assert nz is not None and not nz.sparse and nz.values.numel() == int(feat.count_nonzero())
    dropped = model._dropped(feat, nz)
    assert dropped.layout == torch.strided and dropped.shape == feat.shape
    assert bool((dropped[feat == 0] == 0).all())
    kept = dropped[feat != 0] != 0
    assert torch.allclose(dropped[feat != 0][kept], 5 * feat[feat != 0][kept])  # rescaled by 1 / (1 - p)
    assert 0.15 < float(kept.float().mean()) < 0.25  # kept with probability 1 - p
    # the expectation is the features themselves, as with F.dropout
    mean = torch.stack([model._dropped(feat, nz) for _ in range(400)]).mean(0)
    assert float((mean - feat).abs().max()) < 0.6 and float((mean - feat).abs().mean()) < 0.05


def test_training_is_stochastic_gradients_reach_every_parameter(model, tiny_graph):
    x = inputs(tiny_graph)
    model.train()
    torch.manual_seed(1)
    a = model(x, tiny_graph.edge_index)
    torch.manual_seed(1)
    b = model(x, tiny_graph.edge_index)
    assert torch.equal(a, b) and not torch.equal(a, model(x, tiny_graph.edge_index))
    model.zero_grad()
    a[~tiny_graph.train_mask].sum().backward()
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())


def test_a_training_step_is_bit_reproducible_on_two_cpu_threads(gradients_on_two_threads):
    # the backward of a gathered h[src] sums repeated sources in a thread-dependent order on a
    # CPU; PLP gathers with index_select, whose backward (index_add_) sums in a fixed one
    g = torch.Generator().manual_seed(0)
    n, classes = 2000, 4
    x = (torch.rand(n, 32, generator=g) < 0.3).float()
    edge_index = torch.randint(0, n, (2, 40000), generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    inputs_ = plp_inputs(x, classes, torch.arange(0, n, 10), y[::10], torch.arange(n))

    def loss_of_new_model():
        model = PLP(32, 16, classes, n, num_layers=4, dropout=0.5, attention_dropout=0.3)
        return model, model(inputs_, edge_index).pow(2).sum()

    first, *others = gradients_on_two_threads(loss_of_new_model)
    assert all(torch.equal(a, b) for other in others for a, b in zip(first, other, strict=True))


def test_tra_variant_has_a_confidence_per_node(tiny_graph):
    torch.manual_seed(0)
    model = PLP(4, 8, 2, 6, num_layers=2, variant="tra").eval()
    assert model.node_confidence.shape == (6, 1) and not hasattr(model, "attention")
    conf = model.confidence(tiny_graph.x, torch.tensor([0, 1, 2, 3, 4, -1]))
    assert torch.allclose(conf[:5], model.node_confidence.view(-1)[:5])
    assert torch.allclose(conf[5], model.node_confidence.mean())
    assert model(inputs(tiny_graph), tiny_graph.edge_index).shape == (6, 2)


@pytest.mark.parametrize("fetch", ["full", "pyg"])
def test_requests_for_a_few_nodes_equal_the_full_graph(model, tiny_graph, fetch):
    graph = tiny_graph.clone()
    graph.x = inputs(tiny_graph)
    full = predict(model, graph)
    ids = torch.tensor([2, 5])
    assert torch.allclose(gnn_predictor(model, graph, fetch=fetch).run(ids), full[ids], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_layers": 0}, "num_layers must be a positive integer, got 0"),
        ({"dropout": 1.0}, r"dropout must lie in \[0, 1\), got 1.0"),
        ({"attention_dropout": -0.1}, r"attention_dropout must lie in \[0, 1\), got -0.1"),
        ({"variant": "both"}, "Unknown PLP variant 'both'; valid choices: ind, tra"),
        ({"unseen": "max"}, "Unknown unseen-node rule 'max'; valid choices: mean, zero"),
        ({"mlp_layers": 0}, "mlp_layers must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PLP(4, 8, 2, 6, **kwargs)


def test_bad_inputs(model, tiny_graph):
    x = inputs(tiny_graph)
    with pytest.raises(ValueError, match=r"expects x of shape \[num_nodes, 8\] .* got \[6, 4\]"):
        model(tiny_graph.x, tiny_graph.edge_index)
    with pytest.raises(ValueError, match="PLP needs edge_index"):
        model(x)
    bad = x.clone()
    bad[0, -1] = 6
    with pytest.raises(ValueError, match=r"table rows must lie in -1..5"):
        model(bad, tiny_graph.edge_index)
    with pytest.raises(ValueError, match="cast with"):
        model(x.double(), tiny_graph.edge_index)
    with pytest.raises(ValueError, match="clamped labels must lie in 0..1"):
        plp_inputs(tiny_graph.x, 2, torch.tensor([0]), torch.tensor([2]), torch.arange(6))
    with pytest.raises(ValueError, match="table_index must have shape"):
        plp_inputs(tiny_graph.x, 2, torch.tensor([0]), torch.tensor([1]), torch.arange(5))
    with pytest.raises(ValueError, match="cannot be indexed exactly"):
        plp_inputs(tiny_graph.x.half(), 2, torch.tensor([0]), torch.tensor([1]), torch.tensor([0, 1, 2, 3, 4, 5000]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("density", [0.05, 0.3])  # the sparse CSR and the dense non-zero dropout paths
def test_cuda_inference_matches_cpu_and_training_reaches_every_parameter(density):
    torch.manual_seed(0)
    n, f = 80, 30
    feat = (torch.rand(n, f) < density).float() * torch.rand(n, f)
    edge_index = torch.randint(0, n, (2, 400))
    x = plp_inputs(feat, 3, torch.arange(6), torch.tensor([0, 1, 2, 0, 1, 2]), torch.arange(n))
    model = PLP(f, 8, 3, n, num_layers=3, dropout=0.5, attention_dropout=0.3)
    cpu = model.inference(x, edge_index)
    gpu = copy.deepcopy(model).cuda()
    assert torch.allclose(gpu.inference(x.cuda(), edge_index.cuda()).cpu(), cpu, atol=1e-5)
    gpu.train()
    nz = gpu.nonzeros(x.cuda()[:, :f])
    assert nz is not None and nz.sparse == (density < 0.1)
    gpu(x.cuda(), edge_index.cuda())[6:].sum().backward()
    assert all(p.grad is not None and bool(torch.isfinite(p.grad).all()) for p in gpu.parameters())


@pytest.mark.parametrize("variant", ["ind", "tra"])
def test_reset_parameters_draws_the_construction_init_again(variant):
    torch.manual_seed(0)
    model = PLP(6, 8, 3, 10, variant=variant)
    first = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    torch.manual_seed(0)
    model.reset_parameters()
    assert all(torch.equal(first[k], v) for k, v in model.state_dict().items())  # same draws, same order
    assert bool((model.beta == 0).all())
    model.reset_parameters()  # a new draw from the generator
    assert not torch.equal(model.ft[0].weight, first["ft.0.weight"])
