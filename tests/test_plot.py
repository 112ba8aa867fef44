"""Tests for xpnet.plot: training curves, decision boundaries, the decision grid,
and the install hint when matplotlib is missing."""

import struct
import sys

import numpy as np
import pytest

import xpnet
from xpnet import datasets, plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def mpl():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")  # figures made through pyplot (no path) must not open windows here
    return matplotlib


@pytest.fixture(autouse=True)
def close_pyplot_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def assert_png(path, min_width=200, min_height=150):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= min_width and height >= min_height, (width, height)
    assert 5_000 < len(data) < 2_000_000, len(data)
    assert data[-8:-4] == b"IEND", "PNG is truncated"
    return width, height


@pytest.fixture(scope="module")
def flower_model():
    X, y = datasets.flower()
    model = xpnet.MLP([2, 4, 1], hidden="tanh", output="sigmoid", init="normal")
    history = xpnet.train(model, X, y, epochs=2000, lr=1.2)
    return model, X, y, history


# ---------------------------------------------------------------------------
# plot_history
# ---------------------------------------------------------------------------


def test_history_png_from_a_training_run(mpl, tmp_path, flower_model):
    *_, history = flower_model
    fig = plot.plot_history(history, tmp_path / "history.png")
    width, height = assert_png(tmp_path / "history.png")
    assert width > height  # two panels side by side
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "accuracy"
    (line,) = loss_ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), history.loss)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 2001))
    np.testing.assert_allclose(acc_ax.get_lines()[0].get_ydata(), history.accuracy)


def test_history_with_validation_and_best_epoch(mpl, tmp_path):
    X, y = datasets.spirals(n_samples=120)
    X_tr, X_va, y_tr, y_va = datasets.train_test_split(X, y, test_size=0.25, stratify=True)
    model = xpnet.MLP([2, 16, 3], hidden="relu", output="softmax")
    h = xpnet.train(model, X_tr, y_tr, epochs=40, optimizer="adam", lr=0.05,
                    validation_data=(X_va, y_va), early_stopping=5)
    fig = plot.plot_history(h, path=str(tmp_path / "h.png"), title="spirals", logy=True)
    assert_png(tmp_path / "h.png")
    loss_ax, acc_ax = fig.axes
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels == ["training loss", "validation loss", "best epoch"]
    acc_labels = [line.get_label() for line in acc_ax.get_lines()]
    assert acc_labels[:2] == ["training accuracy", "validation accuracy"]
    assert loss_ax.get_yscale() == "log"
    assert fig._suptitle.get_text() == "spirals"


def test_history_from_a_dict_without_accuracy(mpl, tmp_path):
    fig = plot.plot_history({"loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.2, 1.9]}, tmp_path / "r.png")
    assert len(fig.axes) == 1
    assert_png(tmp_path / "r.png", min_width=150)


def test_history_onto_given_axes(mpl):
    from matplotlib.figure import Figure

    fig = Figure()
    a, b = fig.subplots(1, 2)
    h = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.75]}
    assert plot.plot_history(h, ax=(a, b)) is fig
    assert len(a.get_lines()) == 1 and len(b.get_lines()) == 1
    fig2 = Figure()
    single = fig2.subplots()
    assert plot.plot_history(h, ax=single) is fig2
    assert len(fig2.axes) == 2  # the accuracy went onto a twin y-axis
    assert len(single.get_legend().get_texts()) == 2


