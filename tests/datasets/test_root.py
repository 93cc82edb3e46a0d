import stat

from graphkd.datasets.root import data_root, working_dir


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHKD_DATA", str(tmp_path / "a"))
    assert data_root() == tmp_path / "a"
    assert data_root(tmp_path / "b") == tmp_path / "b"
    monkeypatch.delenv("GRAPHKD_DATA")
    assert data_root().name == "datasets"


def test_read_only_root_is_mirrored_not_modified(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHKD_CACHE", str(tmp_path / "cache"))
    raw = tmp_path / "shared" / "Set" / "raw"
    raw.mkdir(parents=True)
    (raw / "file.txt").write_text("data")
    for p in (raw / "file.txt", raw, raw.parent):
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:  # read-only by its permission bits, also when the tests run as root
        out = working_dir(tmp_path / "shared", "Set")
        assert out != raw.parent and (out / "raw" / "file.txt").read_text() == "data"
        assert (out / "raw" / "file.txt").is_symlink()
        assert working_dir(tmp_path / "shared", "Set") == out  # idempotent
    finally:
        for p in (raw.parent, raw, raw / "file.txt"):
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_writable_root_is_used_in_place(tmp_path):
    (tmp_path / "Set" / "raw").mkdir(parents=True)
    assert working_dir(tmp_path, "Set") == tmp_path / "Set"
