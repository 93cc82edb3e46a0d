import json

import pytest

from graphkd.cli.main import main
from graphkd.eval.merge import merge_results

QUICK = ["--set", "teacher.epochs=3", "--set", "student.epochs=2", "--set", "baseline.epochs=2"]
ACCURACY = ("test_mean", "test_std", "val_mean", "val_std", "ind_mean", "ind_std", "prod_mean", "prod_std", "runs")


def distill(folder, *seeds, setting="transductive"):
    argv = ["distill", "--dataset", "csbm", "--setting", setting, "--seed-list", *map(str, seeds), *QUICK]
    assert main([*argv, "--out", str(folder)]) == 0
    return json.loads((folder / "results.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("merge")
    for name, seeds in (("a", [0]), ("b", [2, 1]), ("all", [0, 1, 2])):
        distill(root / name, *seeds, setting="inductive")
    return root


def test_merged_folder_is_what_one_run_over_every_seed_writes(runs, capsys):
    assert main(["merge", str(runs / "a"), str(runs / "b"), "--out", str(runs / "merged")]) == 0
    assert "results written to" in capsys.readouterr().out
    merged = json.loads((runs / "merged" / "results.json").read_text())
    whole = json.loads((runs / "all" / "results.json").read_text())
    assert merged["config"] == whole["config"]  # seeds 0, 1, 2, sorted
    for m, w in zip(merged["summary"], whole["summary"], strict=True):
        assert m["model"] == w["model"] and m["seeds"] == w["seeds"] == [0, 1, 2]
        assert {k: m[k] for k in ACCURACY} == pytest.approx({k: w[k] for k in ACCURACY})
    key = ("model", "seed", "test_acc", "test_ind_acc", "val_acc", "best_epoch")
    assert [[r[k] for k in key] for r in merged["runs"]] == [[r[k] for k in key] for r in whole["runs"]]
    assert [f["seeds"] for f in merged["environment"]["merged_from"]] == [[0], [2, 1]]
    title = (runs / "merged" / "results.md").read_text().splitlines()[0]
    assert title == (runs / "all" / "results.md").read_text().splitlines()[0] and "3 seed(s)" in title
    assert (runs / "merged" / "runs.csv").read_text().count("\n") == 1 + len(whole["runs"])


def test_refuses_what_is_not_one_experiment(runs, tmp_path):
    with pytest.raises(ValueError, match="at least two"):
        merge_results([runs / "a"], tmp_path / "m")
    with pytest.raises(ValueError, match="seed 0 is in both"):
        merge_results([runs / "a", runs / "all"], tmp_path / "m")
    with pytest.raises(ValueError, match="has no results.json"):
        merge_results([runs / "a", tmp_path], tmp_path / "m")
    for change, message in (
        (lambda p: p["config"]["recipe"]["student"].update(dropout=0.9), r"config differs .* \['recipe'\]"),
        (lambda p: p["config"].update(setting="transductive"), r"\['setting'\]"),
        (lambda p: p["environment"].update(cpu_threads=p["environment"]["cpu_threads"] + 1), "cpu_threads="),
        (lambda p: p["config"].update(seeds=[2]), r"runs of seeds \[1\] that its config does not list"),
    ):
        payload = json.loads((runs / "b" / "results.json").read_text())
        change(payload)
        (tmp_path / "x").mkdir(exist_ok=True)
        (tmp_path / "x" / "results.json").write_text(json.dumps(payload))
        with pytest.raises(ValueError, match=message):
            merge_results([runs / "a", tmp_path / "x"], tmp_path / "m")
    assert not (tmp_path / "m").exists()  # nothing written on refusal


def rerun_of(folder, tmp_path, name, test_acc):
    # the runs of `folder` as a re-run after a fix would give them: every row's test accuracy changed
    payload = json.loads((folder / "results.json").read_text())
    for row in payload["runs"]:
        row["test_acc"] = test_acc
    (tmp_path / name).mkdir()
    (tmp_path / name / "results.json").write_text(json.dumps(payload))
    return tmp_path / name


def test_replace_takes_a_seeds_runs_from_the_last_folder_that_has_it(runs, tmp_path):
    rerun = rerun_of(runs / "a", tmp_path, "rerun", 0.125)  # seed 0
    with pytest.raises(ValueError, match=r"seed 0 is in both .*--replace"):
        merge_results([runs / "all", rerun], tmp_path / "m")
    assert main(["merge", str(runs / "all"), str(rerun), "--replace", "--out", str(tmp_path / "m")]) == 0
    merged = json.loads((tmp_path / "m" / "results.json").read_text())
    whole = json.loads((runs / "all" / "results.json").read_text())
    assert merged["config"] == whole["config"]
    expected = [{**r, "test_acc": 0.125} if r["seed"] == 0 else r for r in whole["runs"]]
    key = ("model", "seed", "test_acc", "val_acc", "best_epoch")
    assert [[r[k] for k in key] for r in merged["runs"]] == [[r[k] for k in key] for r in expected]
    for row in merged["summary"]:  # the summary is over the kept runs
        tests = [r["test_acc"] for r in expected if r["model"] == row["model"]]
        assert row["test_mean"] == pytest.approx(sum(tests) / 3) and row["seeds"] == [0, 1, 2]
    sources = merged["environment"]["merged_from"]
    assert [(s["folder"], s["seeds"], s.get("replaced")) for s in sources] == [
        (str(runs / "all"), [1, 2], [0]),
        (str(rerun), [0], None),
    ]


def test_replace_keeps_a_merged_folders_sources_and_refuses_a_folder_it_empties(runs, tmp_path):
    merge_results([runs / "a", runs / "b"], tmp_path / "ab")
    rerun = rerun_of(runs / "b", tmp_path, "rerun", 0.5)  # seeds 2, 1
    merge_results([tmp_path / "ab", rerun], tmp_path / "m", replace=True)
    sources = json.loads((tmp_path / "m" / "results.json").read_text())["environment"]["merged_from"]
    assert sources[0]["seeds"] == [0] and sources[0]["replaced"] == [1, 2]
    assert [s["seeds"] for s in sources[0]["merged_from"]] == [[0], [2, 1]]  # how "ab" was made
    with pytest.raises(ValueError, match=r"every seed of .*'.*a'\] is replaced"):
        merge_results([runs / "a", runs / "all"], tmp_path / "x", replace=True)
    with pytest.raises(ValueError, match="every seed of"):  # one folder twice
        merge_results([runs / "b", runs / "b"], tmp_path / "x", replace=True)
    assert not (tmp_path / "x").exists()
