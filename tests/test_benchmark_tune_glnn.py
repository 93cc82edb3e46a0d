"""benchmarks/tune_glnn.py: grids per method, and CPF's PLP tuned on validation."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from tune_glnn import CPF_KEYS, main, parse_grid  # noqa: E402


def test_parse_grid_crosses_axes_and_casts_each_key():
    grid = parse_grid("lr=0.01,0.001 num_layers=4,8 teacher.dropout=0.5", "cpf")
    assert grid == [
        {"lr": 0.01, "num_layers": 4, "teacher.dropout": 0.5},
        {"lr": 0.01, "num_layers": 8, "teacher.dropout": 0.5},
        {"lr": 0.001, "num_layers": 4, "teacher.dropout": 0.5},
        {"lr": 0.001, "num_layers": 8, "teacher.dropout": 0.5},
    ]
    assert all(isinstance(point["num_layers"], int) for point in grid)
    assert parse_grid("batch_size=none,512", "glnn") == [{"batch_size": None}, {"batch_size": 512}]


@pytest.mark.parametrize(
    "text, method",
    [
        ("num_layers=3", "glnn"),  # a PLP axis
        ("lam=0.3", "cpf"),  # CPF has no hard-label term
        ("batch_size=512", "cpf"),  # PLP trains full batch
        ("teacher.num_layers=3", "cpf"),
        ("adv_eps=0.1", "glnn"),  # PGD is the graphkd recipe's
    ],
)
def test_parse_grid_refuses_keys_the_method_does_not_take(text, method):
    with pytest.raises(ValueError, match="Unknown grid key"):
        parse_grid(text, method)


def test_cpf_keys_are_plp_settings_a_recipe_can_override():
    from graphkd.recipes import get_recipe

    recipe = get_recipe("cpf", "csbm")
    changed = recipe.override(**{f"student.{k}": 7 for k in CPF_KEYS})
    assert all(getattr(changed.student, k) == 7 for k in CPF_KEYS)
    assert changed.student.options == recipe.student.options  # no key fell through to the PLP's options


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_cpf_is_scored_on_validation_nodes(tmp_path, setting):
    results = main(
        ["--dataset", "csbm", "--method", "cpf", "--setting", setting, "--seeds", "1"]
        + ["--grid", "lr=0.01 epochs=3,4", "--out", str(tmp_path)]
    )
    assert [row["epochs"] for row in sorted(results, key=lambda row: row["epochs"])] == [3, 4]
    assert all(0 <= row["score"] <= 100 and 0 <= row["val"] <= 100 for row in results)
    if setting == "transductive":  # the score is the validation accuracy itself
        assert all(row["score"] == row["val"] for row in results)
    payload = json.loads((tmp_path / f"tune_cpf_csbm_{setting}.json").read_text())
    assert payload["base_recipe"]["method"] == "cpf" and len(payload["results"]) == 2
    assert (tmp_path / f"tune_cpf_csbm_{setting}.md").is_file()


def test_no_seeds_fails_before_training(tmp_path):
    with pytest.raises(SystemExit):
        main(["--dataset", "csbm", "--method", "cpf", "--seeds", "0", "--out", str(tmp_path)])
