"""Pictures that say what they show: class legends, one-epoch histories, progress in notebooks."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest

import xpnet
from xpnet import datasets
from xpnet import progress as progress_module
from xpnet.progress import Progress

pytest.importorskip("matplotlib")
from matplotlib.colors import to_rgba  # noqa: E402

from xpnet.plot import plot_decision_boundary, plot_history  # noqa: E402


def _legend(fig):
    legend = fig.axes[0].get_legend()
    assert legend is not None and legend.get_title().get_text() == "class"
    return [t.get_text() for t in legend.get_texts()], [
        to_rgba(h.get_markerfacecolor()) for h in legend.legend_handles
    ]


def test_softmax_boundary_names_each_colour(tmp_path):
    X, y = datasets.blobs(n_samples=90, centers=3, seed=0)
    names = np.array(["zebra", "ant", "moth"])[y]
    model = xpnet.MLP([2, 8, 3], output="softmax")
    xpnet.train(model, X, names, epochs=30, optimizer="adam", lr=0.05)
    fig = plot_decision_boundary(model, X, names, tmp_path / "b.png", resolution=20)
    texts, colors = _legend(fig)
    assert texts == ["ant", "moth", "zebra"]  # model.classes, sorted
    points = next(c for c in fig.axes[0].collections if len(c.get_offsets()) == len(X))
    drawn = points.get_facecolors()
    for k, name in enumerate(texts):  # every point of a class has its legend entry's colour
        np.testing.assert_allclose(drawn[names == name], np.tile(colors[k], ((names == name).sum(), 1)))


def test_sigmoid_boundary_names_both_classes(tmp_path):
    X, y = datasets.moons(n_samples=60, seed=0)
    answers = np.array(["no", "yes"])[y]
    model = xpnet.MLP([2, 6, 1], hidden="tanh")
    xpnet.train(model, X, answers, epochs=20, lr=0.5)
    fig = plot_decision_boundary(model, X, answers, tmp_path / "b.png", resolution=20)
    texts, colors = _legend(fig)
    assert texts == ["no", "yes"]
    assert fig.axes[-1].get_ylabel() == "P(yes)"  # the colorbar
    points = next(c for c in fig.axes[0].collections if len(c.get_offsets()) == len(X))
    np.testing.assert_allclose(points.get_facecolors()[y == 1][0], colors[1])
    numeric = xpnet.MLP([2, 6, 1], hidden="tanh")
    fig = plot_decision_boundary(numeric, X, y, resolution=20)
    assert _legend(fig)[0] == ["0", "1"] and fig.axes[-1].get_ylabel() == "P(1)"


def test_one_epoch_history_is_drawn_as_points(tmp_path):
    X, y = datasets.moons(n_samples=40, seed=0)
    history = xpnet.train(xpnet.MLP([2, 4, 1]), X, y, epochs=1, validation_data=(X, y))
    fig = plot_history(history, tmp_path / "h.png")
    lines = [
        line
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_label().startswith(("training", "validation"))
    ]
    assert len(lines) == 4
    for line in lines:
        assert line.get_marker() == "o" and line.get_markersize() > 0 and len(line.get_xdata()) == 1
    long = plot_history({"loss": np.linspace(1, 0, 200)})
    assert long.axes[0].get_lines()[0].get_marker() in (None, "None", "")


# -- progress in a notebook ----------------------------------------------------------------
class _Shell:
    config = {"IPKernelApp": {}}


@pytest.fixture
def kernel(monkeypatch):
    """This process, dressed as a Jupyter kernel: IPython's get_ipython() returns a kernel shell."""
    try:
        import IPython as fake  # the real one, where installed (the widget needs it)
    except ImportError:
        fake = types.ModuleType("IPython")
    monkeypatch.setitem(sys.modules, "IPython", fake)
    monkeypatch.setattr(fake, "get_ipython", lambda: _Shell(), raising=False)
    return fake


def test_the_display_is_not_drawn_outside_terminals_and_notebooks():
    assert not progress_module.in_notebook()
    assert not Progress(5).active or sys.stderr.isatty()


def test_a_notebook_kernel_draws_the_display(kernel, monkeypatch):
    assert progress_module.in_notebook()
    monkeypatch.setattr(progress_module, "_notebook_bar", lambda: None)  # no ipywidgets: tqdm's text bar
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with Progress(4) as bar:
        assert bar.active and bar.notebook and bar.kind == "tqdm"
        bar.update(4, {"loss": 0.5})
    assert "4/4" in stderr.getvalue()
    assert not Progress(4, stream=io.StringIO()).active  # a stream of its own: a log, not the notebook


def test_a_notebook_kernel_with_ipywidgets_gets_the_widget(kernel, capsys):
    pytest.importorskip("ipywidgets")
    tqdm_notebook = pytest.importorskip("tqdm.notebook")
    with Progress(3) as bar:
        assert isinstance(bar._bar, tqdm_notebook.tqdm)
        bar.update(3, {"loss": 0.25})
        assert bar._bar.n == 3
