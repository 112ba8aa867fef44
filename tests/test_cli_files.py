"""The command line on real files: the program runs in a subprocess (``python -m xpnet``) on files
these tests write with pandas, and its output is checked against in-process references
(scikit-learn's LabelEncoder, r2_score and stratified train_test_split, xpnet's own API, onnxruntime)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import datasets
from xpnet.cli import DEFAULTS, FILE_DEFAULTS, GENERIC
from xpnet.cli.data import MAX_AUTO_CLASSES, split

pd = pytest.importorskip("pandas")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
from sklearn.model_selection import train_test_split as sk_split  # noqa: E402
from sklearn.preprocessing import LabelEncoder  # noqa: E402

#: The directory holding the xpnet under test, so the subprocess runs the same code.
SOURCE = str(Path(xpnet.__file__).resolve().parents[1])


def run(*args, cwd, ok=True, program=(sys.executable, "-m", "xpnet")):
    env = {**os.environ, "PYTHONPATH": SOURCE + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [*program, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def one_line_error(done, *fragments):
    assert done.returncode == 2, (done.stdout, done.stderr)
    err = done.stderr.strip()
    assert err.count("\n") == 0 and err.startswith("xpnet: error: "), err
    for fragment in fragments:
        assert fragment in err, err
    return err


def percent(text, name):
    return float(re.search(rf"{name} ([0-9.]+)%", text).group(1)) / 100


@pytest.fixture
def animals(tmp_path):
    """Three blobs named by text labels, written by pandas with its index and header."""
    X, y = datasets.blobs(n_samples=150, n_features=3, centers=3, seed=4)
    names = np.array(["zebra", "ant", "moth"])[y]
    frame = pd.DataFrame(X, columns=["height", "weight", "speed"]).assign(species=names)
    frame.to_csv(tmp_path / "animals.csv")
    frame.drop(columns="species").to_csv(tmp_path / "new.csv", index=False)
    return X, names


def test_text_labels_train_evaluate_predict(tmp_path, animals):
    X, names = animals
    done = run(
        "train",
        "--data",
        "animals.csv",
        "--label-column",
        "species",
        "--index-column",
        "0",
        "--test-size",
        "0.2",
        "--epochs",
        "60",
        "--lr",
        "0.01",
        "--save",
        "m.npz",
        cwd=tmp_path,
    )
    assert "3 classes (ant, moth, zebra)" in done.stdout
    model = xpnet.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(model.classes, LabelEncoder().fit(names).classes_)
    (X_train, y_train), _, (X_test, y_test) = split(X, names, 0.2, 0, seed=0, stratify=True)
    assert percent(done.stdout, "training accuracy") == pytest.approx(model.score(X_train, y_train), abs=5e-4)
    assert percent(done.stdout, "test accuracy") == pytest.approx(model.score(X_test, y_test), abs=5e-4)
    assert "(30 held-out samples)" in done.stdout

    out = run("predict", "m.npz", "--data", "new.csv", "--proba", "--out", "p.csv", cwd=tmp_path)
    assert out.stdout.strip() == "wrote 150 predictions to p.csv"
    table = pd.read_csv(tmp_path / "p.csv")
    assert list(table.columns) == ["prediction", "p_ant", "p_moth", "p_zebra"]
    np.testing.assert_array_equal(table["prediction"].to_numpy(dtype=str), model.predict(X))
    np.testing.assert_allclose(table.iloc[:, 1:].to_numpy(), model.predict_proba(X), rtol=1e-5, atol=1e-6)

    evaluated = run(
        "evaluate",
        "m.npz",
        "--data",
        "animals.csv",
        "--label-column",
        "species",
        "--index-column",
        "0",
        cwd=tmp_path,
    )
    assert percent(evaluated.stdout, "accuracy") == pytest.approx(model.score(X, names), abs=5e-5)
    assert f"loss {model.loss(X, names):.6f}" in evaluated.stdout


def test_predict_finds_or_is_told_the_label_column(tmp_path, animals):
    X, names = animals
    run(
        "train",
        "--data",
        "animals.csv",
        "--label-column",
        "species",
        "--index-column",
        "0",
        "--epochs",
        "5",
        "--quiet",
        "--save",
        "m.npz",
        cwd=tmp_path,
    )
    expected = xpnet.load(tmp_path / "m.npz").predict(X)
    named = pd.DataFrame(X, columns=["height", "weight", "speed"])
    named.assign(label=names).to_csv(tmp_path / "labelled.csv", index=False)
    named.to_csv(tmp_path / "plain.csv", index=False, header=False)
    named.assign(label=names, extra=1.0).to_csv(tmp_path / "wide.csv", index=False)
    for argv in (
        ["--data", "new.csv"],
        ["--data", "plain.csv", "--no-labels"],
        ["--data", "plain.csv"],
        ["--data", "new.csv", "--label-column", "none"],
        ["--data", "labelled.csv"],
        ["--data", "wide.csv", "--label-column", "label", "--index-column", "extra"],
        ["--data", "animals.csv", "--index-column", "0"],
    ):
        out = run("predict", "m.npz", *argv, cwd=tmp_path)
        assert out.stdout.split()[1:] == expected.tolist(), argv
    one_line_error(
        run("predict", "m.npz", "--data", "wide.csv", cwd=tmp_path, ok=False),
        "wide.csv has 5 columns but the model takes 3 features",
        "--label-column",
    )


def test_regression_from_the_command_line(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    target = X @ np.array([1.5, -2.0, 0.5, 0.0]) + 0.3 * np.sin(3 * X[:, 0]) + 0.05 * rng.normal(size=300)
    pd.DataFrame(X, columns=list("abcd")).assign(price=target).to_csv(tmp_path / "prices.csv", index=False)
    done = run(
        "train",
        "--data",
        "prices.csv",
        "--test-size",
        "0.25",
        "--epochs",
        "150",
        "--lr",
        "0.01",
        "--save",
        "r.npz",
        "--quiet",
        cwd=tmp_path,
    )
    model = xpnet.load(tmp_path / "r.npz")
    assert model.output.name == "identity" and model.loss_fn.name == "mse" and model.sizes[-1] == 1
    (_, _), _, (X_test, y_test) = split(X, target, 0.25, 0, seed=0, stratify=False)
    r2 = sklearn_metrics.r2_score(y_test, xpnet.to_numpy(model.predict(X_test))[:, 0])
    assert float(re.search(r"test R\^2 ([-0-9.]+)", done.stdout).group(1)) == pytest.approx(r2, abs=5e-5)
    assert r2 > 0.9
    evaluated = run("evaluate", "r.npz", "--data", "prices.csv", cwd=tmp_path).stdout
    whole = sklearn_metrics.r2_score(target, xpnet.to_numpy(model.predict(X))[:, 0])
    assert float(re.search(r"R\^2 ([-0-9.]+)", evaluated).group(1)) == pytest.approx(whole, abs=5e-5)
    assert f"loss {model.loss(X, target):.6f}" in evaluated
    out = run("predict", "r.npz", "--data", "prices.csv", "--out", "v.csv", cwd=tmp_path)
    values = pd.read_csv(tmp_path / "v.csv")
    assert list(values.columns) == ["prediction"]
    np.testing.assert_array_equal(
        values["prediction"].to_numpy(np.float32), xpnet.to_numpy(model.predict(X))[:, 0]
    )
    assert out.returncode == 0
    one_line_error(
        run("predict", "r.npz", "--data", "prices.csv", "--proba", cwd=tmp_path, ok=False),
        "--proba needs a classifier",
    )


def test_task_choice(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    many = rng.integers(0, MAX_AUTO_CLASSES + 5, size=120)
    pd.DataFrame(X).assign(y=many).to_csv(tmp_path / "many.csv", index=False, header=False)
    pd.DataFrame(X).assign(y=np.array([3, 7, 9])[rng.integers(0, 3, 120)]).to_csv(
        tmp_path / "named.csv", index=False, header=False
    )
    pd.DataFrame(X).assign(y=X[:, 0] * 2.5).to_csv(tmp_path / "floats.csv", index=False, header=False)
    pd.DataFrame(X).assign(y=np.array(["a", "b"])[rng.integers(0, 2, 120)]).to_csv(
        tmp_path / "text.csv", index=False, header=False
    )
    common = ("--epochs", "2", "--quiet", "--save")
    run("train", "--data", "many.csv", *common, "auto.npz", cwd=tmp_path)
    assert xpnet.load(tmp_path / "auto.npz").output.name == "identity"
    run("train", "--data", "many.csv", "--task", "classify", *common, "c.npz", cwd=tmp_path)
    classified = xpnet.load(tmp_path / "c.npz")
    assert classified.output.name == "softmax" and classified.sizes[-1] == len(np.unique(many))
    run("train", "--data", "named.csv", *common, "n.npz", cwd=tmp_path)
    np.testing.assert_array_equal(xpnet.load(tmp_path / "n.npz").classes, [3, 7, 9])
    out = run("predict", "n.npz", "--data", "named.csv", "--proba", cwd=tmp_path).stdout.splitlines()
    assert out[0] == "prediction,p_3,p_7,p_9" and {line.split(",")[0] for line in out[1:]} <= {"3", "7", "9"}
    one_line_error(
        run("train", "--data", "floats.csv", "--task", "classify", cwd=tmp_path, ok=False),
        "--task classify needs class labels",
        "--task regress",
    )
    one_line_error(
        run("train", "--data", "text.csv", "--task", "regress", cwd=tmp_path, ok=False),
        "--task regress needs numeric targets",
    )


def test_one_sigmoid_unit_writes_the_probability_of_the_second_class(tmp_path):
    X, y = datasets.moons(n_samples=100, seed=0)
    pd.DataFrame(X, columns=["x1", "x2"]).assign(answer=np.array(["no", "yes"])[y]).to_csv(
        tmp_path / "yn.csv", index=False
    )
    run("train", "--data", "yn.csv", "--epochs", "5", "--quiet", "--save", "yn.npz", cwd=tmp_path)
    out = run("predict", "yn.npz", "--data", "yn.csv", "--proba", cwd=tmp_path).stdout.splitlines()
    assert out[0] == "prediction,p_yes"
    p_yes = xpnet.to_numpy(xpnet.load(tmp_path / "yn.npz").forward(X))[:, 0]
    np.testing.assert_allclose([float(line.split(",")[1]) for line in out[1:]], p_yes, rtol=1e-5)
    run("train", "--dataset", "moons", "--epochs", "5", "--quiet", "--save", "01.npz", cwd=tmp_path)
    assert run("predict", "01.npz", "--dataset", "moons", "--proba", cwd=tmp_path).stdout.startswith(
        "prediction,p_1\n"
    )


def test_csv_options_for_files_pandas_writes(tmp_path):
    X, y = datasets.blobs(n_samples=90, n_features=3, centers=3, seed=7)
    frame = pd.DataFrame(np.column_stack([X, y]))  # numeric column names 0..3: header ",0,1,2,3"
    frame.to_csv(tmp_path / "numeric_header.csv")
    frame.to_csv(tmp_path / "semicolons.csv", sep=";", index=False)
    frame.to_csv(tmp_path / "tabs.tsv", sep="\t", index=False)
    for name, delimiter in (("numeric_header.csv", ","), ("semicolons.csv", ";"), ("tabs.tsv", "tab")):
        # pandas' names of unnamed columns (0, 1, 2, ...) could be data: the user says which
        one_line_error(
            run("train", "--data", name, "--delimiter", delimiter, cwd=tmp_path, ok=False),
            "looks like the column names pandas writes",
            "--header yes",
            "--header no",
        )
    for argv in (
        ["numeric_header.csv", "--header", "yes", "--index-column", "0"],
        ["semicolons.csv", "--delimiter", ";", "--label-column", "3", "--header", "yes"],
        ["tabs.tsv", "--header", "yes"],
    ):
        done = run(
            "train",
            "--data",
            *argv,
            "--epochs",
            "2",
            "--task",
            "classify",
            "--save",
            "m.npz",
            "--quiet",
            cwd=tmp_path,
        )
        assert done.stdout.startswith(f"{argv[0]}: final loss"), argv
        assert xpnet.load(tmp_path / "m.npz").sizes[0] == 3


@pytest.mark.parametrize("counts, test_size, val_size", [([50, 30, 20], 0.2, 0.1), ([47, 33, 20], 0.25, 12)])
def test_the_split_is_stratified_as_scikit_learn_does(counts, test_size, val_size):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(float(len(y))).reshape(-1, 1)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = split(
        X, y, test_size, val_size, seed=3, stratify=True
    )
    _, _, _, sk_test = sk_split(X, y, test_size=len(y_test), stratify=y, random_state=0)
    np.testing.assert_array_equal(np.bincount(y_test), np.bincount(sk_test))
    rest = y[~np.isin(X[:, 0], X_test[:, 0])]
    _, _, _, sk_val = sk_split(rest, rest, test_size=len(y_val), stratify=rest, random_state=0)
    np.testing.assert_array_equal(np.bincount(y_val), np.bincount(sk_val))
    assert len(y_test) == round(test_size * len(y)) and len(y_val) == (
        val_size if isinstance(val_size, int) else round(val_size * len(y))
    )
    rows = np.concatenate([X_train, X_val, X_test])[:, 0]
    assert sorted(rows) == list(X[:, 0])  # every row in exactly one part


def test_seed_fixes_data_split_weights_and_shuffles(tmp_path):
    args = (
        "train",
        "--dataset",
        "moons",
        "--epochs",
        "20",
        "--batch-size",
        "16",
        "--test-size",
        "0.2",
        "--dropout",
        "0.2",
        "--quiet",
    )
    first = run(*args, "--seed", "5", "--save", "a.npz", cwd=tmp_path).stdout
    again = run(*args, "--seed", "5", "--save", "b.npz", cwd=tmp_path).stdout
    other = run(*args, "--seed", "6", "--save", "c.npz", cwd=tmp_path).stdout
    strip = lambda text: re.sub(r"in [0-9.]+ s|saved the model to .*", "", text)  # noqa: E731
    assert strip(first) == strip(again) and strip(first) != strip(other)
    a, b = xpnet.load(tmp_path / "a.npz"), xpnet.load(tmp_path / "b.npz")
    for (Wa, _), (Wb, _) in zip(a.params, b.params):
        np.testing.assert_array_equal(xpnet.to_numpy(Wa), xpnet.to_numpy(Wb))
    # the same run in Python: data, split, weights, shuffles and masks all come from --seed
    X, y = datasets.moons(seed=5)
    (X_train, y_train), _, _ = split(X, y, 0.2, 0, seed=5, stratify=True)
    d = GENERIC
    model = xpnet.MLP([2, *d["hidden_sizes"], 1], hidden=d["hidden"], init=d["init"], seed=5)
    xpnet.train(
        model,
        X_train,
        y_train,
        epochs=20,
        batch_size=16,
        optimizer=d["optimizer"],
        lr=d["lr"],
        dropout=0.2,
        seed=5,
    )
    for (W, _), (Wa, _) in zip(model.params, a.params):
        np.testing.assert_array_equal(xpnet.to_numpy(W), xpnet.to_numpy(Wa))


def test_training_options_reach_train(tmp_path, animals):
    X, names = animals
    one_line_error(
        run("train", "--data", "new.csv", "--label-column", "none", cwd=tmp_path, ok=False),
        "train needs labels",
    )
    run(
        "train",
        "--data",
        "animals.csv",
        "--label-column",
        "species",
        "--index-column",
        "0",
        "--epochs",
        "30",
        "--hidden-sizes",
        "16,8",
        "--hidden",
        "tanh,gelu",
        "--init",
        "xavier",
        "--optimizer",
        "momentum",
        "--momentum",
        "0.5",
        "--weight-decay",
        "0.01",
        "--dropout",
        "0.1",
        "--lr",
        "0.05",
        "--lr-schedule",
        "step:10:0.5",
        "--validation-size",
        "0.2",
        "--early-stopping",
        "5",
        "--class-weight",
        "balanced",
        "--batch-size",
        "32",
        "--dtype",
        "float64",
        "--seed",
        "2",
        "--quiet",
        "--save",
        "m.npz",
        cwd=tmp_path,
    )
    saved = xpnet.load(tmp_path / "m.npz")
    (X_train, y_train), val, _ = split(X, names, 0, 0.2, seed=2, stratify=True)
    model = xpnet.MLP(
        [3, 16, 8, 3], hidden=["tanh", "gelu"], output="softmax", init="xavier", seed=2, dtype="float64"
    )
    xpnet.train(
        model,
        X_train,
        y_train,
        epochs=30,
        batch_size=32,
        optimizer="momentum",
        momentum=0.5,
        weight_decay=0.01,
        dropout=0.1,
        lr=xpnet.schedules.StepDecay(0.05, 10, 0.5),
        seed=2,
        validation_data=val,
        early_stopping=5,
        class_weight="balanced",
    )
    assert saved.config() == model.config()
    for (W, b), (W0, b0) in zip(saved.params, model.params):
        np.testing.assert_array_equal(xpnet.to_numpy(W), xpnet.to_numpy(W0))


@pytest.mark.parametrize(
    "spec, schedule",
    [
        ("exp:0.9", lambda lr, epochs, n: xpnet.schedules.ExponentialDecay(lr, 0.9)),
        ("cosine:2", lambda lr, epochs, n: xpnet.schedules.CosineDecay(lr, epochs, 2)),
        ("inverse-time:0.5:2", lambda lr, epochs, n: xpnet.schedules.InverseTimeDecay(lr, 0.5, 2)),
        ("invscaling", lambda lr, epochs, n: xpnet.schedules.InverseScaling(lr, n)),
    ],
)
def test_lr_schedules(tmp_path, spec, schedule):
    run(
        "train",
        "--dataset",
        "blobs",
        "--epochs",
        "8",
        "--lr-schedule",
        spec,
        "--quiet",
        "--save",
        "m.npz",
        "--dtype",
        "float64",
        cwd=tmp_path,
    )
    X, y = datasets.blobs(seed=0)
    d = GENERIC
    model = xpnet.MLP(
        [2, *d["hidden_sizes"], 3], hidden=d["hidden"], output="softmax", init=d["init"], dtype="float64"
    )
    xpnet.train(model, X, y, epochs=8, optimizer=d["optimizer"], lr=schedule(d["lr"], 8, len(X)))
    np.testing.assert_array_equal(
        xpnet.to_numpy(xpnet.load(tmp_path / "m.npz").params[0][0]), xpnet.to_numpy(model.params[0][0])
    )


def test_plateau_schedule_lowers_the_rate(tmp_path):
    done = run(
        "train",
        "--dataset",
        "moons",
        "--epochs",
        "40",
        "--lr",
        "0.05",
        "--batch-size",
        "16",
        "--lr-schedule",
        "plateau:0.5:2",
        "--validation-size",
        "0.3",
        "--save",
        "m.npz",
        cwd=tmp_path,
    )
    assert "val_loss stopped improving, learning rate 0.05 -> 0.025" in done.stdout
    X, y = datasets.moons(seed=0)
    (X_train, y_train), val, _ = split(X, y, 0, 0.3, seed=0, stratify=True)
    d = GENERIC
    model = xpnet.MLP([2, *d["hidden_sizes"], 1], hidden=d["hidden"], init=d["init"])
    history = xpnet.train(
        model,
        X_train,
        y_train,
        epochs=40,
        batch_size=16,
        optimizer=d["optimizer"],
        lr=0.05,
        validation_data=val,
        callbacks=[xpnet.ReduceLROnPlateau(factor=0.5, patience=2)],
    )
    assert min(history.lr) < 0.05
    np.testing.assert_array_equal(
        xpnet.to_numpy(xpnet.load(tmp_path / "m.npz").params[0][0]), xpnet.to_numpy(model.params[0][0])
    )


def test_help_states_each_data_sets_defaults(tmp_path, animals):
    help_text = run("train", "--help", cwd=tmp_path).stdout.split("per data set:")[1].split("\n\n")[0]
    for name, d in (
        ("flower", DEFAULTS["flower"]),
        ("xor", DEFAULTS["xor"]),
        ("other --dataset", GENERIC),
        ("--data FILE", FILE_DEFAULTS),
    ):
        row = next(line for line in help_text.splitlines() if line.strip().startswith(name))
        assert row.split()[-7:] == [
            ",".join(map(str, d["hidden_sizes"])),
            d["hidden"],
            d["init"],
            d["optimizer"],
            f"{d['lr']:g}",
            str(d["epochs"]),
            str(d["batch_size"] or "full"),
        ]
    for argv, d in (
        (["--dataset", "flower"], DEFAULTS["flower"]),
        (["--dataset", "xor"], DEFAULTS["xor"]),
        (["--dataset", "circles"], GENERIC),
        (["--data", "animals.csv", "--label-column", "species", "--index-column", "0"], FILE_DEFAULTS),
    ):
        first = run("train", *argv, "--epochs", "1", "--save", "m.npz", cwd=tmp_path).stdout.splitlines()[0]
        assert f"{d['optimizer']} lr={d['lr']} for 1 epochs" in first, first
        model = xpnet.load(tmp_path / "m.npz")
        assert model.sizes[1:-1] == d["hidden_sizes"] and model.hidden[0].name == d["hidden"]
        assert model.init == d["init"]


def test_export_writes_what_onnxruntime_runs(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    run("train", "--dataset", "spirals", "--epochs", "5", "--quiet", "--save", "s.npz", cwd=tmp_path)
    done = run("export", "s.npz", "s.onnx", "--opset", "13", cwd=tmp_path)
    assert "wrote s.onnx" in done.stdout
    X, _ = datasets.spirals(seed=1)
    session = ort.InferenceSession(str(tmp_path / "s.onnx"), providers=["CPUExecutionProvider"])
    import onnx

    assert onnx.load(str(tmp_path / "s.onnx")).opset_import[0].version == 13
    expected = xpnet.to_numpy(xpnet.load(tmp_path / "s.npz").forward(X))
    np.testing.assert_allclose(
        session.run(["Y"], {"X": X.astype(np.float32)})[0], expected, rtol=1e-5, atol=1e-6
    )
    one_line_error(run("export", "s.npz", "s2.onnx", "--opset", "3", cwd=tmp_path, ok=False), "opset")
    one_line_error(run("export", "s.npz", "no/dir/s.onnx", cwd=tmp_path, ok=False), "does not exist")
    assert not (tmp_path / "s2.onnx").exists()


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["train", "--test-size", "1.5"], ["argument --test-size", "a fraction in (0, 1)"]),
        (["train", "--lr-schedule", "step:x"], ["argument --lr-schedule", "step:STEP[:GAMMA]"]),
        (["train", "--lr-schedule", "warm"], ["unknown schedule 'warm'"]),
        (["train", "--hidden-sizes", "4,x"], ["comma-separated positive integers"]),
        (
            ["train", "--dataset", "moons", "--test-size", "150", "--validation-size", "60"],
            ["leaving none to train"],
        ),
        (
            ["train", "--dataset", "digits", "--boundary", "b.png"],
            ["--boundary draws data with 2 features", "64"],
        ),
        (
            ["train", "--dataset", "moons", "--task", "regress", "--class-weight", "balanced"],
            ["--class-weight"],
        ),
        (
            ["train", "--dataset", "moons", "--hidden-sizes", "4,4", "--hidden", "relu,tanh,gelu"],
            ["3 activations"],
        ),
        (["train", "--dataset", "moons", "--save", "no/such/dir/m.npz"], ["--save", "does not exist"]),
        (["trian"], ["invalid choice: 'trian'"]),
        (["train", "--data", "x.csv", "--samples", "5"], ["--samples sizes a generated --dataset"]),
    ],
)
def test_bad_options_are_one_line_errors_before_any_training(tmp_path, argv, fragments):
    done = run(*argv, cwd=tmp_path, ok=False)
    one_line_error(done, *fragments)
    assert "epoch" not in done.stdout


def test_console_script_is_the_same_program(tmp_path):
    script = shutil.which("xpnet")
    if script is None:
        pytest.skip("the xpnet console script is not installed here (pip install . puts it on PATH)")
    done = run("train", "--dataset", "xor", "--quiet", cwd=tmp_path, program=(script,))
    assert done.stdout.startswith("xor: final loss")
