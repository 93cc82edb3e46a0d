"""The teacher a benchmark distils: a recipe's teacher trained as ``graphkd distill`` trains it."""

from __future__ import annotations

from typing import Any

from torch_geometric.data import Data

from graphkd.distill import TeacherOutputs
from graphkd.nn import build_model
from graphkd.recipes import ModelSpec
from graphkd.train import Trainer
from graphkd.utils import seed_everything


def trained_teacher(spec: ModelSpec, graph: Data, seed: int, **meta: Any) -> TeacherOutputs:
    r"""The outputs of ``spec``'s model trained on ``graph`` with ``seed`` (seeded, built and trained
    as :func:`graphkd.eval.run_distillation` does); ``meta`` is recorded with them."""
    seed_everything(seed)
    teacher = build_model(spec.name, graph.num_features, graph.num_classes, **spec.model_kwargs())
    Trainer(**spec.trainer_kwargs(), progress=False).fit(teacher, graph, seed=seed)
    return TeacherOutputs.compute(teacher, graph, seed=seed, **meta)
