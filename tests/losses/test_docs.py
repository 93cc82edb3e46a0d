import pytest

import graphkd.losses as losses

LOSSES = [
    "SoftLabelLoss",
    "kd_loss",
    "logit_mse_loss",
    "LSPLoss",
    "lsp_loss",
    "GlobalStructureLoss",
    "global_structure_loss",
    "RKDLoss",
    "rkd_distance_loss",
    "rkd_angle_loss",
    "ContrastiveLoss",
    "HintLoss",
    "SimilarityLoss",
]


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_documents_its_formula_and_paper(name):
    doc = getattr(losses, name).__doc__
    assert ".. math::" in doc and "https://arxiv.org/abs/" in doc


def test_relational_modules_say_which_pairs_they_use():
    for name in ("LSPLoss", "GlobalStructureLoss", "RKDLoss", "ContrastiveLoss", "HintLoss", "SimilarityLoss"):
        cls = getattr(losses, name)
        assert isinstance(cls.pairs, str) and "Pairs used" in cls.__doc__
