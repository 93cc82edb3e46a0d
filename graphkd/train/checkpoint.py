"""Resumable training: the engine's whole state after an epoch, written atomically and checked
on load, so a run killed at any moment continues where its last checkpoint left it and ends
exactly as an uninterrupted run would (on the CPU; the same device and library versions)."""

from __future__ import annotations

import io
import logging
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..utils.io import atomic_write_bytes
from .history import EpochRecord, History

__all__ = ["TrainingState", "load_checkpoint", "restore_rng_state", "rng_state", "save_checkpoint"]

FORMAT_VERSION = 1
log = logging.getLogger("graphkd.train")


def rng_state() -> dict[str, Any]:
    r"""The state of Python's, NumPy's and torch's (CPU and every CUDA device's) generators, in
    types that ``torch.load(weights_only=True)`` reads back."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos)},
        "numpy_gauss": [int(has_gauss), float(cached)],
        "python": [int(version), list(internal), gauss],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    r"""Puts back generator states taken by :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    keys = state["numpy"]["keys"].numpy().astype(np.uint32)
    has_gauss, cached = state["numpy_gauss"]
    np.random.set_state((state["numpy"]["kind"], keys, state["numpy"]["pos"], has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state:
        if torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state["cuda"])
        else:
            log.warning(
                "the checkpoint holds the generators of %d CUDA device(s) but %d are present: CUDA "
                "randomness is not restored, so the resumed run may differ from an uninterrupted one",
                len(state["cuda"]),
                torch.cuda.device_count() if torch.cuda.is_available() else 0,
            )


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    r"""Writes ``state`` (tensors, numbers, strings, lists and dicts of them) to ``path``
    atomically: an interrupted write leaves the previous checkpoint intact."""
    buf = io.BytesIO()
    torch.save({"format": FORMAT_VERSION, **state}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike, signature: dict[str, Any]) -> dict[str, Any] | None:
    r"""The checkpoint at ``path`` (``None`` if there is none), after checking that it was
    written by the same run: its ``signature`` (model, optimiser settings, data, ...) must equal
    ``signature``.

    Raises:
        ValueError: for a truncated or foreign file, or a checkpoint of another run (the
            message names the differing entries).
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a truncated or foreign file
        raise ValueError(f"{path} is not a readable graphkd checkpoint ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION or "signature" not in state:
        raise ValueError(f"{path} is not a graphkd training checkpoint (format {FORMAT_VERSION})")
    saved = state["signature"]
    differ = sorted(k for k in set(saved) | set(signature) if _normalise(saved.get(k)) != _normalise(signature.get(k)))
    if differ:
        details = "; ".join(f"{k}: {saved.get(k)!r} in the checkpoint, {signature.get(k)!r} now" for k in differ)
        raise ValueError(
            f"checkpoint {path} was written by another run ({details}); remove it, or write this run elsewhere"
        )
    return state


def _normalise(value: Any) -> Any:
    # tuples come back from torch.load as lists, and tensors compare by value
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, Tensor):
        return value.tolist()
    return value


class TrainingState:
    r"""What :meth:`graphkd.train.Trainer.fit` needs to continue a run: epochs done, the best
    validation accuracy and weights so far, epochs waited without improvement, and the history.
    :meth:`save` adds the live weights, optimiser, generators and batch-source state."""

    def __init__(self) -> None:
        self.epoch, self.best_val, self.waited = 0, -1.0, 0
        self.best_state: dict[str, Tensor] | None = None
        self.history = History()

    def save(
        self,
        path: str | os.PathLike,
        signature: dict[str, Any],
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        extra_modules: Sequence[nn.Module],
        batches: Any,
        done: bool,
        rng: Any = None,
        batch_state: Any = None,
    ) -> Path:
        r"""Writes the run's state to ``path`` (``rng`` and ``batch_state``: the generators' and
        the batch source's states, default: this process's)."""
        source = getattr(batches, "state_dict", None)
        if batch_state is None and callable(source):
            batch_state = source()
        return save_checkpoint(
            path,
            {
                "signature": signature,
                "done": done,
                "epoch": self.epoch,
                "best_val": self.best_val,
                "waited": self.waited,
                "best_state": self.best_state,
                "history": self.history.to_dict(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "extra_modules": [m.state_dict() for m in extra_modules],
                "rng": rng if rng is not None else rng_state(),
                "batches": batch_state,
            },
        )

    @classmethod
    def restore(
        cls,
        saved: dict[str, Any],
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        extra_modules: Sequence[nn.Module],
        batches: Any,
    ) -> TrainingState:
        r"""The state of a loaded checkpoint; puts its weights, optimiser state, generators and
        batch-source state back in place."""
        out = cls()
        out.epoch, out.best_val, out.waited = int(saved["epoch"]), float(saved["best_val"]), int(saved["waited"])
        out.best_state = saved["best_state"]
        h = saved["history"]
        out.history = History(
            [EpochRecord(**e) for e in h["epochs"]], h["best_epoch"], h["stopped_early"], h["train_time_s"]
        )
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        for module, state in zip(extra_modules, saved["extra_modules"], strict=True):
            module.load_state_dict(state)
        restore_rng_state(saved["rng"])
        if saved.get("batches") is not None and hasattr(batches, "load_state_dict"):
            batches.load_state_dict(saved["batches"])
        return out
