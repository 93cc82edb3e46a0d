"""Quality floor of GNN-to-MLP distillation: the distilled MLP beats the plain MLP by >= 10 points."""

from graphkd.eval import run_distillation, summarize


def test_csbm_glnn_beats_plain_mlp():
    teacher, mlp, glnn = summarize(run_distillation("csbm", [0, 1]))
    assert glnn.test_mean >= mlp.test_mean + 0.10
