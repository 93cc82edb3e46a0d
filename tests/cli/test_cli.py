import json
import subprocess
import sys

import pytest

from graphkd.cli import main


def test_datasets_lists_every_name(capsys, tmp_path):
    assert main(["datasets", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("csbm", "cora", "cpf-a-photo", "ogbn-products", "tolokers"):
        assert f"| {name} |" in out
    assert "| csbm | embedded synthetic (contextual SBM) | 3,000 |" in out
    assert "| cora | PyG Planetoid | 2,708 | 10,556 | 1,433 | 7 | public, cpf, random | no |" in out


def test_train_writes_table_and_results(capsys, tmp_path):
    argv = [
        "train",
        "--dataset",
        "csbm",
        "--model",
        "sage",
        "mlp",
        "--seeds",
        "2",
        "--epochs",
        "15",
        "--option",
        "num_nodes=400",
        "--option",
        "num_classes=3",
        "--hidden",
        "16",
        "--out",
        str(tmp_path),
        "--model-option",
        "sage.aggregator=gcn",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| sage |" in out and "| mlp |" in out and "results written to" in out
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["config"]["dataset_options"] == {"num_nodes": 400, "num_classes": 3}
    assert payload["config"]["seeds"] == [0, 1]
    assert payload["config"]["model_options"] == {"sage": {"aggregator": "gcn"}}


@pytest.mark.parametrize(
    "argv, match",
    [
        (["train", "--dataset", "corra"], "Unknown dataset 'corra'; valid choices:"),
        (["train", "--model", "gnc"], "Unknown model 'gnc'"),
        (["train", "--option", "homophily"], "--option expects KEY=VALUE"),
        (["train", "--model", "mlp", "--model-option", "sage.aggregator=gcn"], "model 'sage' is not among --model mlp"),
        (["train", "--model", "sage", "--model-option", "aggregator=max"], "Unknown aggregator 'max'"),
        (["train", "--dataset", "cora", "--root", "{tmp}"], "dataset 'cora' not found: looked in {tmp}"),
    ],
)
def test_bad_input_is_one_clear_line(capsys, tmp_path, argv, match):
    argv, match = [a.replace("{tmp}", str(tmp_path)) for a in argv], match.replace("{tmp}", str(tmp_path))
    assert main([*argv, "--epochs", "1", "--seeds", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphkd: error:") and match in err and "Traceback" not in err


def test_installed_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "graphkd", "datasets"], capture_output=True, text=True, check=True)
    assert "| cora |" in out.stdout


def test_distill_with_teacher_preset_logs_each_seed(capsys, tmp_path):
    argv = ["distill", "--dataset", "csbm", "--teacher", "gcn", "--setting", "inductive", "--seeds", "1"]
    for key in ("teacher.epochs", "student.epochs", "baseline.epochs"):
        argv += ["--set", f"{key}=5"]
    assert main([*argv, "--out", str(tmp_path), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "seed 0: test accuracy gcn " in captured.err and "(ind " in captured.err
    assert "| gcn |" in captured.out and "| glnn |" in captured.out
    config = json.loads((tmp_path / "results.json").read_text())["config"]
    assert config["recipe"]["teacher"]["name"] == "gcn" and config["recipe"]["teacher"]["epochs"] == 5
    assert config["setting"] == "inductive"


def test_save_ogb_then_ogb_runs_the_example_on_it(capsys, tmp_path):
    argv = ["save-ogb", "--dataset", "csbm", "--option", "num_nodes=400", "--option", "num_classes=3"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    meta = tmp_path / "submission_ogbn_csbm" / "meta_dict.pt"
    assert f"meta_dict: {meta}" in printed and "ogbn-csbm: 400 nodes" in printed
    run = ["ogb", "ogbn-arxiv", "--dataset-meta", str(meta), "--runs", "1", "--epochs", "2", "--hidden", "16"]
    run += ["--student-hidden", "32", "--out", str(tmp_path / "out"), "--no-progress", "--device", "cpu"]
    assert main(run) == 0
    printed = capsys.readouterr().out
    assert '"hidden_channels": 32' in printed and "OGB Evaluator accuracy" in printed
    assert (tmp_path / "out" / "results.json").is_file()
    assert main(["save-ogb", "--dataset", "csbm", "--name", "csbm", "--out", str(tmp_path)]) == 2
    assert "looks like 'ogbn-<name>'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["ogb", "ogbn-mag"])
    assert exit_.value.code == 2 and "invalid choice: 'ogbn-mag'" in capsys.readouterr().err


def test_distill_exports_students_and_plots_the_tradeoff(capsys, tmp_path):
    argv = ["distill", "--dataset", "csbm", "--seeds", "1", "--set", "teacher.epochs=5", "--set", "student.epochs=5"]
    assert main([*argv, "--out", str(tmp_path / "run"), "--export", str(tmp_path / "students")]) == 0
    printed = capsys.readouterr().out
    assert "| 0 | student.pt | torchscript |" in printed and "| 0 | student-int8.pt | torchscript int8 |" in printed
    assert "latency, 10 nodes (ms)" in printed
    assert (tmp_path / "students" / "seed-0" / "student.pt").is_file()
    pytest.importorskip("matplotlib")
    assert main(["plot-tradeoff", str(tmp_path / "run"), "--out", str(tmp_path / "t.png")]) == 0
    assert "| GLNN 2x128 (SAGE-2 teacher) | student |" in capsys.readouterr().out and (tmp_path / "t.png").is_file()
    assert main(["plot-tradeoff", str(tmp_path / "run"), "--out", str(tmp_path / "t.png"), "--metric", "ind"]) == 2
    assert "ind and prod need --setting inductive" in capsys.readouterr().err


def test_distill_checks_the_dataset_before_anything_else(capsys):
    assert main(["distill", "--dataset", "cpf-coraa", "--method", "nosmog"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("graphkd: error: Unknown dataset 'cpf-coraa'; valid choices:")


def test_distill_help_lists_every_method(capsys):
    from graphkd.eval import METHODS

    with pytest.raises(SystemExit) as exit_:
        main(["distill", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert all(name in text for name in METHODS)


def test_distill_workdir_resumes_finished_seeds(capsys, tmp_path):
    argv = ["distill", "--dataset", "csbm", "--seeds", "2", "--no-progress", "--workdir", str(tmp_path / "work")]
    for key in ("teacher.epochs", "student.epochs", "baseline.epochs"):
        argv += ["--set", f"{key}=3"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert {p.name for p in (tmp_path / "work").iterdir()} == {"seed-0", "seed-1"}
    capsys.readouterr()
    # the same command again reads both seeds back instead of training them: the same rows
    (tmp_path / "work" / "seed-1" / "student.ckpt").unlink()  # would be retrained if seed 1 ran again
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert not (tmp_path / "work" / "seed-1" / "student.ckpt").exists()
    first, again = (json.loads((tmp_path / d / "results.json").read_text())["runs"] for d in ("a", "b"))
    assert again == first
    capsys.readouterr()
    # another recipe in the same workdir is refused, in one line
    assert main([*argv, "--set", "lam=0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphkd: error:") and "holds the results of another run (differs in: recipe)" in err
