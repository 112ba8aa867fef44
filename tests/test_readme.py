"""The README's code runs as written."""

import re

import pytest
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_tour_runs_and_learns(capsys):
    tour = python_blocks()[0]
    namespace = {}
    exec(compile(tour, "README.md", "exec"), namespace)
    assert namespace["history"].accuracy[-1] > 0.85
    assert namespace["labels"].shape == (400,)
    loss, accuracy = capsys.readouterr().out.split()
    assert float(accuracy) > 0.85


def test_model_files_block_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch", reason="the README's model-file block loads a model onto backend='torch'")
    blocks = python_blocks()
    files = next(b for b in blocks if "xpnet.save(model" in b)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(blocks[0].replace("10_000", "500"), "README.md", "exec"), namespace)
    exec(compile(files, "README.md", "exec"), namespace)
    assert (tmp_path / "flower.npz").exists() and (tmp_path / "run.npz").exists()
    assert namespace["history"].epochs == 50


def test_every_python_block_runs_in_order(tmp_path, monkeypatch, capsys):
    """All README blocks but the API listing, run as a reader would paste them, in one session."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    pytest.importorskip("pandas")
    pytest.importorskip("torch", reason="the README's model-file block loads a model onto backend='torch'")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in python_blocks():
        if "[n_in, h1, ..., n_out]" in block:
            continue
        exec(compile(block.replace("10_000", "500"), "README.md", "exec"), namespace)
    assert (tmp_path / "history.png").exists() and (tmp_path / "boundary.png").exists()
    assert namespace["clf"].score(namespace["X_test"], namespace["y_test"]) > 0.9


def test_optimizer_snippet_runs():
    import xpnet

    snippet = re.search(r"`(opt = xpnet\.optim\.adam.*?)`", README.read_text()).group(1)
    model = xpnet.MLP([2, 3, 1])
    _, grads = model.gradients([[0.0, 1.0]], [1])
    namespace = {"xpnet": xpnet, "params": [a for p in model.params for a in p],
                 "grads": [g for p in grads for g in p]}
    exec(snippet.replace("; ", "\n"), namespace)
    assert namespace["state"]["t"] == 1


def test_no_merge_conflict_markers_are_left_in_the_project():
    root = README.parent
    files = [README, root / "pyproject.toml", root / "noxfile.py",
             *[p for d in ("xpnet", "tests", "benchmarks", "examples", "docs", ".ci") for p in (root / d).rglob("*")
               if p.is_file() and p.suffix in (".py", ".md", ".toml", ".txt", "") and "__pycache__" not in p.parts]]
    marked = [f"{p.relative_to(root)}:{i + 1}" for p in files for i, line in
              enumerate(p.read_text(errors="replace").splitlines())
              if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "======="]
    assert marked == []
