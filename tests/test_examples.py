def test_gnn_vs_mlp_runs(capsys, example):
    scores = example("gnn_vs_mlp").main(["--seeds", "1", "--epochs", "30"])
    assert set(scores) == {"sage", "mlp"} and scores["sage"][0] > scores["mlp"][0]
    assert "csbm: test accuracy" in capsys.readouterr().out


def test_minibatch_glnn_runs(capsys, example):
    scores = example("minibatch_glnn").main(["--epochs", "3", "--memmap", "--sampler", "graphkd"])
    assert set(scores) == {"teacher", "glnn"} and scores["teacher"] > 0.5
    assert "glnn     test accuracy" in capsys.readouterr().out
