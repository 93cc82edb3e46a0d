import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from graphkd.deploy import export_student, load_student
from graphkd.nn import MLP


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("student")
    model = MLP(6, 8, 3, norm="batch").eval()
    export_student(model, folder / "student.pt", torch.randn(4, 6))
    x = np.random.default_rng(0).standard_normal((12, 6)).astype(np.float32)
    np.save(folder / "x.npy", x)
    expected = model(torch.from_numpy(x)).argmax(1).numpy()
    return folder, model, x, expected


def test_student_predicts_from_features(exported):
    folder, model, x, expected = exported
    student = load_student(folder / "student.pt")
    assert (student.predict(x) == expected).all() and (student.predict(torch.from_numpy(x)) == expected).all()
    proba = student.predict_proba(x)
    assert proba.shape == (12, 3) and np.allclose(proba.sum(1), 1.0, atol=1e-6)
    assert student.predict(x[0]).shape == (1,)  # one row
    with pytest.raises(ValueError, match=r"shape \[n, 6\], got \[12, 5\]"):
        student.predict(x[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        student.predict(np.full((2, 6), np.nan, dtype=np.float32))


def test_load_student_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no exported student"):
        load_student(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a graphkd TorchScript student"):
        load_student(tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="Unknown student format 'tflite'"):
        load_student(tmp_path / "junk.pt", format="tflite")
    for threads in (0, -2, 1.5):
        with pytest.raises(ValueError, match=f"threads must be a positive integer .* got {threads}"):
            load_student(tmp_path / "junk.pt", threads=threads)


def test_predict_command_refuses_bad_threads(exported, capsys):
    from graphkd.cli import main

    folder = exported[0]
    argv = ["predict", "--model", str(folder / "student.pt"), "--features", str(folder / "x.npy"), "--threads", "0"]
    assert main(argv) == 2
    assert "threads must be a positive integer" in capsys.readouterr().err


SERVE = """
import sys
import numpy as np
from graphkd.deploy import load_student
student = load_student(sys.argv[1])
print(" ".join(map(str, student.predict(np.load(sys.argv[2])))))
assert "torch_geometric" not in sys.modules, "serving imported torch_geometric"
"""


def test_fresh_process_serves_without_torch_geometric(exported):
    folder, _, _, expected = exported
    out = subprocess.run(
        [sys.executable, "-c", SERVE, str(folder / "student.pt"), str(folder / "x.npy")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(v) for v in expected]


def test_predict_command_without_torch_geometric(exported, tmp_path):
    folder, _, x, expected = exported
    code = (
        "import sys; from graphkd.cli import main; code = main(sys.argv[1:]); "
        "assert 'torch_geometric' not in sys.modules; sys.exit(code)"
    )
    argv = ["predict", "--model", str(folder / "student.pt"), "--features", str(folder / "x.npy")]
    out = subprocess.run([sys.executable, "-c", code, *argv, "--out", str(tmp_path / "p.npy")], capture_output=True)
    assert out.returncode == 0, out.stderr
    assert (np.load(tmp_path / "p.npy") == expected).all()
    proba = subprocess.run([sys.executable, "-m", "graphkd", *argv, "--proba", "--show", "2"], capture_output=True)
    lines = proba.stdout.decode().splitlines()
    assert len(lines[0].split()) == 3 and "12 rows" in lines[-1]
    bad = subprocess.run([sys.executable, "-m", "graphkd", "predict", "--model", "x.pt", "--features", "y.npy"])
    assert bad.returncode == 2
    assert json.loads(json.dumps(load_student(folder / "student.pt").meta))["format"] == "torchscript"
