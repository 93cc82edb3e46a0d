import os

import pytest

from graphkd.utils import atomic_write_bytes, atomic_write_text


def test_writes_and_creates_folders(tmp_path):
    path = atomic_write_text(tmp_path / "a" / "b" / "f.txt", "héllo")
    assert path == tmp_path / "a" / "b" / "f.txt" and path.read_text(encoding="utf-8") == "héllo"
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and os.listdir(path.parent) == ["f.txt"]


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch, where):
    path = atomic_write_bytes(tmp_path / "f.bin", b"old")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, where, interrupt)  # after the new bytes are written, before they are in place
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new contents")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]  # no temporary file left behind
