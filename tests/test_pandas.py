"""pandas DataFrames and Series at the edge of the API: the same numbers as NumPy, clear errors otherwise."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import xpnet
from xpnet import datasets

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame():
    X, y = datasets.blobs(n_samples=90, n_features=3, centers=3, seed=5)
    df = pd.DataFrame(X, columns=["length", "width", "depth"], index=np.arange(100, 190))
    return X, y, df


def _fit(X, y, **kwargs):
    model = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64", seed=2)
    history = xpnet.train(model, X, y, epochs=15, optimizer="adam", lr=0.05, batch_size=16, **kwargs)
    return model, history


def test_frames_train_exactly_as_their_arrays(frame):
    X, y, df = frame
    model, history = _fit(
        df,
        pd.Series(y, index=df.index),
        validation_data=(df.iloc[:20], pd.Series(y[:20])),
        sample_weight=pd.Series(np.linspace(0.5, 2, 90)),
    )
    reference, ref_history = _fit(
        X, y, validation_data=(X[:20], y[:20]), sample_weight=np.linspace(0.5, 2, 90)
    )
    assert history.loss == ref_history.loss and history.val_loss == ref_history.val_loss
    np.testing.assert_array_equal(xpnet.to_numpy(model.forward(df)), xpnet.to_numpy(reference.forward(X)))
    np.testing.assert_array_equal(xpnet.to_numpy(model.predict(df)), xpnet.to_numpy(reference.predict(X)))
    np.testing.assert_array_equal(
        xpnet.to_numpy(model.predict_proba(df)), xpnet.to_numpy(reference.predict_proba(X))
    )
    assert model.loss(df, pd.Series(y)) == reference.loss(X, y)
    assert model.score(df, pd.DataFrame({"label": y})) == reference.score(X, y)


def test_nullable_and_bool_columns_are_numbers(frame):
    X, y, df = frame
    mixed = df.assign(
        width=pd.array(np.round(X[:, 1]).astype(int), dtype="Int64"),
        depth=pd.array(X[:, 2] > 0, dtype="boolean"),
    )
    expected = np.column_stack([X[:, 0], np.round(X[:, 1]), (X[:, 2] > 0).astype(float)])
    model = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64")
    np.testing.assert_array_equal(
        xpnet.to_numpy(model.forward(mixed)), xpnet.to_numpy(model.forward(expected))
    )
    assert model.loss(mixed, pd.Series(y, dtype="Int64")) == model.loss(expected, y)


def test_categorical_and_text_labels_become_classes(frame):
    X, y, df = frame
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model, _ = _fit(df, pd.Series(pd.Categorical(names)))
    np.testing.assert_array_equal(model.classes, ["setosa", "versicolor", "virginica"])
    text_model, _ = _fit(df, pd.Series(names, dtype="string"))
    np.testing.assert_array_equal(text_model.predict(df), model.predict(X))
    assert set(model.predict(df)) <= set(names)


@pytest.mark.parametrize(
    "edit, error, message",
    [
        (
            lambda df: df.assign(colour=["red"] * 90),
            xpnet.InvalidTypeError,
            r"X must hold numbers, but column 'colour' does not \(dtype .*, e.g. 'red' in row 100\)",
        ),
        (
            lambda df: df.assign(day=pd.date_range("2024-01-01", periods=90)),
            xpnet.InvalidTypeError,
            "column 'day' does not",
        ),
        (
            lambda df: df.assign(kind=pd.Categorical(["a", "b", "c"] * 30)),
            xpnet.InvalidTypeError,
            r"column 'kind' does not .*cat.codes",
        ),
        (
            lambda df: df.assign(width=df["width"].where(df.index != 107)),
            xpnet.InvalidArgumentError,
            r"X column 'width' has 1 missing value\(s\) .* the first in row 107",
        ),
    ],
)
def test_columns_that_are_not_numbers_are_named(frame, edit, error, message):
    X, y, df = frame
    bad = edit(df)
    model = xpnet.MLP([bad.shape[1], 4, 3], output="softmax")
    before = xpnet.to_numpy(model.params[0][0]).copy()
    with pytest.raises(error, match=message):
        xpnet.train(model, bad, y, epochs=1)
    with pytest.raises(error, match=message):
        model.predict(bad)
    np.testing.assert_array_equal(xpnet.to_numpy(model.params[0][0]), before)


def test_missing_labels_are_named(frame):
    X, y, df = frame
    labels = pd.Series(np.array(["a", "b", "c"])[y], index=df.index).where(df.index != 150)
    with pytest.raises(xpnet.InvalidArgumentError, match=r"y has 1 missing value\(s\) .* row 150"):
        xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), df, labels, epochs=1)
    with pytest.raises(xpnet.InvalidArgumentError, match="X_val column 'length' has 1 missing"):
        xpnet.train(
            xpnet.MLP([3, 4, 3], output="softmax"),
            df,
            y,
            epochs=1,
            validation_data=(df.assign(length=df["length"].where(df.index != 101)), y),
        )


def test_regression_targets_from_a_series(frame):
    X, _, df = frame
    target = X @ np.array([0.5, -1.0, 2.0])
    model = xpnet.MLP([3, 8, 1], output="identity", dtype="float64")
    history = xpnet.train(model, df, pd.Series(target), epochs=10, optimizer="adam", lr=0.01)
    reference = xpnet.MLP([3, 8, 1], output="identity", dtype="float64")
    assert history.loss == xpnet.train(reference, X, target, epochs=10, optimizer="adam", lr=0.01).loss


def test_xpnet_does_not_import_pandas():
    code = (
        "import sys, numpy as np, xpnet; m = xpnet.MLP([2, 3, 1]); "
        "xpnet.train(m, np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=2); m.predict(np.zeros((1, 2))); "
        "from xpnet import cli, plot, datasets; print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
