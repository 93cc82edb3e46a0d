import pytest
import torch

from graphkd.datasets import load
from graphkd.eval import evaluate
from graphkd.nn import build_model
from graphkd.recipes import get_recipe
from graphkd.train import Trainer


@pytest.fixture(scope="session")
def real_cora_teacher(data_root):
    """Real CPF Cora (seed 0) with the GLNN recipe's SAGE teacher and the test accuracy of its
    plain-MLP baseline, trained once for every method's quality-floor test."""
    data = load("cpf-cora", root=data_root, seed=0)
    recipe = get_recipe("glnn", "cpf-cora")
    t, b = recipe.teacher, recipe.baseline_spec
    torch.manual_seed(0)  # the teacher's initial weights: the same teacher in every process
    teacher = build_model(t.name, data.num_features, data.num_classes, **t.model_kwargs())
    Trainer(**t.trainer_kwargs(), progress=False).fit(teacher, data, seed=0)
    torch.manual_seed(0)
    mlp = build_model(b.name, data.num_features, data.num_classes, **b.model_kwargs())
    Trainer(**b.trainer_kwargs(), progress=False).fit(mlp, data, seed=0)
    return data, teacher, evaluate(mlp, data)["test"]
