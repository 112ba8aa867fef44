"""Output paths are checked before the first step: a bad one never costs a training run."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import xpnet
from xpnet import datasets


def _bad_paths(tmp_path):
    yield "an existing directory", tmp_path, "existing directory"
    yield "a missing folder", tmp_path / "nope" / "run.npz", "does not exist"
    yield "a name too long", tmp_path / ("x" * 300 + ".npz"), "longer than the file system allows"
    if os.path.isdir("/proc/self"):
        yield "a pseudo file system", "/proc/self/run.npz", "nothing can be created"
    if hasattr(os, "mkfifo"):  # a special file of our own (never /dev/null: a failing check would replace it)
        os.mkfifo(tmp_path / "fifo")
        yield "a FIFO", tmp_path / "fifo", "not a regular file"


@pytest.mark.parametrize("case", range(5))
def test_a_bad_checkpoint_path_is_refused_before_training(tmp_path, case):
    cases = list(_bad_paths(tmp_path))
    if case >= len(cases):
        pytest.skip("not on this system")
    _, path, says = cases[case]
    X, y = datasets.blobs(n_samples=30, n_features=3, centers=3, seed=0)
    model = xpnet.MLP([3, 4, 3], output="softmax")
    before = [np.array(a) for pair in model.params for a in pair]
    with pytest.raises(xpnet.InvalidArgumentError, match=says):
        xpnet.train(model, X, y, epochs=3, checkpoint=path)
    for a, b in zip(before, (a for pair in model.params for a in pair)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_without_write_permission_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(xpnet.InvalidArgumentError, match="nothing can be created"):
            xpnet.train(xpnet.MLP([2, 1]), np.zeros((4, 2)), np.zeros(4), checkpoint=locked / "run.npz")
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("option", ["--save", "--plot", "--boundary"])
def test_the_cli_checks_its_output_paths_before_training(tmp_path, option):
    out = subprocess.run([sys.executable, "-m", "xpnet", "train", "--epochs", "100000", option, str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.startswith(f"xpnet: error: cannot write {option}=") and "existing directory" in out.stderr
    assert "final loss" not in out.stdout and "training" not in out.stdout  # nothing was trained
