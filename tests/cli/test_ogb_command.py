import pytest

from graphkd.cli.ogb import _apply_flags, build_ogb_parser
from graphkd.recipes import ModelSpec, get_recipe


def _recipe(argv, dataset="ogbn-arxiv", recipe=None):
    from graphkd.cli.main import _parse_options

    args = build_ogb_parser(dataset).parse_args(argv)
    recipe = _apply_flags(recipe or get_recipe("glnn", dataset), args)
    return recipe.override(**dict(_parse_options(args.set, "--set")))


def test_flags_reach_the_recipe_and_the_baseline_keeps_the_students_architecture():
    r = _recipe(["--epochs", "5", "--student-hidden", "64", "--set", "student.dropout=0.1", "--fanouts", "10,5"])
    assert r.teacher.epochs == r.student.epochs == r.baseline_spec.epochs == 5
    assert r.student.hidden_channels == r.baseline_spec.hidden_channels == 64
    assert r.student.dropout == r.baseline_spec.dropout == 0.1  # --set after --epochs still reaches it
    assert r.teacher.trainer_kwargs()["num_neighbors"] == [10, 5] and r.teacher.num_layers == 2
    assert _recipe(["--batch-size", "1024"]).teacher.batch_size == 1024
    assert _recipe([], "ogbn-products").student.hidden_channels == 2048


def test_a_recipe_with_its_own_baseline_gets_the_architectural_flags():
    own = get_recipe("glnn", "ogbn-arxiv").override(**{"baseline.weight_decay": 5e-4})
    assert own.baseline is not None
    r = _recipe(["--epochs", "7", "--student-hidden", "32", "--student-batch-size", "64"], recipe=own)
    b = r.baseline_spec
    assert (b.epochs, b.hidden_channels, b.batch_size, b.weight_decay) == (7, 32, 64, 5e-4)
    assert isinstance(b, ModelSpec)


def test_bad_flags(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_ogb_parser("ogbn-arxiv").parse_args(["--method", "kd"])
    assert exit_.value.code == 2 and "--method: invalid choice: 'kd'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="fanout"):
        _recipe(["--fanouts", "10,5"]).override(**{"teacher.num_layers": 3}).teacher.trainer_kwargs()
