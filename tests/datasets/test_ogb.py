import shutil

import pytest
import torch

from graphkd.datasets import load, load_meta_dict, save_ogb


def test_save_ogb_round_trip_through_ogbs_loader(tmp_path):
    g = load("csbm", num_nodes=300, num_classes=3, num_features=8, train_per_class=10, val_per_class=10)
    path = save_ogb(g, "ogbn-tiny-csbm", tmp_path)
    assert path == tmp_path / "submission_ogbn_tiny_csbm" / "meta_dict.pt"
    name, meta = load_meta_dict(path)
    assert name == "ogbn-tiny-csbm" and meta["eval metric"] == "acc" and meta["num classes"] == 3
    d = load(name, meta_dict=meta)
    assert torch.equal(d.x, g.x) and torch.equal(d.y, g.y) and torch.equal(d.edge_index, g.edge_index)
    for key in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(d[key], g[key])
    # the whole folder can move: the dataset is looked up beside its meta_dict
    moved = tmp_path / "elsewhere"
    shutil.move(str(path.parent), str(moved))
    name, meta = load_meta_dict(moved / "meta_dict.pt")
    assert meta["dir_path"] == str(moved / "tiny_csbm")
    assert torch.equal(load(name, meta_dict=meta).x, g.x)


def test_save_ogb_refuses_bad_input(tmp_path):
    g = load("csbm", num_nodes=300, num_classes=3, num_features=8, train_per_class=10, val_per_class=10)
    with pytest.raises(ValueError, match="looks like 'ogbn-<name>', got 'tiny'"):
        save_ogb(g, "tiny", tmp_path)
    no_split = g.clone()
    del no_split.val_mask
    with pytest.raises(ValueError, match="needs data.val_mask"):
        save_ogb(no_split, "ogbn-tiny", tmp_path)
    save_ogb(g, "ogbn-tiny", tmp_path)
    with pytest.raises(ValueError, match="exists already"):  # OGB's saver would stop and ask on stdin
        save_ogb(g, "ogbn-tiny", tmp_path)


def test_load_meta_dict_refuses_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no OGB meta_dict"):
        load_meta_dict(tmp_path / "meta_dict.pt")
    (tmp_path / "meta_dict.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable OGB meta_dict"):
        load_meta_dict(tmp_path / "meta_dict.pt")
    torch.save({"version": 1}, tmp_path / "meta_dict.pt")
    with pytest.raises(ValueError, match="not the meta_dict of an OGB node-property dataset"):
        load_meta_dict(tmp_path / "meta_dict.pt")
