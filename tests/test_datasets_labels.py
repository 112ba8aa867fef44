"""``target="labels"``: the readers return class names as written, numbers as ``"auto"`` does."""

from __future__ import annotations

import numpy as np
import pytest

from xpnet import datasets

pd = pytest.importorskip("pandas")


def _iris_like(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sepal length": rng.normal(5, 1, n).round(2),
            "sepal width": rng.normal(3, 1, n).round(2),
            "species": rng.choice(["setosa", "versicolor", "virginica"], n),
        }
    )


def test_text_labels_from_a_pandas_csv(tmp_path):
    df = _iris_like()
    path = tmp_path / "iris.csv"
    df.to_csv(path)  # pandas' default: an index column and a header
    X, y = datasets.load_csv(path, label_column="species", index_column=0, target="labels")
    back = pd.read_csv(path, index_col=0)
    np.testing.assert_array_equal(X, back[["sepal length", "sepal width"]].to_numpy())
    np.testing.assert_array_equal(y, back["species"].to_numpy(dtype=str))
    assert y.dtype.kind == "U"
    with pytest.raises(
        datasets.DataFormatError, match=r"column 4 \('species'\): '[a-z]+' is not a number .*target='labels'"
    ):
        datasets.load_csv(path, label_column="species", index_column=0)


def test_numeric_labels_read_as_auto(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a,b,label\n1,2,3\n4,5,7\n6,7,3\n")
    for target in ("labels", "auto"):
        _, y = datasets.load_csv(path, target=target)
        assert y.dtype == np.int64 and y.tolist() == [3, 7, 3]
    path.write_text("a,b,label\n1,2,0.5\n4,5,7\n")
    assert datasets.load_csv(path, target="labels")[1].tolist() == [0.5, 7.0]


def test_features_that_are_text_are_still_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,label\n1,2,cat\n4,oops,dog\n")
    with pytest.raises(datasets.DataFormatError, match=r"line 3, column 2 \('b'\): 'oops' is not a number"):
        datasets.load_csv(path, target="labels")
    path.write_text("a,b,label\n1,2,cat\n4,5,\n")
    with pytest.raises(datasets.DataFormatError, match="line 3, column 3 .* the label is empty"):
        datasets.load_csv(path, target="labels")


def test_text_labels_from_npz(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, X=np.eye(3), y=np.array(["b", "a", "b"]))
    X, y = datasets.load_npz(path, target="labels")
    assert y.tolist() == ["b", "a", "b"] and X.shape == (3, 3)
    with pytest.raises(datasets.DataFormatError, match="must hold real numbers"):
        datasets.load_npz(path)


def test_auto_header_with_class_names(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("0.5,1.5,cat\n2.5,0.1,dog\n")  # no header: the only text is the label
    X, y = datasets.load_csv(path, target="labels")
    assert X.tolist() == [[0.5, 1.5], [2.5, 0.1]] and y.tolist() == ["cat", "dog"]
    with pytest.raises(datasets.DataFormatError, match="mixes numbers and text"):
        datasets.load_csv(path)  # as before for integer classes: the row could be a header
    named = tmp_path / "pandas_names.csv"
    named.write_text("0,1,species\n0.5,1.5,cat\n")  # pandas' names 0, 1 for unnamed columns: ambiguous
    with pytest.raises(datasets.DataFormatError, match="mixes numbers and text"):
        datasets.load_csv(named, target="labels")
    assert datasets.load_csv(named, target="labels", header=True)[1].tolist() == ["cat"]
