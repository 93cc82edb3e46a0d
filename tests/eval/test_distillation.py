import json
from dataclasses import replace

import pytest

from graphkd.datasets import load
from graphkd.eval import run_distillation
from graphkd.eval.distillation import _finished_rows
from graphkd.recipes import get_recipe

RECIPE = get_recipe("glnn", "csbm").override(
    **{"teacher.epochs": 6, "student.epochs": 6, "baseline.epochs": 6, "teacher.hidden_channels": 16}
)


def test_workdir_makes_seeds_resumable_and_skips_finished_ones(tmp_path, monkeypatch):
    rows = run_distillation("csbm", [0, 1], recipe=RECIPE, workdir=tmp_path, timing_repeats=0)
    for seed in (0, 1):
        files = {p.name for p in (tmp_path / f"seed-{seed}").iterdir()}
        assert {"teacher.ckpt", "mlp.ckpt", "student.ckpt", "teacher_outputs.pt", "rows.json"} <= files
    assert all(r.infer_time_s is None for r in rows)

    import graphkd.eval.distillation as protocol

    def no_load(*args, **kwargs):
        raise AssertionError("a finished seed must not be run again")

    monkeypatch.setattr(protocol, "load", no_load)
    logged = []
    again = run_distillation("csbm", [0, 1], recipe=RECIPE, workdir=tmp_path, on_seed=lambda s, r: logged.append(s))
    assert again == rows and logged == [0, 1]
    monkeypatch.undo()

    # an interrupted seed (its rows not yet written) continues from its checkpoints: the same rows
    (tmp_path / "seed-1" / "rows.json").unlink()
    (tmp_path / "seed-1" / "student.ckpt").unlink()
    resumed = run_distillation("csbm", [0, 1], recipe=RECIPE, workdir=tmp_path, timing_repeats=0)
    assert resumed[:5] == rows[:5]  # teacher and MLP of seed 1 restored from their finished checkpoints
    assert replace(resumed[5], train_time_s=0) == replace(rows[5], train_time_s=0)  # the student trained again


def test_on_student_sees_each_trained_student_and_its_history(tmp_path):
    seen = []

    def on_student(seed, distiller):
        history = distiller.history_
        seen.append((seed, len(history.epochs), history.best_epoch, history.best.test_acc))

    rows = run_distillation("csbm", [0, 1], recipe=RECIPE, workdir=tmp_path, timing_repeats=0, on_student=on_student)
    assert [s for s, *_ in seen] == [0, 1]
    assert all(n == 6 for _, n, _, _ in seen)  # the recipe's 6 epochs, all recorded
    # the reported student rows are read off the very histories the callback saw
    students = [r for r in rows if r.model == "glnn"]
    assert [(r.seed, r.epochs_run, r.best_epoch, r.test_acc) for r in students] == seen
    # seeds the workdir had finished are not trained again, so no callback for them
    seen.clear()
    run_distillation("csbm", [0, 1], recipe=RECIPE, workdir=tmp_path, on_student=on_student)
    assert seen == []


def test_workdir_of_another_run_is_refused(tmp_path):
    run_distillation("csbm", [0], recipe=RECIPE, workdir=tmp_path, timing_repeats=0)
    with pytest.raises(ValueError, match=r"holds the results of another run \(differs in: recipe\)"):
        run_distillation("csbm", [0], recipe=RECIPE.override(lam=0.5), workdir=tmp_path)
    with pytest.raises(ValueError, match=r"differs in: setting"):
        run_distillation("csbm", [0], recipe=RECIPE, setting="inductive", workdir=tmp_path)
    (tmp_path / "seed-0" / "rows.json").write_text("{truncated")
    with pytest.raises(ValueError, match="not a graphkd results file"):
        run_distillation("csbm", [0], recipe=RECIPE, workdir=tmp_path)
    (tmp_path / "seed-0" / "rows.json").unlink()
    # another teacher: its checkpoint is refused; once removed, the teacher trains again, its
    # outputs are recomputed (the kept ones belong to other weights) and the student's
    # checkpoint, made from the old outputs, is refused in turn
    other_teacher = RECIPE.override(**{"teacher.lr": 0.02})
    with pytest.raises(ValueError, match="teacher.ckpt was written by another run"):
        run_distillation("csbm", [0], recipe=other_teacher, workdir=tmp_path)
    (tmp_path / "seed-0" / "teacher.ckpt").unlink()
    with pytest.raises(ValueError, match="student.ckpt was written by another run .*teacher_outputs"):
        run_distillation("csbm", [0], recipe=other_teacher, workdir=tmp_path)


