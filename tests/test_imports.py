import subprocess
import sys

import pytest

SUBPACKAGES = [
    "cli",
    "datasets",
    "deploy",
    "distill",
    "distributed",
    "eval",
    "features",
    "losses",
    "nn",
    "recipes",
    "sampling",
    "train",
    "utils",
]


def test_every_subpackage_imports_first_in_a_fresh_process():
    # import cycles show only when a module is the first one imported; each gets its own process
    procs = {
        name: subprocess.Popen([sys.executable, "-c", f"import graphkd.{name}"], stderr=subprocess.PIPE)
        for name in SUBPACKAGES
    }
    failures = {name: p.communicate(timeout=120)[1].decode()[-400:] for name, p in procs.items()}
    failures = {name: err for name, err in failures.items() if procs[name].returncode != 0}
    assert not failures, failures


@pytest.mark.parametrize("name", ["run_distillation", "OGBMetric", "accuracy", "write_results"])
def test_lazy_names_resolve(name):
    import graphkd
    import graphkd.eval

    assert callable(getattr(graphkd.eval, name)) and name in dir(graphkd.eval)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        graphkd.eval.nothing  # noqa: B018
