import pytest

from graphkd.recipes import ModelSpec, get_recipe
from graphkd.train import Trainer


def test_model_spec_mini_batch_settings_reach_the_trainer():
    spec = ModelSpec("sage", num_layers=2, batch_size=512, fanout=5)
    kwargs = spec.trainer_kwargs()
    assert kwargs["batch_size"] == 512 and kwargs["num_neighbors"] == [5, 5]
    assert Trainer(**kwargs).num_neighbors == [5, 5]
    assert "batch_size" not in ModelSpec("mlp").trainer_kwargs()  # full-batch by default
    with pytest.raises(ValueError, match="fanout=5 needs batch_size"):
        ModelSpec("sage", fanout=5).trainer_kwargs()
    recipe = get_recipe("glnn", "cpf-cora").override(**{"teacher.batch_size": 512, "teacher.fanout": 5})
    assert recipe.teacher.trainer_kwargs()["num_neighbors"] == [5] * recipe.teacher.num_layers