def test_saving_does_not_touch_pyplot(mpl, tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot.plot_history({"loss": [1.0, 0.5]}, tmp_path / "a.png")
    assert plt.get_fignums() == before
    fig = plot.plot_history({"loss": [1.0, 0.5]})  # no path: a pyplot figure, for plt.show()
    assert plt.get_fignums() == before + [fig.number]


@pytest.mark.parametrize("history, error, match", [
    ({"loss": []}, ValueError, "no 'loss' values"),
    ({}, ValueError, "no 'loss' values"),
    ({"loss": [1.0, 2.0], "accuracy": [0.5]}, ValueError, r"'accuracy'\] has 1 values but 'loss' has 2"),
    ({"loss": ["a"]}, ValueError, "must be a list of numbers"),
    ([1.0, 2.0], TypeError, "xpnet.History or a dict"),
])
def test_history_errors(mpl, history, error, match):
    with pytest.raises(error, match=match):
        plot.plot_history(history)


# ---------------------------------------------------------------------------
# decision_grid
# ---------------------------------------------------------------------------


def test_decision_grid_matches_predict_and_forward(flower_model):
    model, X, y, _ = flower_model
    xx, yy, zz = plot.decision_grid(model, X, resolution=50)
    assert xx.shape == yy.shape == zz.shape == (50, 50)
    assert zz.dtype.kind == "i" and set(np.unique(zz).tolist()) == {0, 1}
    # the grid covers the data, with a margin
    assert xx.min() < X[:, 0].min() and xx.max() > X[:, 0].max()
    assert yy.min() < X[:, 1].min() and yy.max() > X[:, 1].max()
    np.testing.assert_array_equal(xx[0], xx[-1])  # x varies along columns
    np.testing.assert_array_equal(yy[:, 0], yy[:, -1])  # y along rows
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 50, size=(12, 2)):
        point = np.array([[xx[i, j], yy[i, j]]])
        assert zz[i, j] == xpnet.to_numpy(model.predict(point))[0]
    _, _, pp = plot.decision_grid(model, X, resolution=50, output="proba")
    assert pp.shape == (50, 50) and pp.dtype.kind == "f"
    np.testing.assert_array_equal(pp > 0.5, zz == 1)
    i, j = 17, 33
    one = xpnet.to_numpy(model.forward(np.array([[xx[i, j], yy[i, j]]])))[0, 0]
    # float32: a batch and a single row round differently
    np.testing.assert_allclose(pp[i, j], one, rtol=1e-5, atol=1e-6)
    # the trained model has learned the flower: the grid at the data points agrees with y
    assert np.mean(xpnet.to_numpy(model.predict(X)) == y) > 0.85


def test_decision_grid_softmax_and_multi_output():
    X, y = datasets.blobs(n_samples=60, centers=3)
    model = xpnet.MLP([2, 8, 3], output="softmax", dtype="float64")
    xpnet.train(model, X, y, epochs=50, optimizer="adam", lr=0.05)
    xx, yy, zz = plot.decision_grid(model, X, resolution=7)
    assert zz.shape == (7, 7)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    np.testing.assert_array_equal(zz.ravel(), xpnet.to_numpy(model.predict(points)))
    _, _, pp = plot.decision_grid(model, X, resolution=7, output="proba")
    assert pp.shape == (7, 7, 3)
    np.testing.assert_allclose(pp.sum(axis=-1), 1.0)


def test_decision_grid_large_resolution_is_chunked(monkeypatch, flower_model):
    model, X, _, _ = flower_model
    monkeypatch.setattr(plot, "_CHUNK", 1000)
    _, _, zz_chunked = plot.decision_grid(model, X, resolution=64)
    monkeypatch.setattr(plot, "_CHUNK", 10**9)
    _, _, zz_whole = plot.decision_grid(model, X, resolution=64)
    np.testing.assert_array_equal(zz_chunked, zz_whole)


def test_decision_grid_on_every_backend(backend):
    X, _ = datasets.moons(n_samples=20)
    reference = xpnet.MLP([2, 5, 1], hidden="tanh", dtype="float64", seed=3)
    model = reference.to(backend)
    xx, yy, pp = plot.decision_grid(model, X, resolution=9, output="proba")
    _, _, pp_ref = plot.decision_grid(reference, X, resolution=9, output="proba")
    assert isinstance(pp, np.ndarray)
    np.testing.assert_allclose(pp, pp_ref, rtol=1e-10, atol=1e-12)


def test_decision_grid_constant_feature_gets_a_margin(flower_model):
    model, _, _, _ = flower_model
    X = np.array([[1.0, -2.0], [1.0, 3.0]])
    xx, yy, _ = plot.decision_grid(model, X, resolution=5)
    assert xx.min() == 0.5 and xx.max() == 1.5


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(resolution=1), ValueError, "resolution must be an int >= 2"),
    (dict(resolution=10.0), ValueError, "resolution"),
    (dict(padding=-1), ValueError, "padding"),
    (dict(output="logits"), ValueError, "unknown output 'logits'; expected one of label, proba"),
])
def test_decision_grid_bad_arguments(flower_model, kwargs, error, match):
    model, X, _, _ = flower_model
    with pytest.raises(error, match=match):
        plot.decision_grid(model, X, **kwargs)


def test_decision_grid_needs_two_inputs():
    X3 = np.zeros((4, 3))
    with pytest.raises(ValueError, match="needs a model with 2 inputs; this one has 3"):
        plot.decision_grid(xpnet.MLP([3, 2, 1]), X3)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\).*got shape \(4, 3\)"):
        plot.decision_grid(xpnet.MLP([2, 2, 1]), X3)
    with pytest.raises(TypeError, match="must be an xpnet.MLP"):
        plot.decision_grid(object(), np.zeros((4, 2)))


# ---------------------------------------------------------------------------
# plot_decision_boundary
# ---------------------------------------------------------------------------


