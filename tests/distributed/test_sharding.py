import pytest
import torch
from torch.utils.data import DistributedSampler

from graphkd.distributed import EpochShards, ShardedNodeBatches, ShardedSampledBatches, node_range


@pytest.mark.parametrize("n, world", [(10, 3), (7, 2), (3, 4), (0, 2), (100, 1)])
def test_node_ranges_cover_every_node_once_in_order(n, world):
    ranges = [node_range(n, r, world) for r in range(world)]
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_node_range_rejects_a_bad_rank():
    with pytest.raises(ValueError, match=r"rank 2 is not in \[0, 2\)"):
        node_range(10, 2, 2)


@pytest.mark.parametrize("n, world", [(10, 3), (7, 2), (5, 4), (1, 2), (64, 4)])
@pytest.mark.parametrize("epoch", [0, 3])
def test_epoch_shards_are_distributed_samplers_positions(n, world, epoch):
    for rank in range(world):
        ref = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=5)
        ref.set_epoch(epoch)
        ours = EpochShards(n, rank, world, seed=5)
        ours.set_epoch(epoch)
        assert list(ours) == list(ref) and len(ours) == len(ref)


def test_epoch_shards_need_nodes():
    with pytest.raises(ValueError, match="no nodes"):
        EpochShards(0, 0, 2)


def test_sharded_node_batches_split_each_epoch_over_ranks(tiny_graph):
    extras = {"teacher_logits": torch.arange(6.0).view(6, 1).repeat(1, 2)}
    world = 2
    sources = [ShardedNodeBatches(tiny_graph, 4, None, r, world, seed=1, extras=extras) for r in range(world)]
    for _ in range(2):  # two epochs: a new split each time, every node covered, same step count
        batches = [list(s) for s in sources]
        assert len(batches[0]) == len(batches[1]) == len(sources[0])
        assert all(b.x.size(0) <= 2 for bs in batches for b in bs)  # global batch 4 = 2 per process
        seen = torch.cat([b.n_id for bs in batches for b in bs])
        assert sorted(seen.tolist()) == list(range(6))
        for bs in batches:
            for b in bs:
                assert torch.equal(b.extras["teacher_logits"][:, 0], b.n_id.float())
                assert torch.equal(b.x, tiny_graph.x[b.n_id])
    assert sources[0].state_dict()["epoch"] == 2


def test_sharded_sampled_batches_split_each_epoch_over_ranks(tiny_graph):
    extras = {"teacher_logits": torch.arange(6.0).view(6, 1)}
    world = 2
    sources = [
        ShardedSampledBatches(tiny_graph, [2, 2], 4, None, r, world, seed=1, extras=extras) for r in range(world)
    ]
    edges = set(map(tuple, tiny_graph.edge_index.t().tolist()))
    for _ in range(2):  # two epochs: every seed node is a target once over the ranks, 2 per process and step
        batches = [list(s) for s in sources]
        assert len(batches[0]) == len(batches[1]) == len(sources[0])
        targets = [b.n_id[: b.num_targets] for bs in batches for b in bs]
        assert all(t.numel() <= 2 for t in targets)
        assert sorted(torch.cat(targets).tolist()) == list(range(6))
        for bs in batches:
            for b in bs:  # a subgraph of the graph, its rows aligned with the global ids
                assert set(map(tuple, b.n_id[b.edge_index].t().tolist())) <= edges
                assert torch.equal(b.x, tiny_graph.x[b.n_id]) and torch.equal(b.y, tiny_graph.y[b.n_id])
                assert torch.equal(b.extras["teacher_logits"][:, 0], b.n_id.float())
    assert [s.state_dict()["epoch"].item() for s in sources] == [2, 2]
