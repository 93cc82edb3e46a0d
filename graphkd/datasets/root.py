"""Where datasets live: the data root, and a writable working copy of a read-only root."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["CACHE_ENV", "DATA_ENV", "data_root", "has_files", "remove_empty_dirs", "working_dir", "writable"]

DATA_ENV = "GRAPHKD_DATA"
CACHE_ENV = "GRAPHKD_CACHE"


def data_root(root: str | os.PathLike | None = None) -> Path:
    r"""The data root: ``root`` if given, else ``$GRAPHKD_DATA``, else ``./datasets``."""
    if root is None:
        root = os.environ.get(DATA_ENV) or "datasets"
    return Path(root).expanduser().resolve()


def _cache_root() -> Path:
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "graphkd"
    )
    return Path(base).expanduser().resolve()


def writable(path: Path) -> bool:
    r"""Whether graphkd may write into ``path`` (or, if it does not exist, its nearest existing
    parent). A folder whose permission bits are read-only counts as read-only even for root, who
    could write anyway: a shared mount marked r-x never receives downloads or processed files."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def has_files(path: Path) -> bool:
    r"""Whether ``path`` is a file, or a folder holding at least one file (at any depth)."""
    return path.is_file() or (path.is_dir() and any(p.is_file() for p in path.rglob("*")))


def remove_empty_dirs(path: Path, stop: Path) -> None:
    r"""Removes ``path`` and its parents up to (not including) ``stop`` while they are empty
    folders: what a failed download leaves behind."""
    path, stop = path.resolve(), stop.resolve()
    while path != stop and stop in path.parents and path.is_dir():
        for child in sorted(path.rglob("*"), reverse=True):
            if child.is_dir() and not any(child.iterdir()):
                child.rmdir()
        if any(path.iterdir()):
            return
        path.rmdir()
        path = path.parent


def working_dir(root: Path, rel: str) -> Path:
    r"""A writable directory holding ``root/rel`` for a PyG dataset class to process into.

    PyG writes a ``processed/`` folder beside ``raw/``. When ``root/rel`` is writable (or does
    not exist yet, so a download can create it) it is returned unchanged. When it is read-only
    (a shared data mount; judged by its permission bits, so also when running as root), its
    files are linked into ``$GRAPHKD_CACHE`` (default
    ``~/.cache/graphkd``) under a folder named by a hash of ``root``, and that mirror is returned;
    the shared files are never copied nor modified.
    """
    src = root / rel
    if not src.exists() or writable(src):
        return src
    key = hashlib.sha1(str(root).encode()).hexdigest()[:12]
    dst = _cache_root() / key / rel
    for path in src.rglob("*"):
        target = dst / path.relative_to(src)
        if path.is_dir() or path.parent.name == "processed":
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(path)
            os.replace(tmp, target)  # atomic: a concurrent loader sees a link or nothing
    return dst
