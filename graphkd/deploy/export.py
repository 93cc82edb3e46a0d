"""Export of an MLP student for deployment: TorchScript and ONNX files that need neither the graph
nor PyTorch Geometric, each checked against the eager model when written."""

from __future__ import annotations

import copy
import json
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["FORMATS", "ExportReport", "export_bundle", "export_student", "plain_mlp", "quantize_int8"]

FORMATS = ("torchscript", "onnx")
PARITY_ATOL = 1e-5
META_NAME = "graphkd.json"  # metadata stored inside a TorchScript file, and beside an ONNX one


class PlainMLP(nn.Module):
    r"""An inference-only MLP: linear layers (batch norm folded into them), each hidden layer's
    optional layer norm, activation and residual connection. Dropout is gone; nothing reads a
    graph. Built by :func:`plain_mlp`; scriptable, traceable and exportable to ONNX."""

    def __init__(self, linears: list[nn.Linear], norms: list[nn.Module], act: nn.Module, residual: list[bool]):
        super().__init__()
        self.linears = nn.ModuleList(linears)
        self.norms = nn.ModuleList(norms)
        self.act = act
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        h = x
        last = len(self.linears) - 1
        for i, (linear, norm) in enumerate(zip(self.linears, self.norms, strict=True)):
            out = linear(h)
            if i < last:
                if self.residual[i]:
                    out = out + h
                out = self.act(norm(out))
            h = out
        return h


def plain_mlp(model: nn.Module) -> PlainMLP:
    r"""The inference-only equivalent of a trained :class:`graphkd.nn.MLP` (evaluation mode):
    batch norm is folded into the preceding linear layer
    (:math:`W' = \mathrm{diag}(s) W`, :math:`b' = s \odot (b - \mu) + \beta`,
    :math:`s = \gamma / \sqrt{\sigma^2 + \epsilon}`; with a residual connection the identity
    is folded in too, :math:`W' = \mathrm{diag}(s)(W + I)`), so the exported model is a chain of
    matrix products and activations.

    Raises:
        ValueError: for a model that is not an MLP (a GNN needs its graph at inference).
    """
    if getattr(model, "uses_graph", True) or not hasattr(model, "layers"):
        raise ValueError(f"only MLP students can be exported without a graph, got {type(model).__name__}")
    linears, norms, residual = [], [], []
    num_layers = len(model.layers)
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, nn.Linear):
            raise ValueError(f"layer {i} of the student is {type(layer).__name__}, expected nn.Linear")
        linear = copy.deepcopy(layer).float()
        norm: nn.Module = nn.Identity()
        if i < num_layers - 1:
            source = model.norms[i]
            skip = bool(model.residual and i > 0 and layer.in_features == layer.out_features)
            if isinstance(source, nn.BatchNorm1d):
                if skip:  # BN(W h + b + h) = BN((W + I) h + b): the skip folds into the weights too
                    with torch.no_grad():
                        linear.weight += torch.eye(linear.in_features)
                    skip = False
                _fold_batch_norm(linear, source)
            elif not isinstance(source, nn.Identity):
                norm = copy.deepcopy(source).float()
            residual.append(skip)
        else:
            residual.append(False)
        linears.append(linear)
        norms.append(norm)
    return PlainMLP(linears, norms, copy.deepcopy(model.act), residual).eval()


@torch.no_grad()
def _fold_batch_norm(linear: nn.Linear, bn: nn.BatchNorm1d) -> None:
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("batch norm without running statistics (track_running_stats=False) cannot be folded")
    mean, var = bn.running_mean.double(), bn.running_var.double()
    gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(mean)
    beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(mean)
    scale = gamma / torch.sqrt(var + bn.eps)
    bias = linear.bias.double() if linear.bias is not None else torch.zeros_like(mean)
    linear.weight.copy_((linear.weight.double() * scale[:, None]).float())
    if linear.bias is None:
        linear.bias = nn.Parameter(torch.empty(linear.out_features))
    linear.bias.copy_((scale * (bias - mean) + beta).float())


