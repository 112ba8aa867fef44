"""The command line: a real training run, info, and one-line errors."""

import subprocess
import sys

import pytest

from xpnet import cli


def test_train_default_is_the_flower_classic(capsys):
    assert cli.main(["train", "--epochs", "2000", "--quiet"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("flower: final loss")
    accuracy = float(out.split("training accuracy ")[1].split("%")[0])
    assert accuracy > 85


@pytest.mark.parametrize("dataset", ["spirals", "moons", "xor"])
def test_train_other_datasets(capsys, dataset):
    assert cli.main(["train", "--dataset", dataset, "--quiet", "--dtype", "float64"]) == 0
    assert f"{dataset}: final loss" in capsys.readouterr().out


def test_info_lists_backends(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numpy             available" in out
    assert "cupy" in out and "jax" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "--backend", "tpu"], "unknown backend 'tpu'"),
    (["train", "--hidden", "swish"], "unknown hidden activation 'swish'"),
    (["train", "--epochs", "0"], "epochs must be a positive int"),
    (["train", "--lr", "-1"], "lr must be in"),
])
def test_errors_are_one_line_and_exit_2(capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("xpnet: error: ") and message in err


def test_traceback_flag_reraises():
    with pytest.raises(ValueError):
        cli.main(["--traceback", "train", "--backend", "tpu"])


def test_python_dash_m_runs():
    done = subprocess.run([sys.executable, "-m", "xpnet", "train", "--dataset", "xor", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "xor: final loss" in done.stdout
