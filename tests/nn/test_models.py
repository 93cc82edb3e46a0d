import pytest
import torch

from graphkd.nn import APPNP, GAT, GCN, GIN, MLP, MODELS, GraphSAGE, build_model

GRAPH_MODELS = ["gcn", "sage", "gat", "gin", "appnp"]


def _graph(n=40, e=160, f=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, f, generator=g), torch.randint(0, n, (2, e), generator=g)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("layers", [1, 3])
def test_forward_shapes_and_hidden(name, layers):
    if layers < getattr(MODELS[name], "min_layers", 1):  # VQGraph's tokenizers: a layer each side of the codes
        pytest.skip(f"{name} needs at least {MODELS[name].min_layers} layers")
    x, ei = _graph()
    model = build_model(name, 6, 4, hidden_channels=16, num_layers=layers)
    out, hidden = model(x, ei, return_hidden=True)
    assert out.shape == (40, 4)
    assert len(hidden) == layers and hidden[-1] is out
    assert all(h.shape == (40, 16) for h in hidden[:-1])


VARIANTS = [(name, {}) for name in MODELS] + [("sage", {"aggregator": "gcn"}), ("gin", {"train_eps": True})]


@pytest.mark.parametrize("name, extra", VARIANTS)
@pytest.mark.parametrize("norm", [None, "batch", "layer"])
@pytest.mark.parametrize("batch_size", [7, 1000])
def test_inference_equals_forward(name, extra, norm, batch_size):
    x, ei = _graph()
    torch.manual_seed(0)
    model = build_model(name, 6, 3, hidden_channels=16, num_layers=3, norm=norm, residual=True, **extra)
    if norm == "batch":  # non-trivial running statistics
        model.train()
        for _ in range(3):
            model(x, ei)
    model.eval()
    out, hidden = model(x, ei, return_hidden=True)
    out2, hidden2 = model.inference(x, ei, batch_size=batch_size, return_hidden=True)
    assert torch.allclose(out, out2, atol=1e-5)
    for a, b in zip(hidden, hidden2, strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_inference_keeps_training_mode():
    x, ei = _graph()
    model = GCN(6, 8, 3).train()
    model.inference(x, ei)
    assert model.training


def test_mlp_ignores_graph():
    x, ei = _graph()
    mlp = MLP(6, 8, 3).eval()
    assert torch.equal(mlp(x), mlp(x, ei))
    assert torch.allclose(mlp.inference(x, batch_size=5), mlp(x), atol=1e-6)  # BLAS may block batches apart


def test_gnn_uses_graph():
    x, ei = _graph()
    model = GraphSAGE(6, 8, 3).eval()
    assert not torch.allclose(model(x, ei), model(x, ei[:, :10]))


def test_graph_cache_sees_in_place_edits():
    x, ei = _graph()
    model = GCN(6, 8, 3).eval()
    before = model(x, ei)
    ei[1, :50] = 0
    assert not torch.allclose(before, model(x, ei))


def test_dropout_and_gradients():
    x, ei = _graph()
    for name in MODELS:
        model = build_model(name, 6, 3, hidden_channels=16, dropout=0.5).train()
        loss = model(x, ei).sum()
        if hasattr(model, "auxiliary_loss"):  # what the training loss adds (VQGraph's decoders learn there)
            loss = loss + model.auxiliary_loss()
        loss.backward()
        assert all(p.grad is not None for p in model.parameters() if p.requires_grad), name
        with torch.no_grad():  # dropout draws new masks in training mode and is off in eval mode
            assert not torch.equal(model(x, ei), model(x, ei)), name
            model.eval()
            assert torch.equal(model(x, ei), model(x, ei)), name


def test_sage_gcn_aggregator_is_mean_over_neighbours_and_self():
    from torch_geometric.utils import add_remaining_self_loops, coalesce

    x, ei = _graph()
    model = GraphSAGE(6, 8, 3, num_layers=1, aggregator="gcn").eval()
    e, _ = add_remaining_self_loops(coalesce(ei, num_nodes=40), num_nodes=40)
    mean = torch.zeros(40, 6).index_add_(0, e[1], x[e[0]]) / torch.bincount(e[1], minlength=40).view(-1, 1)
    assert torch.allclose(model(x, ei), model.layers[0].lin_l(mean), atol=1e-6)
    with pytest.raises(ValueError, match="Unknown aggregator 'max'; valid choices: mean, gcn"):
        GraphSAGE(6, 8, 3, aggregator="max")


def test_residual_changes_output():
    x, ei = _graph()
    torch.manual_seed(0)
    a = GraphSAGE(6, 16, 3, num_layers=3).eval()
    b = GraphSAGE(6, 16, 3, num_layers=3, residual=True).eval()
    b.load_state_dict(a.state_dict())
    assert not torch.allclose(a(x, ei), b(x, ei))


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: build_model("gnc", 6, 3), r"Unknown model 'gnc'; valid choices: appnp, gat, gcn, gin, mlp, sage"),
        (lambda: GCN(6, 0, 3), "hidden_channels must be a positive integer, got 0"),
        (lambda: GCN(6, 8, 3, num_layers=0), "num_layers must be a positive integer"),
        (lambda: GCN(6, 8, 3, dropout=1.5), r"dropout must lie in \[0, 1\), got 1.5"),
        (lambda: GCN(6, 8, 3, norm="group"), r"Unknown norm 'group'; valid choices: batch, layer, none"),
        (lambda: GCN(6, 8, 3, act="swish"), "Unknown activation 'swish'"),
        (lambda: GAT(6, 10, 3, heads=4), "heads=4 must be >= 1 and divide hidden_channels=10"),
        (lambda: APPNP(6, 8, 3, K=0), "APPNP needs K >= 1"),
        (lambda: build_model("mlp", 6, 3, heads=2), "invalid argument for model 'mlp'"),
    ],
)
def test_bad_configuration(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_inputs():
    x, ei = _graph()
    with pytest.raises(ValueError, match=r"GCN expects x of shape \[num_nodes, 6\], got \[40, 5\]"):
        GCN(6, 8, 3)(x[:, :5], ei)
    with pytest.raises(ValueError, match="GIN needs edge_index"):
        GIN(6, 8, 3)(x)
    with pytest.raises(ValueError, match=r"node 40, outside \[0, 40\)"):
        GCN(6, 8, 3)(x, torch.tensor([[0], [40]]))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        GCN(6, 8, 3).inference(x, ei, batch_size=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_inference_on_gpu_from_cpu_tensors(name):
    x, ei = _graph()
    model = build_model(name, 6, 3, hidden_channels=16, num_layers=2).eval()
    ref = model(x, ei)
    out = model.cuda().inference(x, ei, batch_size=9)
    assert out.device.type == "cpu" and torch.allclose(ref, out, atol=1e-4)


def test_trained_model_copies_pickles_and_runs_in_inference_mode():
    import copy
    import io

    x, ei = _graph()
    for name in MODELS:
        model = build_model(name, 6, 3, hidden_channels=8).eval()
        ref = model(x, ei)  # fills the graph cache
        clone = copy.deepcopy(model)
        assert torch.allclose(clone(x, ei), ref)
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        full = io.BytesIO()
        torch.save(model, full)
        assert full.getbuffer().nbytes < 4 * buf.getbuffer().nbytes + 20000  # the cached graph is not pickled
        with torch.inference_mode():
            assert torch.allclose(model(x, ei), ref)


def test_residual_only_between_hidden_layers():
    x, ei = _graph(f=16)
    torch.manual_seed(0)
    a = GraphSAGE(16, 16, 3, num_layers=2).eval()
    b = GraphSAGE(16, 16, 3, num_layers=2, residual=True).eval()
    b.load_state_dict(a.state_dict())
    assert torch.allclose(a(x, ei), b(x, ei))  # no hidden -> hidden layer: nothing to add


def test_wrong_feature_dtype():
    x, ei = _graph()
    with pytest.raises(ValueError, match=r"float32 parameters but x is torch.float64; cast with x.to"):
        GCN(6, 8, 3)(x.double(), ei)


def test_an_appnp_training_step_is_bit_reproducible_on_two_cpu_threads(gradients_on_two_threads):
    # gathering h[src] back-propagates through an accumulating index_put_, whose sums over
    # repeated sources run in a thread-dependent order: APPNP's propagation (graphkd's own; the
    # other models are PyG's convolutions) gathers with index_select
    x, ei = _graph(n=2000, e=40000, f=16)

    def loss_of_new_model():
        model = build_model("appnp", 16, 4, hidden_channels=32, num_layers=3, dropout=0.5)
        return model, model(x, ei).pow(2).sum()

    first, *others = gradients_on_two_threads(loss_of_new_model)
    assert all(torch.equal(a, b) for other in others for a, b in zip(first, other, strict=True))