def quantize_int8(model: nn.Module) -> nn.Module:
    r"""A dynamically quantised copy (int8 weights, activations quantised per batch) of an MLP
    student's :func:`plain_mlp`, for CPUs; its accuracy can differ from fp32: measure it."""
    from torch.ao.quantization import quantize_dynamic

    plain = model if isinstance(model, PlainMLP) else plain_mlp(model)
    with warnings.catch_warnings():  # torch >= 2.10 announces the move of this API to torchao
        warnings.simplefilter("ignore", (UserWarning, DeprecationWarning))
        return quantize_dynamic(copy.deepcopy(plain).eval(), {nn.Linear}, dtype=torch.qint8)


@dataclass
class ExportReport:
    r"""What :func:`export_student` wrote and how closely the file reproduces the eager model."""

    path: str
    format: str
    max_abs_diff: float | None
    quantized: bool
    in_channels: int
    out_channels: int
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_student(
    model: nn.Module,
    path: str | os.PathLike,
    example: Tensor,
    format: str = "torchscript",
    quantize: bool = False,
    atol: float = PARITY_ATOL,
    metadata: dict[str, Any] | None = None,
) -> ExportReport:
    r"""Writes an MLP student to ``path`` as TorchScript or ONNX, loads the file back and checks
    it against the eager student on ``example`` rows (and one single row): the largest absolute
    difference of the logits must not exceed ``atol``. The file is written atomically; a file
    that fails the check is not left behind.

    The TorchScript file embeds ``graphkd.json`` (input and output widths, format, metadata); an
    ONNX file gets the same JSON beside it (``<path>.json``). Both load with
    :func:`graphkd.deploy.load_student`, which needs neither the graph nor PyTorch Geometric (nor
    torch at all, for ONNX with onnxruntime).

    Args:
        model (nn.Module): the trained :class:`graphkd.nn.MLP` student.
        path (str): the file to write.
        example (Tensor): feature rows ``[n, in_channels]`` for the check (and ONNX's trace).
        format (str, optional): ``"torchscript"`` or ``"onnx"`` (default: ``"torchscript"``).
        quantize (bool, optional): write the dynamically int8-quantised student instead
            (TorchScript only); its logits differ from fp32, so the check is skipped and
            ``max_abs_diff`` reports the difference; compare accuracies instead.
        atol (float, optional): parity tolerance (default: :obj:`1e-5`).
        metadata (dict, optional): JSON-serialisable facts to store with the model (e.g. the
            dataset, the teacher, the accuracy).

    Raises:
        ValueError: a non-MLP model, a bad format or example, a failed parity check, or ONNX
            without the ``onnx``/``onnxruntime`` packages.
    """
    if format not in FORMATS:
        raise ValueError(f"Unknown export format {format!r}; valid choices: {', '.join(FORMATS)}")
    if quantize and format != "torchscript":
        raise ValueError("the int8 student is exported as TorchScript only (format='torchscript')")
    plain = plain_mlp(model)
    in_channels, out_channels = plain.linears[0].in_features, plain.linears[-1].out_features
    if not isinstance(example, Tensor) or example.dim() != 2 or example.size(1) != in_channels:
        shape = list(example.shape) if isinstance(example, Tensor) else type(example).__name__
        raise ValueError(f"example must be feature rows of shape [n, {in_channels}], got {shape}")
    if example.size(0) == 0 or not bool(torch.isfinite(example).all()):
        raise ValueError("example must hold at least one row of finite features")
    example = example.detach().to("cpu", torch.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            reference = model.to("cpu")(example).float()
    finally:
        model.train(was_training)
    module = quantize_int8(plain) if quantize else plain
    meta = {
        "format": format,
        "in_channels": in_channels,
        "out_channels": out_channels,
        "quantized": quantize,
        "graphkd": _version(),
        **(metadata or {}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if format == "torchscript":
            with warnings.catch_warnings():  # torch >= 2.10 marks TorchScript deprecated
                warnings.simplefilter("ignore", DeprecationWarning)
                scripted = torch.jit.script(module)
                torch.jit.save(scripted, str(tmp), _extra_files={META_NAME: json.dumps(meta)})
        else:
            _write_onnx(module, example, tmp)
        from .serve import load_student  # the very loader deployments use

        loaded = load_student(tmp, format=format)
        diff = max(_max_diff(loaded.logits(example), reference), _max_diff(loaded.logits(example[:1]), reference[:1]))
        if not quantize and not diff <= atol:
            raise ValueError(f"exported {format} student differs from the eager model by {diff:.3g} > {atol:g}")
        os.replace(tmp, path)
        if format == "onnx":
            Path(f"{path}.json").write_text(json.dumps(meta, indent=1) + "\n")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ExportReport(str(path), format, diff, quantize, in_channels, out_channels, path.stat().st_size)


def export_bundle(
    model: nn.Module,
    folder: str | os.PathLike,
    x: Tensor,
    y: Tensor | None = None,
    mask: Tensor | None = None,
    onnx: bool | None = None,
    int8: bool = True,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    r"""Exports a trained MLP student every way at once into ``folder``: ``student.pt``
    (TorchScript), ``student.onnx`` (when ``onnx`` is installed, or ``onnx=True``) and
    ``student-int8.pt`` (dynamically quantised), each checked against the eager model; with
    labels, each file's accuracy on the ``mask`` nodes (e.g. the test split) is measured by
    loading it back. Writes ``export.json`` (the reports and accuracies) and returns it.

    Args:
        model (nn.Module): the trained MLP student.
        folder (str): where to write.
        x (Tensor): node features (the first 256 rows check parity).
        y (Tensor, optional): labels, for the accuracy of each exported file.
        mask (Tensor, optional): the nodes to score (default: all).
        onnx (bool, optional): also write ONNX (default: when ``onnx`` and ``onnxruntime`` are
            installed).
        int8 (bool, optional): also write the int8 student (default: :obj:`True`).
        metadata (dict, optional): stored in every file.
    """
    from ..utils.io import atomic_write_text
    from .serve import load_student

    if onnx is None:
        onnx = _has_onnx()
    folder = Path(folder)
    x = x.detach().to("cpu", torch.float32)
    jobs = [("student.pt", "torchscript", False)]
    jobs += [("student.onnx", "onnx", False)] if onnx else []
    jobs += [("student-int8.pt", "torchscript", True)] if int8 else []
    out: dict[str, Any] = {"files": {}}
    for name, fmt, quantize in jobs:
        report = export_student(model, folder / name, x[:256], fmt, quantize, metadata=metadata).to_dict()
        if y is not None:
            rows = x if mask is None else x[mask.cpu()]
            labels = (y if mask is None else y[mask]).cpu().numpy()
            pred = load_student(folder / name).predict(rows)
            report["accuracy"] = float((pred == labels).mean())
        out["files"][name] = report
    atomic_write_text(folder / "export.json", json.dumps(out, indent=1) + "\n")
    return out


def _has_onnx() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript", "onnxruntime"))


def _write_onnx(module: nn.Module, example: Tensor, path: Path) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime  # noqa: F401  (the parity check needs it)
    except ImportError as err:
        raise ValueError(
            f"ONNX export needs onnx, onnxscript and onnxruntime: pip install 'graphkd[deploy]' ({err})"
        ) from None
    import logging

    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                (example,),
                input_names=["x"],
                output_names=["logits"],
                dynamic_shapes={"x": {0: torch.export.Dim("num_nodes")}},
                dynamo=True,
                verbose=False,
            )
        program.save(str(path))
    finally:
        quiet.setLevel(level)


def _max_diff(a: Any, b: Tensor) -> float:
    a = torch.as_tensor(a, dtype=torch.float32)
    return float((a - b).abs().max())


def _version() -> str:
    from .. import __version__

    return __version__
