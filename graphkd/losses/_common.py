"""Input checks shared by the losses."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_embeddings", "check_finite", "check_index", "check_mask", "check_widths"]


def check_embeddings(student: Tensor, teacher: Tensor, same_width: bool = False) -> None:
    r"""Both ``[N, d]`` with the same ``N`` (and the same ``d`` if ``same_width``)."""
    if not isinstance(student, Tensor) or not isinstance(teacher, Tensor) or student.dim() != 2 or teacher.dim() != 2:
        raise ValueError(
            "student and teacher embeddings must be 2-D tensors [num_nodes, dim], got "
            f"{_shape(student)} and {_shape(teacher)}"
        )
    if student.size(0) != teacher.size(0):
        raise ValueError(
            f"student and teacher embeddings cover different nodes: {student.size(0)} vs {teacher.size(0)} rows"
        )
    if same_width and student.size(1) != teacher.size(1):
        raise ValueError(
            f"student width {student.size(1)} != teacher width {teacher.size(1)}; this loss compares embeddings "
            "directly, so give it a projection or embeddings of one width"
        )


def check_finite(teacher: Tensor, what: str = "teacher outputs") -> None:
    r"""Raises :class:`ValueError` if ``teacher`` holds NaN or Inf. The teacher is a fixed target,
    so a non-finite value there is a data error that would otherwise turn the loss into NaN
    silently (a non-finite *student* is a diverged run: :class:`graphkd.train.Trainer` stops on a
    non-finite loss)."""
    if not bool(torch.isfinite(teacher).all()):
        raise ValueError(f"{what} contain NaN or Inf; check the teacher's inputs and training")


def check_index(index: Tensor | None, num_nodes: int) -> Tensor | None:
    r"""A node set given as ``[m]`` integer ids in ``0..num_nodes - 1``, or ``None`` (all nodes)."""
    if index is None:
        return None
    if not isinstance(index, Tensor) or index.dim() != 1 or index.dtype not in (torch.int64, torch.int32):
        dtype = getattr(index, "dtype", "")
        raise ValueError(f"index must be a 1-D integer tensor of node ids, got {_shape(index)} {dtype}")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= num_nodes):
        raise ValueError(f"index refers to nodes outside 0..{num_nodes - 1}")
    return index


def check_widths(owner: str, student: Tensor, teacher: Tensor, student_channels: int, teacher_channels: int) -> None:
    r"""The widths a module with learned projections was built for, and a finite teacher."""
    check_embeddings(student, teacher)
    check_finite(teacher, "teacher embeddings")
    if student.size(1) != student_channels or teacher.size(1) != teacher_channels:
        raise ValueError(
            f"{owner}({student_channels}, {teacher_channels}) got student width {student.size(1)} "
            f"and teacher width {teacher.size(1)}"
        )


def check_mask(mask: Tensor | None, num_nodes: int) -> Tensor | None:
    r"""A boolean ``[num_nodes]`` mask, or ``None``."""
    if mask is not None and (mask.dtype != torch.bool or mask.shape != (num_nodes,)):
        raise ValueError(f"mask must be a boolean tensor of shape [{num_nodes}], got {mask.dtype} {list(mask.shape)}")
    return mask


def _shape(t: object) -> str:
    return str(list(t.shape)) if isinstance(t, Tensor) else type(t).__name__
