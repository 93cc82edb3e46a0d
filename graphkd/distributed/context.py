"""Joining, querying and leaving the process group that ``torchrun`` sets up, and turning a
failed collective (a dead or silent peer) into one clear error."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DistributedError",
    "barrier",
    "broadcast_object",
    "collective",
    "collective_device",
    "default_device",
    "init",
    "is_distributed",
    "rank",
    "shutdown",
    "world_size",
]

#: seconds a collective waits for the other processes before the job fails (PyTorch's own default
#: for gloo): it must cover the longest wait of a healthy job, e.g. rank 0 checksumming the
#: teacher outputs (:func:`graphkd.distributed.sharded_teacher_outputs`) while the others wait
DEFAULT_TIMEOUT_S = 1800
_STATE: dict[str, float | None] = {"timeout_s": None}  # known when init() created the group
_TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


class DistributedError(RuntimeError):
    r"""A collective operation failed: another process died, or did not answer in time."""


def init(backend: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[int, int]:
    r"""Joins the process group described by ``torchrun``'s environment (``RANK``,
    ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and returns
    ``(rank, world_size)``; a no-op when the group exists already.

    Args:
        backend (str, optional): ``"gloo"`` (CPU) or ``"nccl"`` (one GPU per process); default:
            NCCL when every process of this node has a GPU of its own (``LOCAL_WORLD_SIZE`` at
            most the visible CUDA devices), else gloo on the CPUs.
        timeout_s (float, optional): how long any collective waits for the other processes
            before failing (default: :obj:`1800`). With gloo, a process that dies or hangs then
            fails the others with :class:`DistributedError` instead of blocking them forever;
            with NCCL, PyTorch's watchdog aborts the waiting processes at the timeout (the job
            fails and ``torchrun`` reports it; no Python exception is raised).

    Raises:
        RuntimeError: outside ``torchrun`` (the environment is missing), naming the variables.
        ValueError: for an unknown backend, or NCCL without a CUDA device for this process.
    """
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    missing = [k for k in _TORCHRUN_ENV if k not in os.environ]
    if missing:
        raise RuntimeError(
            f"no process group to join: {', '.join(missing)} not set; start the job with "
            "torchrun --nproc_per_node=N -m graphkd.distributed ... (or set them as torchrun does)"
        )
    if timeout_s is None or timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s!r}")
    backend = backend or ("nccl" if _gpu_per_process() else "gloo")
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"Unknown backend {backend!r}; valid choices: gloo, nccl")
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise ValueError("the nccl backend needs CUDA; use backend='gloo' on CPUs")
        local_rank, devices = int(os.environ["LOCAL_RANK"]), torch.cuda.device_count()
        if local_rank >= devices:
            raise ValueError(
                f"the nccl backend needs one GPU per process, but LOCAL_RANK is {local_rank} and "
                f"{devices} CUDA device(s) are visible; start at most {devices} process(es) per node, "
                "or use backend='gloo' (on the CPUs)"
            )
        torch.cuda.set_device(local_rank)
        # a timed-out NCCL collective then aborts the process (the job fails) instead of hanging
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
    dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    _STATE["timeout_s"] = float(timeout_s)
    return dist.get_rank(), dist.get_world_size()


def is_distributed() -> bool:
    r"""Whether this process is in an initialised process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    r"""This process's rank (0 outside a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    r"""The number of processes (1 outside a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def collective_device() -> torch.device:
    r"""Where tensors handed to collectives must live: this process's GPU with NCCL, else the
    CPU (gloo)."""
    if is_distributed() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def default_device() -> torch.device:
    r"""This process's device: ``cuda:<LOCAL_RANK>`` when every process of this node has a GPU of
    its own (``LOCAL_WORLD_SIZE`` at most the visible CUDA devices), else the CPU; with NCCL,
    always the process's GPU."""
    if is_distributed() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    if _gpu_per_process():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def _gpu_per_process() -> bool:
    r"""Whether CUDA is available with a device for each of this node's processes (two processes
    on one GPU would need NCCL to share it, which it refuses)."""
    if not torch.cuda.is_available():
        return False
    return int(os.environ.get("LOCAL_WORLD_SIZE", 1)) <= torch.cuda.device_count()


@contextlib.contextmanager
def collective(what: str) -> Iterator[None]:
    r"""Runs the block, turning a failed collective into :class:`DistributedError` that names
    this rank, ``what`` was being done and the timeout."""
    try:
        yield
    except DistributedError:
        raise
    except (RuntimeError, dist.DistError) as err:
        if not is_distributed():
            raise
        text = str(err)
        if not _looks_collective(text):
            raise
        timeout = _STATE["timeout_s"]
        within = f"within the {timeout:g} s timeout" if timeout is not None else "within the process group's timeout"
        raise DistributedError(
            f"rank {rank()} of {world_size()}: {what} failed because another process failed, died or did not answer "
            f"{within} ({type(err).__name__}: {text.splitlines()[0][:300]}); the first failure is in torchrun's report"
        ) from err


def _looks_collective(text: str) -> bool:
    low = text.lower()
    signs = ("gloo", "nccl", "connection", "timed out", "timeout", "peer", "socket", "broken pipe", "closed")
    return any(s in low for s in signs)


def barrier(what: str = "waiting for the other processes") -> None:
    r"""Waits for every process (no-op outside a process group)."""
    if is_distributed():
        with collective(what):
            dist.barrier()


def broadcast_object(obj: Any, src: int = 0, what: str = "broadcast") -> Any:
    r"""``obj`` of rank ``src`` on every process (``obj`` itself outside a process group)."""
    if not is_distributed():
        return obj
    box = [obj]
    with collective(what):
        dist.broadcast_object_list(box, src=src)
    return box[0]


def shutdown() -> None:
    r"""Leaves the process group (no-op outside one)."""
    if is_distributed():
        dist.destroy_process_group()
