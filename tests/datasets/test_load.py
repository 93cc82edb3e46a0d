import numpy as np
import pytest
import torch

from graphkd.datasets import DATASETS, dataset_info, load

OFFLINE = [name for name in DATASETS if not name.startswith("ogbn-")]


def test_csbm_needs_no_file(tmp_path):
    d = load("csbm", root=tmp_path / "nowhere", num_nodes=500, num_classes=3)
    assert d.num_nodes == 500 and d.num_classes == 3 and d.name == "csbm"
    assert int(d.train_mask.sum()) == 60 and int(d.val_mask.sum()) == 90


def test_csbm_split_follows_seed_graph_does_not():
    a, b = load("csbm", seed=0, num_nodes=400), load("csbm", seed=1, num_nodes=400)
    assert torch.equal(a.x, b.x) and not torch.equal(a.train_mask, b.train_mask)
    c = load("csbm", num_nodes=400, graph_seed=5)
    assert not torch.equal(a.x, c.x)


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match=r"Unknown dataset 'corra'; valid choices: .*cora, cora-ml"):
        load("corra")


def test_unknown_split_and_option():
    with pytest.raises(ValueError, match=r"Unknown split 'public' for dataset 'csbm'; valid choices: cpf, random"):
        load("csbm", split="public")
    with pytest.raises(ValueError, match=r"Unknown option\(s\) homophilly .*valid options: .*homophily"):
        load("csbm", homophilly=0.3)
    with pytest.raises(ValueError, match="Unknown option"):
        load("csbm", split="random", train_per_class=3)
    with pytest.raises(ValueError, match="split must be a split name"):
        load("csbm", split=3)


def test_meta_dict_is_checked():
    with pytest.raises(ValueError, match="it goes with an 'ogbn-\\*' name, got 'csbm'"):
        load("csbm", meta_dict={"num classes": 3, "dir_path": "x"})
    with pytest.raises(ValueError, match="meta_dict of 'ogbn-tiny' lacks 'num classes'"):
        load("ogbn-tiny", meta_dict={"dir_path": "x"})
    with pytest.raises(ValueError, match="lacks 'num classes', 'dir_path'"):
        load("ogbn-tiny", meta_dict=["not", "a", "dict"])


def test_missing_root_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"dataset 'cora' not found: looked in .*Planetoid.*GRAPHKD_DATA"):
        load("cora", root=tmp_path, download=False)
    with pytest.raises(FileNotFoundError, match=r"cpf-cora.*npz.*GRAPHKD_DATA"):
        load("cpf-cora", root=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"ogbn-arxiv.*looked in"):
        load("ogbn-arxiv", root=tmp_path, download=False)


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    import ogb.nodeproppred

    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(ogb.nodeproppred, "PygNodePropPredDataset", offline)
    with pytest.raises(FileNotFoundError, match=r"ogbn-arxiv.*download failed: OSError"):
        load("ogbn-arxiv", root=tmp_path)


def test_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHKD_DATA", str(tmp_path / "env-root"))
    with pytest.raises(FileNotFoundError, match="env-root"):
        load("citeseer", download=False)


@pytest.mark.data
@pytest.mark.parametrize("name", OFFLINE)
def test_every_dataset_loads_offline(name, data_root):
    d = load(name, root=data_root, download=False)
    info = dataset_info(name)
    assert (d.num_nodes, d.edge_index.size(1), d.num_features, d.num_classes) == (
        info.nodes,
        info.edges,
        info.features,
        info.classes,
    )
    assert d.train_mask.dim() == 1 and bool(d.train_mask.any()) and bool(d.test_mask.any())
    assert not bool((d.edge_index[0] == d.edge_index[1]).any())  # self-loops removed


@pytest.mark.data
def test_public_cora_split_and_cpf_split(data_root):
    d = load("cora", root=data_root)
    assert (int(d.train_mask.sum()), int(d.val_mask.sum()), int(d.test_mask.sum())) == (140, 500, 1000)
    assert torch.allclose(d.x.sum(1)[d.x.sum(1) > 0], torch.ones(1))  # row-normalised bag of words
    c = load("cora", root=data_root, split="cpf", seed=3)
    assert c.num_nodes == 2485 and int(c.train_mask.sum()) == 140
    w0, w1 = load("texas", root=data_root, seed=0), load("texas", root=data_root, seed=1)
    assert not torch.equal(w0.train_mask, w1.train_mask)  # one of the 10 public splits each


