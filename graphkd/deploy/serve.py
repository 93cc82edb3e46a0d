"""Serving an exported student: load a TorchScript or ONNX file and predict from node features
alone. Imports neither PyTorch Geometric nor the graph; an ONNX student needs only onnxruntime
and NumPy."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Student", "load_student"]

META_NAME = "graphkd.json"
CHUNK = 4096  # rows per call of the runtime


class Student:
    r"""An exported MLP student ready to answer: ``logits(x)``, ``predict(x)`` (class ids) and
    ``predict_proba(x)`` on feature rows ``x`` (NumPy array or torch tensor, ``[n, in_channels]``
    or one row ``[in_channels]``), returning NumPy arrays.

    Args:
        run (callable): float32 ``[n, in_channels]`` array -> logits array.
        meta (dict): what :func:`graphkd.deploy.export_student` stored (``in_channels``,
            ``out_channels``, ``format``, ...).
    """

    def __init__(self, run: Any, meta: dict[str, Any]) -> None:
        self._run, self.meta = run, meta
        self.in_channels, self.out_channels = int(meta["in_channels"]), int(meta["out_channels"])

    def _rows(self, x: Any) -> np.ndarray:
        if hasattr(x, "detach"):  # a torch tensor
            x = x.detach().cpu().numpy()
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"features must have shape [n, {self.in_channels}], got {list(x.shape)}")
        if not np.isfinite(x).all():
            raise ValueError("features contain NaN or infinite values")
        return np.ascontiguousarray(x)

    def logits(self, x: Any) -> np.ndarray:
        x = self._rows(x)
        if len(x) <= CHUNK:
            return np.asarray(self._run(x), dtype=np.float32)
        # cache-sized chunks: a chunk's activations stay in cache (see graphkd.deploy.latency)
        return np.concatenate(
            [np.asarray(self._run(x[i : i + CHUNK]), dtype=np.float32) for i in range(0, len(x), CHUNK)]
        )

    def predict(self, x: Any) -> np.ndarray:
        return self.logits(x).argmax(axis=1)

    def predict_proba(self, x: Any) -> np.ndarray:
        z = self.logits(x)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def __repr__(self) -> str:
        return f"Student({self.meta.get('format')}, {self.in_channels} -> {self.out_channels})"


def load_student(path: str | os.PathLike, format: str | None = None, threads: int | None = None) -> Student:
    r"""Loads a student written by :func:`graphkd.deploy.export_student`.

    Args:
        path (str): a TorchScript file (``.pt``) or an ONNX file (``.onnx``).
        format (str, optional): ``"torchscript"`` or ``"onnx"`` (default: from the suffix).
        threads (int, optional): intra-op threads of the runtime (default: the runtime's own).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a graphkd student, an unknown format, or ``threads`` < 1.
    """
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ValueError(f"threads must be a positive integer (or None: the runtime's default), got {threads!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no exported student at {path}")
    format = format or ("onnx" if path.suffix == ".onnx" else "torchscript")
    if format == "torchscript":
        return _load_torchscript(path, threads)
    if format == "onnx":
        return _load_onnx(path, threads)
    raise ValueError(f"Unknown student format {format!r}; valid choices: onnx, torchscript")


def _load_torchscript(path: Path, threads: int | None) -> Student:
    import warnings

    import torch

    files = {META_NAME: ""}
    try:
        with warnings.catch_warnings():  # torch >= 2.10 marks TorchScript deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=files)
        meta = json.loads(files[META_NAME])
    except Exception as err:  # noqa: BLE001 - a foreign or truncated file
        raise ValueError(f"{path} is not a graphkd TorchScript student ({type(err).__name__}: {err})") from err
    module.eval()
    if threads is not None:
        torch.set_num_threads(threads)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(x)).numpy()

    return Student(run, meta)


def _load_onnx(path: Path, threads: int | None) -> Student:
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ValueError(f"an ONNX student needs onnxruntime: pip install onnxruntime ({err})") from None
    side = Path(f"{path}.json")
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - a foreign or truncated file
        raise ValueError(f"{path} is not a readable ONNX model ({type(err).__name__}: {err})") from err
    if side.is_file():
        meta = json.loads(side.read_text())
    else:  # widths from the graph itself
        (inp,), (out,) = session.get_inputs(), session.get_outputs()
        meta = {"format": "onnx", "in_channels": inp.shape[1], "out_channels": out.shape[1]}
    name = session.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {name: x})[0]

    return Student(run, {**meta, "format": "onnx"})
