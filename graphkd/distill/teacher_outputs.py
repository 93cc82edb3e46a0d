"""The teacher's outputs for every node: a typed artifact, saved atomically, checked on load."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from ..nn.base import Model
from ..utils.fingerprint import fingerprint
from ..utils.io import atomic_write_bytes, atomic_write_text

__all__ = ["TeacherOutputs", "fingerprint"]

FORMAT_VERSION = 1
# arrays graphkd writes in a memory-mapped folder (layer_/finish_: sharded inference's per-layer files)
_ARRAY_NAME = re.compile(r"(logits|hidden_\d+|layer_\d+|finish_\d+|extra_[A-Za-z0-9_]+)-[0-9a-f]{8}\.npy")
_EXTRA_KEY = re.compile(r"[A-Za-z0-9_]+")


@dataclass
class TeacherOutputs:
    r"""A teacher's raw logits (and optionally hidden layers) for every node of a graph, with
    what produced them, and optionally teacher-level tensors a method needs (``extras``, e.g.
    the codebook of VQGraph's tokenizer, :class:`graphkd.nn.VQGNN`).

    ``meta`` records the dataset, split, seed, the teacher's ``repr``, the number of nodes and
    the graph's :func:`fingerprint`. :meth:`check` (run by :meth:`load` when given the graph and
    by every distillation method) raises if the outputs do not belong to the graph at hand, so a
    stale cache can never be matched to nodes by position alone.

    Args:
        logits (Tensor): ``[N, C]`` raw teacher logits.
        meta (dict): provenance (see above); values are plain str/int/float/None.
        hidden (list[Tensor], optional): chosen hidden layers, each ``[N, d_l]``.
        extras (dict[str, Tensor], optional): further named tensors a method reads (keys of
            letters, digits and ``_``), of any shape: teacher-level ones such as VQGraph's
            codebook ``[K, D]``, which :meth:`compute` takes from the teacher's
            ``distillation_extras()`` when it defines one, or per-node ones given to :meth:`compute`.
    """

    logits: Tensor
    meta: dict[str, Any]
    hidden: list[Tensor] | None = field(default=None)
    extras: dict[str, Tensor] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.extras is None:
            return
        if not isinstance(self.extras, dict):
            raise ValueError(f"extras must be a dict of tensors, got {type(self.extras).__name__}")
        for key, value in self.extras.items():
            if not isinstance(key, str) or not _EXTRA_KEY.fullmatch(key):
                raise ValueError(f"extras key {key!r} must be a non-empty string of letters, digits and '_'")
            if not isinstance(value, Tensor):
                raise ValueError(f"extras[{key!r}] must be a tensor, got {type(value).__name__}")

    @classmethod
    @torch.no_grad()
    def compute(
        cls,
        teacher: Model,
        data: Data,
        hidden_layers: list[int] | None = None,
        batch_size: int = 65536,
        extras: dict[str, Tensor] | None = None,
        **meta: Any,
    ) -> TeacherOutputs:
        r"""Runs ``teacher`` over the whole graph (layer-wise :meth:`Model.inference`, eval mode).

        A teacher that defines ``distillation_extras() -> dict[str, Tensor]`` (e.g. VQGraph's
        tokenizer, :class:`graphkd.nn.VQGNN`, with its codebook) has those kept in :attr:`extras`.

        Args:
            teacher (Model): the trained teacher.
            data (Data): the graph it distils on.
            hidden_layers (list[int], optional): indices into the teacher's hidden list to keep.
            batch_size (int, optional): chunk size of the layer-wise inference.
            extras (dict[str, Tensor], optional): further tensors to keep in :attr:`extras`, e.g.
                a method's :meth:`~graphkd.distill.Distiller.teacher_signals` (KRD's logits under
                feature noise).
            **meta: provenance to record, e.g. ``dataset="cpf-cora", split="cpf", seed=0``.
        """
        logits, hidden = teacher.inference(data.x, data.edge_index, batch_size=batch_size, return_hidden=True)
        kept, layers = None, None
        if hidden_layers is not None:
            layers = check_hidden_layers(hidden_layers, len(hidden))
            kept = [hidden[i].cpu() for i in layers]
        info = provenance(teacher, data, int(logits.size(1)), len(hidden), layers, **meta)
        extras = teacher_extras(teacher, extras)
        out = cls(logits.cpu(), info, kept, extras or None)
        bad = out._non_finite()
        if bad:
            raise ValueError(f"the teacher produced non-finite {bad} (NaN/Inf): check its inputs and training")
        return out

    def _non_finite(self) -> str | None:
        if not _all_finite(self.logits):
            return "logits"
        for i, h in enumerate(self.hidden or []):
            if not _all_finite(h):
                return f"hidden layer {(self.meta.get('hidden_layers') or [i])[i]}"
        for key, value in (self.extras or {}).items():
            if not _all_finite(value):
                return f"extra {key!r}"
        return None

    def digest(self) -> str:
        r"""A hash of the values (logits, kept hidden layers and :attr:`extras`), read in place
        chunk by chunk: two outputs with the same digest teach the same thing."""
        h = hashlib.sha256()
        extras = self.extras or {}
        for name, t in [(None, self.logits), *((None, x) for x in self.hidden or [])] + sorted(extras.items()):
            if name is not None:  # outputs without extras keep the digest they always had
                h.update(f"extra:{name}".encode())
            h.update(f"{tuple(t.shape)}".encode())
            for chunk in t.detach().to("cpu", torch.float32).reshape(t.size(0) if t.dim() else 1, -1).split(1 << 16):
                h.update(memoryview(chunk.contiguous().numpy()).cast("B"))
        return h.hexdigest()[:32]

    @property
    def num_nodes(self) -> int:
        return int(self.logits.size(0))

    @property
    def num_classes(self) -> int:
        return int(self.logits.size(1))

    def hidden_layer(self, layer: int) -> Tensor:
        r"""The teacher's layer ``layer`` (an index into its hidden list, as in
        ``forward(..., return_hidden=True)``; ``-1``: the logits) for every node.

        Raises:
            ValueError: if that layer was not kept by :meth:`compute` (``hidden_layers=``).
        """
        if layer == -1:
            return self.logits
        num_layers, kept = self.meta.get("num_layers"), self.meta.get("hidden_layers") or []
        if not isinstance(num_layers, int) or not -num_layers <= layer < num_layers:
            raise ValueError(f"teacher layer {layer} out of range (the teacher has {num_layers} layers)")
        if layer % num_layers == num_layers - 1:
            return self.logits
        if self.hidden is None or layer % num_layers not in kept:
            raise ValueError(
                f"teacher layer {layer} was not kept (kept: {kept}); compute the outputs with "
                f"TeacherOutputs.compute(..., hidden_layers=[{layer}])"
            )
        return self.hidden[kept.index(layer % num_layers)]

    def extra(self, key: str) -> Tensor:
        r"""The teacher-level tensor ``key`` of :attr:`extras` (e.g. ``"codebook"``).

        Raises:
            ValueError: if the outputs do not carry it (their teacher defines no such extra).
        """
        if not self.extras or key not in self.extras:
            have = sorted(self.extras or {})
            raise ValueError(
                f"teacher outputs carry no {key!r} (extras: {have}); compute them with TeacherOutputs.compute "
                f"from a teacher whose distillation_extras() provides it (e.g. graphkd.nn.VQSAGE for 'codebook')"
            )
        return self.extras[key]

    def check(self, data: Data) -> None:
        r"""Raises :class:`ValueError` unless these outputs were computed on ``data``'s nodes."""
        if self.num_nodes != data.num_nodes:
            raise ValueError(
                f"teacher outputs cover {self.num_nodes} nodes but the graph has {data.num_nodes}: they were "
                f"computed on another graph (teacher outputs: {self._origin()})"
            )
        fp = fingerprint(data)
        if self.meta.get("fingerprint") != fp:
            raise ValueError(
                f"teacher outputs were computed on a graph with other features or another node order "
                f"(fingerprint {self.meta.get('fingerprint')} != {fp}; teacher outputs: {self._origin()})"
            )

    def _origin(self) -> str:
        keys = ("dataset", "split", "seed", "setting")
        return ", ".join(f"{k}={self.meta[k]}" for k in keys if k in self.meta) or "no provenance recorded"

    def save(self, path: str | os.PathLike) -> Path:
        r"""Writes the outputs atomically (temporary file + rename): an interrupted save leaves the
        previous file intact."""
        buf = io.BytesIO()
        payload = {"format": FORMAT_VERSION, "logits": self.logits, "hidden": self.hidden, "meta": self.meta}
        if self.extras:  # files without extras stay as they always were
            payload["extras"] = self.extras
        torch.save(payload, buf)
        return atomic_write_bytes(path, buf.getvalue())

    def save_mmap(self, directory: str | os.PathLike) -> Path:
        r"""Writes the outputs as memory-mappable ``.npy`` arrays in ``directory`` plus a
        ``meta.json`` holding the metadata, each array's shape and SHA-256. The arrays get fresh
        names and ``meta.json`` is replaced last and atomically, so an interrupted save leaves
        the previous outputs readable; arrays no longer referenced are then removed. Load with
        :meth:`load` (which maps the arrays instead of reading them into memory)."""
        json.dumps(self.meta)  # metadata that cannot be written fails before any array is
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(4)
        arrays = {
            "logits": self.logits,
            **{f"hidden_{i}": h for i, h in enumerate(self.hidden or [])},
            **{f"extra_{k}": v for k, v in (self.extras or {}).items()},
        }
        files = {}
        for name, tensor in arrays.items():
            files[name] = f"{name}-{token}.npy"
            array = tensor.detach().cpu().contiguous().numpy()
            with open(directory / files[name], "wb") as f:
                np.save(f, array)
                f.flush()
                os.fsync(f.fileno())
        return write_manifest(directory, self.meta, files)

    @classmethod
    def _load_mmap(cls, directory: Path, verify: bool) -> TeacherOutputs:
        try:
            manifest = json.loads((directory / "meta.json").read_text())
            entries = manifest["arrays"]
            if manifest.get("format") != FORMAT_VERSION or "logits" not in entries:
                raise KeyError("format")
            if not isinstance(manifest.get("meta"), dict):
                raise KeyError("meta")
            for name, entry in entries.items():
                if not isinstance(entry, dict) or not {"file", "shape", "sha256"} <= entry.keys():
                    raise KeyError(f"arrays[{name!r}]")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"{directory} is not a graphkd memory-mapped teacher-outputs folder ({err})") from err
        tensors = {}
        for name, entry in entries.items():
            file = directory / entry["file"]
            if not file.is_file():
                raise ValueError(f"{directory}: {entry['file']} is missing")
            if verify and _sha256(file) != entry["sha256"]:
                raise ValueError(f"{directory}: {entry['file']} does not match its checksum (corrupt or replaced)")
            try:  # copy-on-write mapping: pages are read on access, never written back
                array = np.load(file, mmap_mode="c")
            except ValueError as err:
                raise ValueError(f"{directory}: {entry['file']} is not a readable .npy array ({err})") from err
            if list(array.shape) != entry["shape"]:
                raise ValueError(
                    f"{directory}: {entry['file']} has shape {list(array.shape)}, expected {entry['shape']}"
                )
            tensors[name] = torch.from_numpy(array)
        num_hidden = sum(1 for name in entries if name.startswith("hidden_"))
        try:
            hidden = [tensors[f"hidden_{i}"] for i in range(num_hidden)] or None
        except KeyError as err:
            raise ValueError(f"{directory}: hidden layers are not numbered 0..{num_hidden - 1} ({err})") from err
        extras = {name.removeprefix("extra_"): t for name, t in tensors.items() if name.startswith("extra_")}
        return cls(tensors["logits"], dict(manifest["meta"]), hidden, extras or None)

    @classmethod
    def load(
        cls, path: str | os.PathLike, data: Data | None = None, verify: bool = True, **expect: Any
    ) -> TeacherOutputs:
        r"""Loads outputs saved by :meth:`save` and validates them.

        Args:
            path (str): the file, or a folder written by :meth:`save_mmap` (its arrays are then
                memory-mapped: rows are read from disk when used).
            data (Data, optional): the graph they must belong to (see :meth:`check`).
            verify (bool, optional): check the finiteness of the values and, for a folder, the
                arrays' checksums (reads every byte once) (default: :obj:`True`).
            **expect: metadata that must match, e.g. ``dataset="cpf-cora", seed=3``.

        Raises:
            FileNotFoundError: no such file.
            ValueError: a corrupt or foreign file, or outputs that do not match.
        """
        path = Path(path)
        if path.is_dir():
            out = cls._load_mmap(path, verify)
        elif not path.is_file():
            raise FileNotFoundError(f"no teacher outputs at {path}")
        else:
            try:
                raw = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as err:  # noqa: BLE001 - truncated or foreign file
                raise ValueError(
                    f"{path} is not a readable teacher-outputs file ({type(err).__name__}: {err})"
                ) from err
            if (
                not isinstance(raw, dict)
                or raw.get("format") != FORMAT_VERSION
                or not isinstance(raw.get("logits"), Tensor)
                or not isinstance(raw.get("meta"), dict)
            ):
                raise ValueError(f"{path} is not a graphkd teacher-outputs file (format {FORMAT_VERSION})")
            extras, hidden = raw.get("extras"), raw.get("hidden")
            if extras is not None and not isinstance(extras, dict):
                raise ValueError(f"{path}: extras must be a dict of tensors, got {type(extras).__name__}")
            if hidden is not None and not (isinstance(hidden, list) and all(isinstance(h, Tensor) for h in hidden)):
                raise ValueError(f"{path}: hidden must be a list of tensors, got {type(hidden).__name__}")
            out = cls(raw["logits"], dict(raw["meta"]), hidden, extras)
        if out.logits.dim() != 2:
            raise ValueError(f"{path}: teacher logits must be a [num_nodes, num_classes] tensor")
        for i, h in enumerate(out.hidden or []):
            if h.dim() != 2 or h.size(0) != out.logits.size(0):
                raise ValueError(
                    f"{path}: hidden layer {i} has shape {list(h.shape)}, expected [{out.logits.size(0)}, width] "
                    "(one row per node, like the logits)"
                )
        if verify and out._non_finite():
            raise ValueError(f"{path}: teacher {out._non_finite()} must be finite")
        for key, value in expect.items():
            if out.meta.get(key) != value:
                raise ValueError(f"{path}: teacher outputs have {key}={out.meta.get(key)!r}, expected {value!r}")
        if data is not None:
            out.check(data)
        return out


