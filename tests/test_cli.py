"""The command line: a real training run, info, and one-line errors."""

import subprocess
import sys

import numpy as np
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


def test_save_evaluate_predict_round_trip(tmp_path, capsys):
    model_file = tmp_path / "moons.npz"
    assert cli.main(["train", "--dataset", "moons", "--quiet", "--save", str(model_file)]) == 0
    assert model_file.exists()
    capsys.readouterr()
    assert cli.main(["evaluate", str(model_file), "--dataset", "moons", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("moons: loss ") and float(out.split("accuracy ")[1].split("%")[0]) > 90
    preds = tmp_path / "p.csv"
    assert cli.main(["predict", str(model_file), "--dataset", "moons", "--out", str(preds), "--proba"]) == 0
    table = np.loadtxt(preds, delimiter=",", skiprows=1)
    assert table.shape == (200, 2)
    np.testing.assert_array_equal(table[:, 0], (table[:, 1] > 0.5).astype(float))
    import xpnet
    from xpnet import datasets
    X, _ = datasets.moons(seed=0)
    np.testing.assert_array_equal(table[:, 0], xpnet.to_numpy(xpnet.load(model_file).predict(X)))


def test_train_on_a_csv_file(tmp_path, capsys):
    from xpnet import datasets
    X, y = datasets.blobs(n_samples=120, n_features=3, centers=3, seed=2)
    path = tmp_path / "blobs.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,label", comments="")
    assert cli.main(["train", "--data", str(path), "--epochs", "60", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("blobs.csv: final loss")
    assert float(out.split("training accuracy ")[1].split("%")[0]) > 90


def test_plots_are_written(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    history, boundary = tmp_path / "h.png", tmp_path / "b.png"
    assert cli.main(["train", "--dataset", "moons", "--quiet", "--epochs", "20",
                     "--plot", str(history), "--boundary", str(boundary)]) == 0
    for path in (history, boundary):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_model_file_is_one_line(capsys):
    assert cli.main(["evaluate", "no-such-model.npz", "--dataset", "moons"]) == 2
    assert capsys.readouterr().err.strip() == "xpnet: error: no-such-model.npz: no such file"
