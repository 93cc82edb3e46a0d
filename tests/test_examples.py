import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gnn_vs_mlp_runs(capsys):
    scores = _load("gnn_vs_mlp").main(["--seeds", "1", "--epochs", "30"])
    assert set(scores) == {"sage", "mlp"} and scores["sage"][0] > scores["mlp"][0]
    assert "csbm: test accuracy" in capsys.readouterr().out


def test_minibatch_glnn_runs(capsys):
    scores = _load("minibatch_glnn").main(["--epochs", "3", "--memmap", "--sampler", "graphkd"])
    assert set(scores) == {"teacher", "glnn"} and scores["teacher"] > 0.5
    assert "glnn     test accuracy" in capsys.readouterr().out