def provenance(
    teacher: Model, data: Data, num_classes: int, num_layers: int, hidden_layers: list[int] | None, **meta: Any
) -> dict[str, Any]:
    r"""The metadata :meth:`TeacherOutputs.compute` records: the teacher's ``repr``, the graph's
    node count and :func:`fingerprint`, the format, the teacher's depth and kept layers, and
    ``meta`` (dataset, split, seed, ...)."""
    return {
        "teacher": repr(teacher),
        "num_nodes": int(data.num_nodes),
        "num_classes": int(num_classes),
        "fingerprint": fingerprint(data),
        "format": FORMAT_VERSION,
        "num_layers": int(num_layers),
        "hidden_layers": hidden_layers,
        **meta,
    }


def check_hidden_layers(hidden_layers: list[int], num_layers: int) -> list[int]:
    r"""``hidden_layers`` as non-negative indices into a teacher's ``num_layers`` outputs.

    Raises:
        ValueError: for an index out of range.
    """
    for i in hidden_layers:
        if not isinstance(i, int) or not -num_layers <= i < num_layers:
            raise ValueError(f"hidden layer {i!r} out of range for a teacher with {num_layers} layers")
    return [i % num_layers for i in hidden_layers]


def teacher_extras(teacher: Model, given: dict[str, Tensor] | None) -> dict[str, Tensor]:
    r"""The teacher's ``distillation_extras()`` (when it defines one) and the ``given`` extras,
    on the CPU.

    Raises:
        ValueError: when a key is both given and provided by the teacher.
    """
    provide = getattr(teacher, "distillation_extras", None)
    given, extras = given or {}, dict(provide()) if callable(provide) else {}
    clash = sorted(set(given) & set(extras))
    if clash:
        raise ValueError(f"extras {clash} are given and also provided by the teacher's distillation_extras()")
    return {k: v.detach().cpu() for k, v in {**extras, **given}.items()}


