"""Sharded teacher inference: every process computes its range of nodes, layer by layer, into
one memory-mapped teacher-outputs folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor
from torch_geometric.data import Data

from ..distill.teacher_outputs import (
    TeacherOutputs,
    check_hidden_layers,
    provenance,
    teacher_extras,
    write_manifest,
)
from ..nn.base import Model
from . import context
from .sharding import node_range

__all__ = ["sharded_teacher_outputs"]


@torch.no_grad()
def sharded_teacher_outputs(
    teacher: Model,
    data: Data,
    directory: str | os.PathLike,
    hidden_layers: list[int] | None = None,
    batch_size: int = 65536,
    extras: dict[str, Tensor] | None = None,
    **meta: Any,
) -> TeacherOutputs:
    r""":meth:`TeacherOutputs.compute` split over the processes of a ``torch.distributed`` group
    (one process without a group), written as a memory-mapped folder
    (:meth:`TeacherOutputs.save_mmap`'s format) and returned memory-mapped on every process.

    Layer-wise inference, sharded by node ranges (:func:`node_range`): every process reads the
    whole graph and the previous layer's output of every node from a shared memory-mapped
    ``.npy`` in ``directory``, computes its own nodes' rows of the next layer
    (:meth:`graphkd.nn.Model.layer_rows`, the code of single-process inference) and writes them
    into the next file; a barrier separates layers (and APPNP's propagation steps). Memory per
    process: the graph, one layer's input mapped from disk (shared through the page cache on one
    machine) and its own rows; on a GPU, the sparse-aggregation path (GCN, GraphSAGE, GIN) copies
    the layer's whole input to the device, and GCN/VQ teachers transform every node's input
    (each process repeats that dense step). On disk: the layer being read and the one being
    written (APPNP: also the layer stack's logits); kept layers become ``hidden_<i>``, the
    others are removed as soon as no process reads them. Ranges balance nodes, not edges.

    Rank 0 records the metadata (as :meth:`TeacherOutputs.compute` does, plus ``shards``), the
    arrays' checksums (one read of every array, while the other processes wait: the process
    group's timeout must cover it) and ``meta.json`` last and atomically, so an interrupted run leaves the
    previous outputs in ``directory`` readable; leftovers of an interrupted run are removed by
    the next successful one. ``directory`` must be on a filesystem every process sees (one
    machine, or a shared mount across nodes).

    Args:
        teacher (Model): the trained teacher (the same weights on every process).
        data (Data): the graph (the same on every process).
        directory (str): the teacher-outputs folder.
        hidden_layers (list[int], optional): the teacher's hidden layers to keep.
        batch_size (int, optional): target nodes per chunk within a process's range.
        extras (dict[str, Tensor], optional): further tensors to keep (rank 0's are written).
        **meta: provenance to record (``dataset=``, ``seed=``, ...).

    Raises:
        ValueError: for non-finite outputs (on every process), or a bad ``hidden_layers``.
        graphkd.distributed.DistributedError: when another process dies or times out.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rank, world = context.rank(), context.world_size()
    num_layers, n = teacher.num_layers, int(data.num_nodes)
    layers = check_hidden_layers(hidden_layers, num_layers) if hidden_layers is not None else None
    teacher._check_input(data.x, data.edge_index)
    directory = Path(directory)
    if rank == 0:
        directory.mkdir(parents=True, exist_ok=True)
    token = context.broadcast_object(secrets.token_hex(4) if rank == 0 else None, what="starting sharded inference")
    start, stop = node_range(n, rank, world)
    dtype = next(teacher.parameters()).dtype
    was_training = teacher.training
    teacher.eval()
    written: list[str] = []

    def shared(name: str, rows: Tensor) -> Tensor:
        file = f"{name}-{token}.npy"
        written.append(file)
        return _write_rows(directory / file, rows, start, n, dtype, f"writing {name}")

    def drop(file: str) -> None:
        # a file no process reads any more (everyone passed the barrier after the next one)
        if rank == 0:
            (directory / file).unlink(missing_ok=True)

    try:
        graph = teacher.prepare(data.edge_index, n) if teacher.uses_graph else None
        h, layer_files = data.x, []
        for i in range(num_layers):
            rows = teacher.layer_rows(i, h, graph, start, stop, batch_size)
            if i < num_layers - 1:
                rows = teacher._post_chunked(i, h[start:stop], rows, batch_size)
            h = shared(f"layer_{i}", rows)
            layer_files.append(written[-1])
            if i > 0 and i - 1 not in (layers or []):
                drop(layer_files[i - 1])
        logits = h
        for step in range(teacher.finish_steps):  # APPNP's propagation, one barrier per step
            h = shared(f"finish_{step}", teacher.finish_rows(step, h, logits, graph, start, stop, batch_size))
            if step > 0:
                drop(written[-2])  # the previous step (the layer stack's logits stay: every step reads them)
        final = written[-1]
    finally:
        teacher.train(was_training)
    kept = [h] + [torch.from_numpy(np.load(directory / layer_files[i], mmap_mode="c")) for i in layers or []]
    bad = any(not bool(torch.isfinite(t[start:stop]).all()) for t in kept)
    flag = torch.tensor([int(bad)], device=context.collective_device())
    if context.is_distributed():
        with context.collective("checking the outputs"):
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    if int(flag):
        context.barrier()
        if rank == 0:
            for file in written:
                (directory / file).unlink(missing_ok=True)
        raise ValueError("the teacher produced non-finite outputs (NaN/Inf): check its inputs and training")
    if rank == 0:
        files = {"logits": final}
        for j, i in enumerate(layers or []):
            files[f"hidden_{j}"] = final if i == num_layers - 1 else layer_files[i]
        for key, value in teacher_extras(teacher, extras).items():
            files[f"extra_{key}"] = f"extra_{key}-{token}.npy"
            np.save(directory / files[f"extra_{key}"], value.numpy())
        info = provenance(teacher, data, int(logits.size(1)), num_layers, layers, shards=world, **meta)
        write_manifest(directory, info, files)  # removes the unreferenced layer files too
    context.barrier("finalising the teacher outputs")
    return TeacherOutputs.load(directory, verify=False)


def _write_rows(path: Path, rows: Tensor, start: int, n: int, dtype: torch.dtype, what: str) -> Tensor:
    # rank 0 creates the [n, d] file; each process writes its rows; then everyone maps it
    rank = context.rank()
    width = rows.size(1)
    np_dtype = torch.empty(0, dtype=dtype).numpy().dtype
    if rank == 0:
        array = np.lib.format.open_memmap(path, mode="w+", dtype=np_dtype, shape=(n, width))
        del array
    context.barrier(what)
    if rows.size(0):
        array = np.load(path, mmap_mode="r+")
        array[start : start + rows.size(0)] = rows.detach().cpu().to(dtype).numpy()
        array.flush()
        del array
    context.barrier(what)
    return torch.from_numpy(np.load(path, mmap_mode="c"))