def test_loaded_graphs_are_told_apart_by_content(tmp_path):
    a = load("csbm", graph_seed=0)
    b = load("csbm", graph_seed=1)  # same name, another graph
    assert a.name == b.name
    run_distillation(a, [0], recipe=RECIPE, workdir=tmp_path, timing_repeats=0)
    with pytest.raises(ValueError, match=r"differs in: graph"):
        run_distillation(b, [0], recipe=RECIPE, workdir=tmp_path)


def test_a_loaded_graph_and_a_custom_metric(tmp_path):
    data = load("csbm", seed=3)
    calls = []

    def half(logits, y, mask=None):
        calls.append(int(mask.sum()) if mask is not None else len(y))
        return 0.5

    rows = run_distillation(data, [0, 1], recipe=RECIPE, setting="inductive", metric=half, timing_repeats=1)
    assert calls and all(r.test_acc == 0.5 and r.val_acc == 0.5 and r.test_ind_acc == 0.5 for r in rows)
    assert {r.seed for r in rows} == {0, 1} and all(r.infer_time_s > 0 for r in rows)
    with pytest.raises(ValueError, match="timing_repeats must be a non-negative integer"):
        run_distillation(data, [0], recipe=RECIPE, timing_repeats=-1)


def test_finished_rows_need_the_same_identity(tmp_path):
    assert _finished_rows(None, {}) is None and _finished_rows(tmp_path, {}) is None
    (tmp_path / "rows.json").write_text(json.dumps({"identity": {"seed": 1}, "rows": []}))
    assert _finished_rows(tmp_path, {"seed": 1}) == []
    with pytest.raises(ValueError, match="differs in: seed"):
        _finished_rows(tmp_path, {"seed": 2})


def test_a_finished_seed_without_its_export_is_refused_before_training(tmp_path, monkeypatch):
    run_distillation("csbm", [0], recipe=RECIPE, workdir=tmp_path / "work", timing_repeats=0)
    import graphkd.eval.distillation as protocol

    def no_load(*args, **kwargs):
        raise AssertionError("nothing may be loaded or trained before the refusal")

    monkeypatch.setattr(protocol, "load", no_load)
    with pytest.raises(ValueError, match=r"seeds \[0\] finished in .* without an export in"):
        run_distillation("csbm", [0, 1], recipe=RECIPE, workdir=tmp_path / "work", export_dir=tmp_path / "students")


def test_repeated_seeds_and_a_later_seed_of_another_run_are_refused_before_training(tmp_path, monkeypatch):
    run_distillation("csbm", [1], recipe=RECIPE, workdir=tmp_path, timing_repeats=0)
    import graphkd.eval.distillation as protocol

    def no_load(*args, **kwargs):
        raise AssertionError("nothing may be loaded or trained before the refusal")

    monkeypatch.setattr(protocol, "load", no_load)
    with pytest.raises(ValueError, match=r"seeds must be distinct, got \[0, 0\]"):
        run_distillation("csbm", [0, 0], recipe=RECIPE)
    # seed 0 is new, seed 1's folder holds another recipe's run: refused before seed 0 trains
    with pytest.raises(ValueError, match="seed-1 holds the results of another run"):
        run_distillation("csbm", [0, 1], recipe=RECIPE.override(lam=0.5), workdir=tmp_path)