def write_manifest(directory: Path, meta: dict[str, Any], files: dict[str, str]) -> Path:
    r"""Finalises a memory-mapped teacher-outputs folder whose ``.npy`` arrays are written:
    records each array's file, shape and SHA-256 with ``meta`` in ``meta.json`` (replaced
    atomically, last) and removes the arrays of earlier saves that it no longer references.

    Args:
        directory (Path): the folder.
        meta (dict): the outputs' metadata.
        files (dict[str, str]): array name (``logits``, ``hidden_<i>``, ``extra_<key>``) → file
            name in ``directory`` (``<name>-<token>.npy``).
    """
    entries = {}
    for name, file in files.items():
        shape = np.load(directory / file, mmap_mode="r").shape
        entries[name] = {"file": file, "shape": list(shape), "sha256": _sha256(directory / file)}
    manifest = {"format": FORMAT_VERSION, "meta": meta, "arrays": entries}
    atomic_write_text(directory / "meta.json", json.dumps(manifest, indent=1))
    keep = set(files.values())
    for old in directory.glob("*.npy"):  # only arrays written by graphkd before
        if old.name not in keep and _ARRAY_NAME.fullmatch(old.name):
            old.unlink(missing_ok=True)
    return directory


def _sha256(path: Path, block: int = 1 << 24) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def _all_finite(t: Tensor, rows: int = 1 << 16) -> bool:
    # chunk by chunk: a memory-mapped array is never materialised whole
    t = t.reshape(1) if t.dim() == 0 else t
    return all(bool(torch.isfinite(c).all()) for c in t.split(rows))
