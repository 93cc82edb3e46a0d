import pytest

from graphkd.resolver import normalize_name, resolve


def test_normalize_name():
    assert normalize_name(" Cora_ML ") == "cora-ml"


def test_resolve_aliases_and_case():
    choices = {"sage": 1, "gcn": 2}
    assert resolve("GCN", choices, "model") == 2
    assert resolve("GraphSAGE", choices, "model", {"graphsage": "sage"}) == 1


def test_resolve_error_lists_choices():
    with pytest.raises(ValueError, match=r"Unknown model 'gnc'; valid choices: gcn, sage"):
        resolve("gnc", {"sage": 1, "gcn": 2}, "model")
    with pytest.raises(ValueError, match="must be a string"):
        resolve(3, {"a": 1}, "model")