def test_decision_boundary_png_of_the_flower(mpl, tmp_path, flower_model):
    model, X, y, _ = flower_model
    fig = plot.plot_decision_boundary(model, X, y, tmp_path / "boundary.png", resolution=120,
                                      title="flower")
    assert_png(tmp_path / "boundary.png")
    ax = fig.axes[0]
    assert ax.get_title() == "flower"
    offsets = ax.collections[-1].get_offsets()  # the scatter of the data
    np.testing.assert_allclose(np.asarray(offsets), X)
    xx, yy, _ = plot.decision_grid(model, X, 120)
    assert ax.get_xlim() == (xx.min(), xx.max()) and ax.get_ylim() == (yy.min(), yy.max())


def test_decision_boundary_softmax_regression_and_axes(mpl, tmp_path):
    from matplotlib.figure import Figure

    X, y = datasets.spirals(n_samples=90)
    model = xpnet.MLP([2, 8, 3], output="softmax")
    xpnet.train(model, X, y, epochs=20, optimizer="adam", lr=0.05)
    plot.plot_decision_boundary(model, X, xpnet.datasets.one_hot(y), tmp_path / "s.png", resolution=40)
    assert_png(tmp_path / "s.png")
    fig = Figure()
    ax = fig.subplots()
    regression = xpnet.MLP([2, 4, 1], output="identity")
    assert plot.plot_decision_boundary(regression, X, X[:, 0], ax=ax, resolution=20) is fig


def test_decision_boundary_errors(mpl):
    X, y = datasets.moons(n_samples=10)
    with pytest.raises(ValueError, match="y has 9 labels but X has 10 rows"):
        plot.plot_decision_boundary(xpnet.MLP([2, 3, 1]), X, y[:9])
    with pytest.raises(ValueError, match="this model has 2 sigmoid outputs"):
        plot.plot_decision_boundary(xpnet.MLP([2, 3, 2], output="sigmoid"), X, y)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot.plot_decision_boundary(xpnet.MLP([2, 3, 1]), X, y, ax="left")


# ---------------------------------------------------------------------------
# without matplotlib
# ---------------------------------------------------------------------------


def test_clear_error_without_matplotlib(monkeypatch, tmp_path):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    X, y = datasets.flower(n_samples=20)
    model = xpnet.MLP([2, 4, 1])
    message = r"^plots need matplotlib: pip install matplotlib$"
    with pytest.raises(ImportError, match=message) as info:
        plot.plot_history({"loss": [1.0]}, tmp_path / "x.png")
    assert isinstance(info.value, xpnet.XpnetError)
    with pytest.raises(ImportError, match=message):
        plot.plot_decision_boundary(model, X, y)
    assert not (tmp_path / "x.png").exists()
    # the grid itself needs no matplotlib
    assert plot.decision_grid(model, X, resolution=3)[2].shape == (3, 3)


# ---------------------------------------------------------------------------
# docs/make_figures.py
# ---------------------------------------------------------------------------


def test_docs_make_figures_script(mpl, tmp_path):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "docs" / "make_figures.py"
    spec = importlib.util.spec_from_file_location("make_figures", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(tmp_path, epochs=300)
    assert result["accuracy"] > 0.7
    assert_png(tmp_path / "flower_boundary.png")
    assert_png(tmp_path / "flower_history.png")


# ---------------------------------------------------------------------------
# plot_summary (what `xpnet train --plot` writes)
# ---------------------------------------------------------------------------


def test_summary_with_boundary(mpl, tmp_path, flower_model):
    model, X, y, history = flower_model
    fig = plot.plot_summary(history, model, X, y, tmp_path / "run.png", title="flower", resolution=60)
    width, height = assert_png(tmp_path / "run.png", min_width=900)
    assert width > 2 * height
    titles = [a.get_title() for a in fig.axes]
    assert titles[:3] == ["loss", "accuracy", "decision boundary"]


@pytest.mark.parametrize("case", ["no model", "4 features", "multi-sigmoid", "regression history"])
def test_summary_without_boundary(mpl, tmp_path, case):
    X4, y4 = datasets.blobs(n_samples=30, n_features=4)
    X2, y2 = datasets.moons(n_samples=30)
    h = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.9]}
    args = {
        "no model": (h,),
        "4 features": (h, xpnet.MLP([4, 3, 3], output="softmax"), X4, y4),
        "multi-sigmoid": (h, xpnet.MLP([2, 3, 2], output="sigmoid"), X2, y2),
        "regression history": ({"loss": [1.0, 0.5]},),
    }[case]
    fig = plot.plot_summary(*args, path=tmp_path / "s.png")
    assert_png(tmp_path / "s.png", min_width=150)
    assert "decision boundary" not in [a.get_title() for a in fig.axes]
