import json

import pytest

from graphkd.cli.main import main
from graphkd.eval.compare import compare_table

QUICK = ["--set", "teacher.epochs=3", "--set", "student.epochs=2", "--set", "baseline.epochs=2"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    for method in ("glnn", "nosmog"):
        extra = ["--set", "pos_walk_length=5"] if method == "nosmog" else []
        argv = ["distill", "--dataset", "csbm", "--method", method, "--seeds", "1", *QUICK, *extra]
        assert main([*argv, "--out", str(root / method)]) == 0
    argv = ["distill", "--dataset", "csbm", "--setting", "inductive", "--seeds", "1", *QUICK]
    assert main([*argv, "--out", str(root / "glnn-ind")]) == 0
    return root


def test_methods_side_by_side_with_one_teacher_and_mlp(folders, capsys):
    table = compare_table([folders / "glnn", folders / "nosmog"])
    header, _, row = table.strip().splitlines()
    assert header == "| dataset | setting | teacher | mlp | glnn | nosmog |"
    assert row.startswith("| csbm | transductive | ") and row.count("(1)") == 4
    assert main(["compare", str(folders / "glnn"), str(folders / "nosmog"), "--out", str(folders / "t.md")]) == 0
    assert capsys.readouterr().out.startswith(header) and (folders / "t.md").read_text() == table


def test_refuses_what_cannot_be_compared(folders, tmp_path):
    with pytest.raises(ValueError, match="two folders hold glnn on csbm"):
        compare_table([folders / "glnn", folders / "glnn"])
    with pytest.raises(ValueError, match="has no results.json"):
        compare_table([tmp_path])
    with pytest.raises(ValueError, match="no 'ind' accuracy"):
        compare_table([folders / "glnn"], metric="ind")
    with pytest.raises(ValueError, match="Unknown metric 'val'"):
        compare_table([folders / "glnn"], metric="val")
    other = tmp_path / "other"
    other.mkdir()
    payload = json.loads((folders / "nosmog" / "results.json").read_text())
    payload["config"]["recipe"]["teacher"]["dropout"] = 0.1  # another teacher: not comparable
    (other / "results.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="differs from the row's first folder") as error:
        compare_table([folders / "glnn", other])
    assert "CPU threads" not in str(error.value)
    payload["config"]["recipe"]["teacher"]["dropout"] = json.loads((folders / "glnn" / "results.json").read_text())[
        "config"
    ]["recipe"]["teacher"]["dropout"]
    payload["summary"][0]["test_mean"] += 0.01  # same recipe, other teachers: on another number of threads
    payload["environment"]["cpu_threads"] += 1
    (other / "results.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="differ in CPU threads: .* OMP_NUM_THREADS"):
        compare_table([folders / "glnn", other])
    payload["environment"]["cpu_threads"] -= 1  # same threads, another machine
    payload["environment"]["platform"] += "-elsewhere"
    (other / "results.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="ran on different machines: .*-elsewhere; another CPU"):
        compare_table([folders / "glnn", other])


def test_teachers_are_checked_on_every_seed_both_folders_ran(folders, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    payload = json.loads((folders / "nosmog" / "results.json").read_text())
    sage = next(s for s in payload["summary"] if s["model"] == "sage")
    sage["seeds"] = [0, 7]  # other seed sets: the summaries cannot be compared, seed 0's runs can
    sage["runs"] = 2
    run = next(r for r in payload["runs"] if r["model"] == "sage" and r["seed"] == 0)
    (other / "results.json").write_text(json.dumps(payload))
    assert "other teachers" not in compare_table([folders / "glnn", other])  # seed 0's teacher agrees
    run["test_acc"] += 0.01  # seed 0 trained another teacher
    (other / "results.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="differs from the row's first folder.*--other-teachers mark"):
        compare_table([folders / "glnn", other])
    row = compare_table([folders / "glnn", other], other_teachers="mark").strip().splitlines()[-1]
    nosmog_cell = row.split(" | ")[-1]
    assert nosmog_cell.endswith(f"; other teachers sage {100 * sage['test_mean']:.2f} ± {100 * sage['test_std']:.2f} |")
    assert "other teachers" not in row.split(" | ")[-2]  # glnn: the row's own teachers
    assert main(["compare", str(folders / "glnn"), str(other), "--other-teachers", "mark"]) == 0
    assert "; other teachers sage" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Unknown other_teachers 'ignore'; valid choices: refuse, mark"):
        compare_table([folders / "glnn"], other_teachers="ignore")


def test_a_method_with_a_teacher_model_of_its_own_names_it(folders, tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    payload = json.loads((folders / "nosmog" / "results.json").read_text())
    payload["config"]["method"] = "vqgraph"
    payload["config"]["recipe"]["teacher"]["name"] = "vq-sage"
    for summary in payload["summary"]:
        summary["model"] = {"sage": "vq-sage", "nosmog": "vqgraph"}.get(summary["model"], summary["model"])
    (own / "results.json").write_text(json.dumps(payload))
    header, _, row = compare_table([folders / "glnn", own]).strip().splitlines()
    assert header == "| dataset | setting | teacher | mlp | glnn | vqgraph |"
    assert "; own teacher vq-sage " in row.split(" | ")[-1]


def test_each_row_shows_what_its_setting_reports(folders):
    table = compare_table([folders / "glnn", folders / "glnn-ind"])
    transductive, inductive = table.strip().splitlines()[2:]
    assert transductive.startswith("| csbm | transductive | ") and " / " not in transductive
    assert inductive.startswith("| csbm | inductive | ")
    cells = inductive.strip("| ").split(" | ")[2:]  # teacher, mlp, glnn: "ind ± s / prod ± s (1)"
    assert len(cells) == 3 and all(c.count(" ± ") == 2 and c.count(" / ") == 1 and c.endswith("(1)") for c in cells)
    ind = compare_table([folders / "glnn-ind"], metric="ind").strip().splitlines()[2]
    assert ind.split(" | ")[2] == cells[0].split(" / ")[0] + " (1)"  # the teacher's inductive accuracy
