import pytest
import torch

from graphkd.datasets import load
from graphkd.deploy.latency import (
    LatencyProtocol,
    gnn_predictor,
    hardware,
    matmul_rate,
    measure_latency,
    mlp_flops,
    mlp_predictor,
)
from graphkd.nn import GAT, GIN, MLP, GraphSAGE


@pytest.fixture(scope="module")
def graph():
    return load("csbm", num_nodes=500, num_classes=3, num_features=8, avg_degree=6)


@pytest.mark.parametrize("model_cls", [GraphSAGE, GAT, GIN])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_fetching_the_l_hop_neighbourhood_gives_the_full_graph_answer(graph, model_cls, layers):
    torch.manual_seed(0)
    model = model_cls(8, 16, 3, num_layers=layers).eval()
    ids = torch.tensor([3, 250, graph.num_nodes - 1, 3])  # a node twice
    with torch.no_grad():
        expected = model(graph.x, graph.edge_index)[ids]
        for fetch in ("full", "pyg"):
            got = gnn_predictor(model, graph, fetch=fetch).run(ids)
            assert torch.allclose(got, expected, atol=1e-5), fetch
        assert torch.allclose(gnn_predictor(model, graph).run(None), model(graph.x, graph.edge_index), atol=1e-5)


def test_mlp_predictor_reads_feature_rows_only(graph):
    mlp = MLP(8, 16, 3).eval()
    p = mlp_predictor(mlp, graph.x, chunk=128)
    ids = torch.tensor([7, 1])
    with torch.no_grad():
        assert torch.allclose(p.run(ids), mlp(graph.x[ids])) and torch.allclose(p.run(None), mlp(graph.x))
    assert p.counted == "feature rows" and p.flops_per_node == mlp_flops(mlp) == 2 * (8 * 16 + 16 * 3)


def test_measure_latency_times_every_model_at_every_size(graph):
    sage = GraphSAGE(8, 16, 3)
    predictors = [
        gnn_predictor(sage, graph, "SAGE", "sampled", fanouts=[3, 2]),
        mlp_predictor(MLP(8, 16, 3), graph.x, "MLP"),
    ]
    protocol = LatencyProtocol(batch_sizes=(1, 10, None), warmup=1, repeats=4, all_repeats=2, threads=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(3)  # not the protocol's 1, so that restoring it is seen
    try:
        results = measure_latency(predictors, graph.num_nodes, protocol)
        assert torch.get_num_threads() == 3  # the protocol's one thread is undone afterwards
    finally:
        torch.set_num_threads(threads)
    assert [(r.model, r.batch) for r in results] == [(m, b) for b in ("1", "10", "all") for m in ("SAGE", "MLP")]
    for r in results:
        assert 0 < r.median_ms <= r.p95_ms and len(r.times_ms) == r.repeats
        size = graph.num_nodes if r.batch == "all" else int(r.batch)
        assert r.nodes_per_s == pytest.approx(1e3 * size / r.median_ms)
        assert (r.gflops is not None) == (r.model == "MLP")
    assert "sampled 2-hop neighbourhood (3,2)" in results[0].counted


def test_bad_protocols_and_fetches(graph):
    with pytest.raises(ValueError, match="positive integers or None"):
        LatencyProtocol(batch_sizes=(0,))
    with pytest.raises(ValueError, match="repeats >= 1"):
        LatencyProtocol(repeats=0)
    with pytest.raises(ValueError, match="Unknown fetch 'bfs'"):
        gnn_predictor(GraphSAGE(8, 16, 3), graph, fetch="bfs")
    with pytest.raises(ValueError, match="needs 2 fan-outs"):
        gnn_predictor(GraphSAGE(8, 16, 3), graph, fetch="sampled", fanouts=[5])
    n = graph.num_nodes
    with pytest.raises(ValueError, match=f"batch of {n + 1} nodes on a graph of {n}"):
        measure_latency([mlp_predictor(MLP(8, 4, 3), graph.x)], n, LatencyProtocol(batch_sizes=(n + 1,)))


def test_machine_facts():
    assert matmul_rate(size=256, repeats=3, threads=1) > 0
    facts = hardware()
    assert facts["device"] == "cpu" and facts["logical_cpus"] >= 1 and facts["torch"] == torch.__version__


def test_onnxruntime_matmul_rate():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    assert matmul_rate(size=256, repeats=3, threads=1, backend="onnxruntime") > 0
    with pytest.raises(ValueError, match="Unknown backend 'blas'"):
        matmul_rate(backend="blas")
