"""Input checks shared by the relational losses."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_embeddings", "check_mask", "check_widths"]


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


def check_widths(owner: str, student: Tensor, teacher: Tensor, student_channels: int, teacher_channels: int) -> None:
    r"""The widths a module with learned projections was built for."""
    check_embeddings(student, teacher)
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