def _write_ogb_dataset(root, name="ogbn-tiny", n=60, classes=3):
    """A small node-property dataset in OGB's on-disk format, written by OGB's own saver."""
    from ogb.io import DatasetSaver

    rng = np.random.default_rng(0)
    saver = DatasetSaver(dataset_name=name, is_hetero=False, version=1, root=str(root / "submission"))
    edges = rng.integers(0, n, size=(2, 240))
    saver.save_graph_list(
        [
            {
                "edge_index": edges.astype(np.int64),
                "edge_feat": None,
                "node_feat": rng.standard_normal((n, 5)).astype(np.float32),
                "num_nodes": n,
            }
        ]
    )
    saver.save_target_labels(rng.integers(0, classes, size=(n, 1)))
    perm = rng.permutation(n)
    split = {"train": perm[:30], "valid": perm[30:45], "test": perm[45:]}
    saver.save_split(split, split_name="random")
    mapping = root / "mapping"
    mapping.mkdir()
    (mapping / "README.md").write_text("node ids are positions\n")
    saver.copy_mapping_dir(str(mapping))
    saver.save_task_info(task_type="multiclass classification", eval_metric="acc", num_classes=classes)
    return saver.get_meta_dict(), split, edges


def test_ogb_format_through_ogb_code_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # DatasetSaver writes relative to the working directory
    meta, split, edges = _write_ogb_dataset(tmp_path)
    d = load("ogbn-tiny", meta_dict=meta)
    assert d.num_nodes == 60 and d.num_features == 5 and d.y.dim() == 1
    for key, part in (("train_mask", "train"), ("val_mask", "valid"), ("test_mask", "test")):
        assert sorted(d[key].nonzero().flatten().tolist()) == sorted(split[part].tolist())
    # made undirected: every input edge (minus self-loops) is present both ways
    pairs = set(map(tuple, d.edge_index.t().tolist()))
    for s, t in edges.T:
        if s != t:
            assert (s, t) in pairs and (t, s) in pairs
    assert load("ogbn-tiny", meta_dict=meta, split="random", seed=1).train_mask.sum() > 0


def test_incomplete_ogb_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meta, _, _ = _write_ogb_dataset(tmp_path)
    for release in __import__("pathlib").Path(meta["dir_path"]).glob("RELEASE_v*.txt"):
        release.unlink()
    with pytest.raises(ValueError, match="RELEASE_v"):
        load("ogbn-tiny", meta_dict=meta)


def test_failed_download_leaves_nothing_behind(tmp_path):
    for _ in range(2):  # the second attempt fails the same clear way
        with pytest.raises(FileNotFoundError, match="download failed"):
            load("cora", root=tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="looked in"):
        load("cora", root=tmp_path, download=False)


def test_read_only_root_is_never_written(tmp_path):
    import stat

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        for name in ("cora", "actor", "ogbn-arxiv"):
            with pytest.raises(FileNotFoundError, match="read-only"):
                load(name, root=ro)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(stat.S_IRWXU)


def test_read_only_ogb_folder_is_mirrored(tmp_path, monkeypatch):
    import stat
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    meta, split, _ = _write_ogb_dataset(tmp_path)
    folder = Path(meta["dir_path"]).resolve()
    paths = [folder, *folder.rglob("*")]
    for p in paths:
        p.chmod(p.stat().st_mode & ~0o222)
    try:
        d = load("ogbn-tiny", meta_dict=meta)
        assert d.num_nodes == 60 and not any((folder / "processed").iterdir())  # processed in the mirror
    finally:
        for p in paths:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_ogb_keeps_direction_when_asked(tmp_path, monkeypatch):
    from torch_geometric.utils import is_undirected

    monkeypatch.chdir(tmp_path)
    meta, _, _ = _write_ogb_dataset(tmp_path)
    assert is_undirected(load("ogbn-tiny", meta_dict=meta).edge_index)
    assert not is_undirected(load("ogbn-tiny", meta_dict=meta, undirected=False).edge_index)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"num_nodes": 1000.5}, "num_nodes must be an integer, got 1000.5"),
        ({"avg_degree": float("inf")}, "must be finite"),
        ({"split": "cpf", "train_per_class": 2.5}, "must be integers, got 2.5"),
    ],
)
def test_option_types(options, match):
    with pytest.raises(ValueError, match=match):
        load("csbm", **options)
