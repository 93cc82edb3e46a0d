import pytest

from graphkd.eval import run_distillation, write_results
from graphkd.eval.plot import plot_tradeoff, tradeoff_points
from graphkd.recipes import get_recipe

BASE = get_recipe("glnn", "csbm").override(
    **{"teacher.epochs": 5, "student.epochs": 5, "teacher.hidden_channels": 16, "student.hidden_channels": 16}
)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    out = []
    for name, changes in (("one", {"teacher.num_layers": 1}), ("two", {})):
        recipe = BASE.override(**changes)
        rows = run_distillation("csbm", [0, 1], recipe=recipe, timing_repeats=1)
        out.append(write_results(root / name, {"method": "glnn", "recipe": recipe.to_dict()}, rows))
    rows = run_distillation("csbm", [0], recipe=BASE, timing_repeats=0)
    out.append(write_results(root / "untimed", {"method": "glnn", "recipe": BASE.to_dict()}, rows))
    return out


def test_points_are_labelled_by_architecture_and_deduplicated(folders):
    points = tradeoff_points(folders[:2])
    labels = [p.label for p in points]
    assert labels == [
        "SAGE 1-layer (16)",
        "MLP 2x16",
        "GLNN 2x16 (SAGE-1 teacher)",
        "SAGE 2-layer (16)",
        "GLNN 2x16 (SAGE-2 teacher)",
    ]
    assert [p.kind for p in points] == ["teacher", "mlp", "student", "teacher", "student"]
    assert all(p.latency_ms > 0 and 0 <= p.accuracy <= 100 for p in points)
    full = tradeoff_points(folders[:2], latency="full-graph")
    assert all(p.latency_ms > 0 for p in full)


def test_plot_writes_a_png(folders, tmp_path):
    pytest.importorskip("matplotlib")
    path = plot_tradeoff(folders[:2], tmp_path / "plots" / "t.png", title="csbm")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size < 200_000


def test_bad_inputs(folders, tmp_path):
    with pytest.raises(ValueError, match="has no results.json"):
        tradeoff_points([tmp_path])
    with pytest.raises(ValueError, match="no 'ind' accuracy"):
        tradeoff_points(folders[:1], metric="ind")
    with pytest.raises(ValueError, match="no measured request latency"):
        tradeoff_points(folders[2:])
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        tradeoff_points(folders, metric="auc")
