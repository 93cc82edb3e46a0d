"""Cheap identities: of a graph's nodes, of a whole graph with its split, of trained weights and
of a callable, so that cached results can be told apart from those of another run."""

from __future__ import annotations

import functools
import hashlib
import types
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

__all__ = ["callable_identity", "fingerprint", "graph_digest", "tensor_digest", "weights_digest"]


def fingerprint(data: Data) -> str:
    r"""A hash of the node order and features (``x`` as float32 bytes, plus the shape): two
    graphs with the same fingerprint hold the same features in the same node order."""
    x = data.x.detach().to("cpu", torch.float32).contiguous()
    h = hashlib.sha256(f"{tuple(x.shape)}".encode())
    h.update(memoryview(x.numpy()).cast("B"))  # the bytes in place, no copy
    return h.hexdigest()[:32]


def tensor_digest(tensors: Iterable[Tensor | None], chunk: int = 1 << 22) -> str:
    r"""A hash of the shapes, dtypes and values of ``tensors`` (``None`` entries count as such),
    read chunk by chunk, so a memory-mapped tensor is never copied whole."""
    h = hashlib.sha256()
    for t in tensors:
        if t is None:
            h.update(b"none;")
            continue
        t = t.detach()
        h.update(f"{tuple(t.shape)}{t.dtype};".encode())
        for part in t.reshape(-1).split(chunk):
            part = part.to("cpu").contiguous()
            if part.dtype == torch.bool:
                part = part.to(torch.uint8)
            h.update(memoryview(part.numpy()).cast("B"))
    return h.hexdigest()[:32]


def graph_digest(data: Data) -> str:
    r"""A hash of everything a training run reads from a graph: features, labels, edges and the
    ``train``/``val``/``test`` masks (and ``ind_test_mask`` when present)."""
    keys = ("x", "y", "edge_index", "train_mask", "val_mask", "test_mask", "ind_test_mask")
    return tensor_digest(getattr(data, k, None) for k in keys)


def weights_digest(module: nn.Module) -> str:
    r"""A hash of a module's parameters and buffers (its ``state_dict``)."""
    state = module.state_dict()
    return tensor_digest(state[k] for k in sorted(state))


def callable_identity(fn: Callable[..., Any]) -> str:
    r"""A stable name for a function or callable object: ``module.qualname`` for functions and
    methods (with the defining line for lambdas), the ``repr`` of objects that define one, else
    the class name. Never a memory address, which would differ between processes."""
    if isinstance(fn, (types.FunctionType, types.MethodType)):
        func = fn.__func__ if isinstance(fn, types.MethodType) else fn
        name = f"{func.__module__}.{func.__qualname__}"
        if func.__name__ == "<lambda>":
            name += f"@{func.__code__.co_filename}:{func.__code__.co_firstlineno}"
        return name
    if isinstance(fn, functools.partial):
        args = ", ".join([*map(repr, fn.args), *(f"{k}={v!r}" for k, v in fn.keywords.items())])
        return f"partial({callable_identity(fn.func)}, {args})"
    text = repr(fn)
    if " at 0x" in text or " object at " in text:
        return f"{type(fn).__module__}.{type(fn).__qualname__}"
    return text
