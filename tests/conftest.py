import importlib.util
import os
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    # PyG processes shared read-only datasets into $GRAPHKD_CACHE: keep the tests' copy private.
    old = os.environ.get("GRAPHKD_CACHE")
    os.environ["GRAPHKD_CACHE"] = str(tmp_path_factory.mktemp("graphkd-cache"))
    yield
    if old is None:
        os.environ.pop("GRAPHKD_CACHE", None)
    else:
        os.environ["GRAPHKD_CACHE"] = old


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real datasets ($GRAPHKD_DATA); tests that need them are skipped when absent."""
    root = os.environ.get("GRAPHKD_DATA")
    if not root or not (Path(root) / "Planetoid").is_dir():
        pytest.skip("real datasets not found: set GRAPHKD_DATA (e.g. GRAPHKD_DATA=../shared/datasets)")
    return Path(root).resolve()


@pytest.fixture
def tiny_graph() -> Data:
    """Six nodes, two classes, a path 0-1-2 and a triangle 3-4-5 plus an edge 2-3."""
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3], [1, 0, 2, 1, 3, 2, 4, 3, 5, 4, 3, 5]])
    x = torch.randn(6, 4)
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    train = torch.tensor([True, False, False, True, False, False])
    val = torch.tensor([False, True, False, False, True, False])
    test = torch.tensor([False, False, True, False, False, True])
    data = Data(x=x, y=y, edge_index=edge_index, train_mask=train, val_mask=val, test_mask=test)
    data.num_classes = 2
    return data


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="session")
def example():
    """``example("name")`` imports ``examples/name.py`` as a module (its ``main`` is then callable)."""

    def load_example(name: str):
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load_example
