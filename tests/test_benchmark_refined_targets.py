"""benchmarks/refined_targets.py restores the refiners of a CPF run from its workdir: the restored
PLP must predict what the run's own student did, and the mixtures must span teacher to refined."""

import sys
from pathlib import Path

import pytest

from graphkd.eval import run_distillation
from graphkd.recipes import get_recipe

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from refined_targets import accuracy, main, refined_logits  # noqa: E402


@pytest.fixture(scope="module")
def cpf_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("cpf")
    recipe = get_recipe("cpf", "csbm").override(**{"teacher.epochs": 5, "student.epochs": 5, "baseline.epochs": 2})
    rows = run_distillation("csbm", [0], method="cpf", recipe=recipe, workdir=work, timing_repeats=0)
    return work, rows


def test_restored_refiner_predicts_what_the_run_did(cpf_run):
    work, rows = cpf_run
    data, outputs, refined = refined_logits("csbm", 0, work / "seed-0")
    cpf_row = rows[-1]
    assert cpf_row.model == "cpf"
    assert accuracy(refined, data, "test_mask") == pytest.approx(100 * cpf_row.test_acc)
    assert accuracy(refined, data, "val_mask") == pytest.approx(100 * cpf_row.val_acc)
    assert accuracy(outputs.logits, data, "test_mask") == pytest.approx(100 * rows[0].test_acc)  # the teacher's


def test_mixtures_run_from_teacher_to_refined(cpf_run, tmp_path):
    work, rows = cpf_run
    payload = main(
        ["--dataset", "csbm", "--cpf-workdir", str(work), "--seeds", "0", "--mixes", "0", "1", "--out", str(tmp_path)]
    )
    by_mix = {r["mix"]: r for r in payload["rows"]}
    assert by_mix[0.0]["targets_test"] == pytest.approx(100 * rows[0].test_acc)  # w = 0: the teacher
    assert by_mix[1.0]["targets_test"] == pytest.approx(100 * rows[-1].test_acc)  # w = 1: the refiner
    assert all(0 <= r["student_test"] <= 100 and 0 <= r["agreement"] <= 100 for r in payload["rows"])
    assert (tmp_path / "refined_targets_csbm.json").is_file() and (tmp_path / "refined_targets_csbm.md").is_file()


def test_a_run_with_restarts_is_refused(cpf_run, tmp_path):
    work, _ = cpf_run
    folder = tmp_path / "seed-0"
    folder.mkdir()
    (folder / "student.ckpt.restart1").write_bytes(b"")
    with pytest.raises(ValueError, match="a CPF run with restarts .* use a run with restarts=1"):
        refined_logits("csbm", 0, folder)
