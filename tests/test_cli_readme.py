"""The README's command-line block runs as written, on files a user would have (pandas' CSV of iris)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from test_cli_files import run

README = Path(__file__).resolve().parents[1] / "README.md"
pd = pytest.importorskip("pandas")


def commands() -> list[list[str]]:
    section = README.read_text().split("## Command line\n", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_the_command_line_block_runs(tmp_path):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    pytest.importorskip("matplotlib")
    pytest.importorskip("onnx")
    iris = sklearn_datasets.load_iris(as_frame=True)
    iris.frame.drop(columns="target").assign(species=iris.target_names[iris.target]).to_csv(
        tmp_path / "iris.csv"
    )
    pd.DataFrame(np.random.default_rng(0).uniform(-1, 1, (20, 2))).to_csv(
        tmp_path / "new.csv", index=False, header=False
    )
    rng = np.random.default_rng(1)
    rooms = rng.uniform(-1, 1, (300, 3))
    pd.DataFrame(rooms, columns=["area", "rooms", "age"]).assign(
        price=2 * rooms[:, 0] + rooms[:, 1] ** 2 - 0.5 * rooms[:, 2] + 0.05 * rng.normal(size=300)
    ).to_csv(tmp_path / "houses.csv", index=False)
    outputs = []
    for argv in commands():
        assert argv[0] == "xpnet", argv
        outputs.append((argv[1:], run(*argv[1:], cwd=tmp_path).stdout))

    def output(*start):
        return next(out for argv, out in outputs if argv[: len(start)] == list(start))

    assert "training accuracy 9" in output("train")  # the flower classic: 94.8%
    assert (tmp_path / "predictions.csv").read_text().startswith("prediction,p_0,p_1,p_2\n")
    assert "3 classes (setosa, versicolor, virginica)" in output("train", "--data", "iris.csv")
    assert "iris.csv: test loss" in output("train", "--data", "iris.csv")
    assert output("predict", "iris.npz").startswith("prediction,p_setosa,p_versicolor,p_virginica\n")
    assert "regression" in output("train", "--data", "houses.csv")
    assert float(re.search(r"R\^2 ([-0-9.]+)", output("evaluate", "houses.npz")).group(1)) > 0.8
    for name in ("spirals.npz", "iris.npz", "houses.npz", "spirals.onnx", "curves.png", "boundary.png"):
        assert (tmp_path / name).exists(), name
