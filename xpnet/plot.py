"""Plots of training runs and decision boundaries (matplotlib, optional).

matplotlib is not a dependency of xpnet: it is imported inside the functions,
and a clear :class:`~xpnet.errors.MissingDependencyError` (an
``ImportError``) says what to install when it is missing::

    pip install matplotlib

Every function returns the matplotlib :class:`~matplotlib.figure.Figure` it
drew on. With ``path=`` the figure is also written there (PNG by default, or
whatever the file's suffix names) through matplotlib's Agg renderer on a
figure that pyplot does not track, so saving works on machines without a
display and creates no GUI windows. Without ``path`` and ``ax`` the figure is
made with pyplot, so ``plt.show()`` and notebooks display it. With ``ax`` the
plot goes onto your axes.

Models are evaluated through their public ``forward``/``predict`` methods on
whatever backend they live on; results come back with :func:`xpnet.to_numpy`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .backend import to_numpy
from .errors import InvalidArgumentError, InvalidTypeError, MissingDependencyError
from .labels import encode
from .tables import labels as frame_labels
from .validation import check_bool, check_choice, check_int, check_number, check_path

__all__ = ["plot_history", "plot_decision_boundary", "decision_grid", "plot_summary"]

#: Rows evaluated per forward pass when filling a decision grid.
_CHUNK = 65_536
#: Histories of at most this many epochs are drawn with a marker on every epoch.
_MARKED_EPOCHS = 30


def _matplotlib():
    """Import matplotlib or raise the install hint."""
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError("plots need matplotlib: pip install matplotlib") from None
    return matplotlib


def _figure(path: Any, ax: Any, ncols: int, figsize: tuple[float, float]):
    """``(fig, axes)``: the caller's axes, a pyplot-free Agg figure (saving) or a pyplot one."""
    _matplotlib()
    if ax is not None:
        axes = list(ax) if isinstance(ax, (Sequence, np.ndarray)) else [ax]
        for a in axes:
            if not hasattr(a, "figure") or not hasattr(a, "plot"):
                raise InvalidTypeError(f"ax must be a matplotlib Axes (or a pair of them); got {a!r}")
        return axes[0].figure, axes
    if path is not None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        FigureCanvasAgg(fig)
    else:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize, layout="constrained")
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def _output_args(path: Any, dpi: Any) -> tuple[Any, float]:
    """``path`` (None or a file name to write) and ``dpi``, checked before anything is drawn."""
    path = None if path is None else check_path("path", path, must_exist=False)
    return path, check_number("dpi", dpi, low=0.0, low_open=True)


def _grid_args(resolution: Any, padding: Any) -> tuple[int, float]:
    return check_int("resolution", resolution, low=2), check_number("padding", padding, low=0.0)


def _save(fig: Any, path: Any, dpi: float) -> None:
    if path is not None:
        fig.savefig(path, dpi=dpi)


# ---------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------

_SERIES = ("loss", "accuracy", "val_loss", "val_accuracy")


def _history_dict(history: Any) -> dict[str, Any]:
    if hasattr(history, "as_dict") and callable(history.as_dict):
        data = history.as_dict()
    elif isinstance(history, Mapping):
        data = dict(history)
    else:
        raise InvalidTypeError(
            "history must be an xpnet.History or a dict with 'loss' (and optionally 'accuracy', "
            f"'val_loss', 'val_accuracy'); got {type(history).__name__}"
        )
    out: dict[str, Any] = {}
    for key in _SERIES:
        values = data.get(key)
        values = [] if values is None else values
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"history[{key!r}] must be a list of numbers; got {values!r}"
            ) from None
        if arr.ndim != 1:
            raise InvalidArgumentError(
                f"history[{key!r}] must be a flat list of numbers; got shape {arr.shape}"
            )
        out[key] = arr
    n = len(out["loss"])
    if n == 0:
        raise InvalidArgumentError("history has no 'loss' values to plot (train for at least one epoch)")
    for key in _SERIES[1:]:
        if len(out[key]) not in (0, n):
            raise InvalidArgumentError(
                f"history[{key!r}] has {len(out[key])} values but 'loss' has {n}; they must match"
            )
    best = data.get("best_epoch")
    out["best_epoch"] = best if isinstance(best, numbers.Integral) and 0 <= best < n else None
    return out


def plot_history(history: Any, path: Any = None, ax: Any = None, *, title: str | None = None,
                 logy: bool = False, dpi: float = 100) -> Any:
    """Loss and accuracy per epoch, training and (when present) validation.

    Parameters
    ----------
    history : xpnet.History or dict
        What :func:`xpnet.train` returns, or a dict with the same keys:
        ``loss`` (required), ``accuracy``, ``val_loss``, ``val_accuracy``
        (each a list with one value per epoch, or empty) and optionally
        ``best_epoch`` (0-based; marked with a dotted line).
    path : str or os.PathLike, optional
        Write the figure there (PNG unless the suffix names another format).
    ax : matplotlib Axes or a pair of them, optional
        Where to draw: a pair gets loss and accuracy; a single Axes gets the
        loss, with the accuracy on a twin y-axis. By default a new figure
        with one panel per metric.
    title : str, optional
        A title over the figure.
    logy : bool, default False
        Logarithmic loss axis (useful over many epochs).
    dpi : float, default 100
        Resolution of the saved file.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed (an ``ImportError``).
    InvalidArgumentError
        No loss values, or series of different lengths.
    """
    h = _history_dict(history)
    path, dpi = _output_args(path, dpi)
    logy = check_bool("logy", logy)
    has_acc = len(h["accuracy"]) > 0 or len(h["val_accuracy"]) > 0
    fig, axes = _figure(path, ax, 2 if has_acc else 1, (10.0, 4.0) if has_acc else (5.5, 4.0))
    epochs = np.arange(1, len(h["loss"]) + 1)
    loss_ax = axes[0]
    acc_ax = None
    if has_acc:
        acc_ax = axes[1] if len(axes) > 1 else loss_ax.twinx()
    twin = acc_ax is not None and len(axes) == 1

    marker = "o" if len(epochs) <= _MARKED_EPOCHS else None  # one epoch is a point, not an invisible line

    def curves(a, train_key, val_key, what, color_train, color_val, style="-"):
        if len(h[train_key]):
            a.plot(epochs, h[train_key], style, color=color_train, marker=marker, label=f"training {what}")
        if len(h[val_key]):
            a.plot(epochs, h[val_key], style, color=color_val, marker=marker, label=f"validation {what}")

    curves(loss_ax, "loss", "val_loss", "loss", "C0", "C1")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    if logy:
        loss_ax.set_yscale("log")
    if acc_ax is not None:
        curves(acc_ax, "accuracy", "val_accuracy", "accuracy", "C2", "C3", "--" if twin else "-")
        acc_ax.set_ylabel("accuracy")
        if not twin:
            acc_ax.set_xlabel("epoch")
            acc_ax.set_title("accuracy")
    if not twin:
        loss_ax.set_title("loss")
    if h["best_epoch"] is not None:
        for a in axes if not twin else [loss_ax]:
            a.axvline(h["best_epoch"] + 1, color="0.5", linestyle=":", label="best epoch")
    from matplotlib.ticker import MaxNLocator

    for a in ([loss_ax, acc_ax] if acc_ax is not None and not twin else [loss_ax]):
        a.grid(True, alpha=0.3)
        a.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    if twin:  # one legend for both y-axes
        handles, labels = [], []
        for a in (loss_ax, acc_ax):
            hs, ls = a.get_legend_handles_labels()
            handles += hs
            labels += ls
        loss_ax.legend(handles, labels, loc="best")
    else:
        loss_ax.legend(loc="best")
        if acc_ax is not None:
            acc_ax.legend(loc="best")
    if title:
        fig.suptitle(title)
    _save(fig, path, dpi)
    return fig


# ---------------------------------------------------------------------------
# Decision boundaries
# ---------------------------------------------------------------------------


def _points_2d(X: Any, name: str = "X") -> np.ndarray:
    try:
        X = np.asarray(to_numpy(X), dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(f"{name} must be an array of numbers") from None
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise InvalidArgumentError(
            f"{name} must be 2-D data of shape (n_samples, 2) with at least one row to draw a decision "
            f"boundary; got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise InvalidArgumentError(f"{name} holds NaN or infinite values")
    return X


def _check_model(model: Any) -> None:
    for attr in ("forward", "predict", "sizes"):
        if not hasattr(model, attr):
            raise InvalidTypeError(
                f"model must be an xpnet.MLP (it has no {attr!r}); got {type(model).__name__}"
            )
    if model.sizes[0] != 2:
        raise InvalidArgumentError(
            f"a decision boundary needs a model with 2 inputs; this one has {model.sizes[0]}"
        )


def decision_grid(model: Any, X: Any, resolution: int = 200, *, padding: float = 0.1,
                  output: str = "label") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate ``model`` on a regular grid covering 2-D data ``X``.

    Parameters
    ----------
    model : xpnet.MLP
        A model with 2 inputs.
    X : array (n_samples, 2)
        The data whose bounding box (widened by ``padding`` of its extent on
        each side; 0.5 for a constant feature) the grid covers.
    resolution : int, default 200
        Grid points per axis (>= 2).
    padding : float, default 0.1
        Margin around the data, as a fraction of each feature's range.
    output : {"label", "proba"}
        ``"label"``: ``model.predict`` on the grid points (class labels).
        ``"proba"``: ``model.forward`` (the output activations: for one
        sigmoid unit the probability of class 1).

    Returns
    -------
    xx, yy : numpy.ndarray of float64, shape (resolution, resolution)
        The grid coordinates (``numpy.meshgrid`` of the two axes): the point
        ``(xx[i, j], yy[i, j])``; ``xx`` varies along ``j``, ``yy`` along ``i``.
    zz : numpy.ndarray, shape (resolution, resolution) or (resolution, resolution, k)
        The model's answer at each point: labels (int64; for a model with
        ``classes``, their positions: ``model.classes[zz]`` names them) or activations;
        a trailing axis when the model has ``k > 1`` outputs and the answer
        has one value per output (``output="proba"``, several sigmoid units).
    """
    _check_model(model)
    X = _points_2d(X)
    resolution, padding = _grid_args(resolution, padding)
    output = check_choice("output", output, ("label", "proba"))
    axes = []
    for j in range(2):
        lo, hi = float(X[:, j].min()), float(X[:, j].max())
        pad = padding * (hi - lo) if hi > lo else 0.5
        axes.append(np.linspace(lo - pad, hi + pad, resolution))
    xx, yy = np.meshgrid(axes[0], axes[1])
    points = np.column_stack([xx.ravel(), yy.ravel()])
    evaluate = model.predict if output == "label" else model.forward
    parts = [np.asarray(to_numpy(evaluate(points[s:s + _CHUNK]))) for s in range(0, len(points), _CHUNK)]
    zz = np.concatenate(parts, axis=0)
    classes = getattr(model, "classes", None)
    if output == "label" and classes is not None:
        zz = np.searchsorted(classes, zz).astype(np.int64)  # positions in model.classes, as the colours
    if zz.ndim == 2 and zz.shape[1] == 1:
        zz = zz[:, 0]
    return xx, yy, zz.reshape((resolution, resolution) + zz.shape[1:])


def _labels(y: Any, n: int, model: Any = None) -> np.ndarray:
    """``y`` as one number per row: class positions for a model with ``classes`` (text labels too),
    the argmax of one-hot rows, or the labels/values as they are."""
    classes = getattr(model, "classes", None)
    if classes is not None:
        y, _ = encode(y, classes, model.output.name, model.sizes[-1])
    y = np.asarray(to_numpy(frame_labels(y, "y")))
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)  # one-hot rows
    y = y.reshape(-1)
    if y.shape[0] != n:
        raise InvalidArgumentError(f"y has {y.shape[0]} labels but X has {n} rows")
    return y


def _output_of(model: Any) -> tuple[str | None, int]:
    return getattr(getattr(model, "output", None), "name", None), model.sizes[-1]


def _drawable(model: Any) -> bool:
    """Whether plot_decision_boundary can draw this model's output."""
    out_name, n_out = _output_of(model)
    return out_name == "softmax" or n_out == 1


def plot_decision_boundary(model: Any, X: Any, y: Any, path: Any = None, ax: Any = None,
                           resolution: int = 200, *, title: str | None = None, padding: float = 0.1,
                           dpi: float = 100) -> Any:
    """The regions a 2-input model assigns to each class, with the data on top.

    For a single sigmoid output the background is the probability of class 1
    (a diverging colour map, with the 0.5 contour drawn as the decision
    boundary; its colorbar is labelled with the class's name); for softmax it
    is the predicted class; for a single identity output (regression) the
    output value. The points of ``X`` are drawn coloured by ``y``, and for a
    classifier a legend names the class of each colour (``model.classes``,
    text labels included, or 0 .. k-1).

    Parameters
    ----------
    model : xpnet.MLP
        A model with 2 inputs, on any backend.
    X : array (n_samples, 2)
        The data (NumPy or the model's backend).
    y : array
        Labels ``(n,)`` (the model's classes, for a model that has them), a
        column, or one-hot rows.
    path : str or os.PathLike, optional
        Write the figure there (PNG unless the suffix names another format).
    ax : matplotlib Axes, optional
        Draw there instead of on a new figure.
    resolution : int, default 200
        Grid points per axis (see :func:`decision_grid`).
    title : str, optional
        The axes' title.
    padding : float, default 0.1
        Margin around the data, as a fraction of each feature's range.
    dpi : float, default 100
        Resolution of the saved file.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed (an ``ImportError``).
    InvalidArgumentError
        ``X`` is not ``(n, 2)``, the model does not take 2 inputs, the
        lengths differ, or the model has several sigmoid/identity outputs.
    """
    _matplotlib()
    _check_model(model)
    X = _points_2d(X)
    y = _labels(y, X.shape[0], model)
    resolution, padding = _grid_args(resolution, padding)
    path, dpi = _output_args(path, dpi)
    out_name, n_out = _output_of(model)
    if not _drawable(model):
        raise InvalidArgumentError(
            f"plot_decision_boundary draws one sigmoid unit, softmax, or one regression output; "
            f"this model has {n_out} {out_name} outputs"
        )
    fig, axes = _figure(path, ax, 1, (6.0, 5.0))
    a = axes[0]
    from matplotlib.colors import ListedColormap

    if out_name == "softmax":
        xx, yy, zz = decision_grid(model, X, resolution, padding=padding, output="label")
        base = [f"C{k % 10}" for k in range(n_out)]
        cmap = ListedColormap(base)
        a.contourf(xx, yy, zz, levels=np.arange(n_out + 1) - 0.5, cmap=cmap, alpha=0.35)
        a.contour(xx, yy, zz, levels=np.arange(n_out) + 0.5, colors="k", linewidths=0.8)
        a.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=n_out - 0.5, s=18,
                  edgecolors="k", linewidths=0.4)
        _class_legend(a, _class_names(model, n_out), [cmap(k) for k in range(n_out)])
    elif out_name == "sigmoid":
        xx, yy, zz = decision_grid(model, X, resolution, padding=padding, output="proba")
        filled = a.contourf(xx, yy, zz, levels=np.linspace(0.0, 1.0, 11), cmap="RdBu", alpha=0.6,
                            vmin=0.0, vmax=1.0)
        if zz.min() < 0.5 < zz.max():
            a.contour(xx, yy, zz, levels=[0.5], colors="k", linewidths=1.2)
        a.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", vmin=0.0, vmax=1.0, s=18,
                  edgecolors="k", linewidths=0.4)
        names = _class_names(model, 2)
        fig.colorbar(filled, ax=a, label=f"P({names[1]})")
        _class_legend(a, names, [filled.cmap(0.0), filled.cmap(1.0)])
    else:
        xx, yy, zz = decision_grid(model, X, resolution, padding=padding, output="proba")
        filled = a.contourf(xx, yy, zz, levels=15, cmap="viridis", alpha=0.8)
        a.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", s=18, edgecolors="k", linewidths=0.4)
        fig.colorbar(filled, ax=a, label="output")
    a.set_xlim(xx.min(), xx.max())
    a.set_ylim(yy.min(), yy.max())
    a.set_xlabel("$x_1$")
    a.set_ylabel("$x_2$")
    if title:
        a.set_title(title)
    _save(fig, path, dpi)
    return fig


def _class_names(model: Any, n: int) -> list[str]:
    """The names of the classes, in the order of the output: ``model.classes``, else 0 .. n-1."""
    classes = getattr(model, "classes", None)
    return [str(c) for c in (classes.tolist() if classes is not None else range(n))]


def _class_legend(a: Any, names: list[str], colors: list) -> None:
    """A legend that says which colour is which class (the points' colours)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", markerfacecolor=color, markeredgecolor="k",
                      markeredgewidth=0.4, label=name) for name, color in zip(names, colors)]
    a.legend(handles=handles, title="class", loc="best", fontsize="small", framealpha=0.8)


# ---------------------------------------------------------------------------
# One figure for a whole run
# ---------------------------------------------------------------------------


def plot_summary(history: Any, model: Any = None, X: Any = None, y: Any = None, path: Any = None, *,
                 title: str | None = None, resolution: int = 200, dpi: float = 100) -> Any:
    """A training run in one figure: the loss and accuracy curves, plus the decision
    boundary when ``model`` takes 2 inputs and ``X``/``y`` are given.

    This is what ``xpnet train --plot FILE.png`` writes.

    Parameters
    ----------
    history : xpnet.History or dict
        As for :func:`plot_history`.
    model, X, y : optional
        As for :func:`plot_decision_boundary`; the boundary panel is added
        when all three are given, ``X`` has 2 columns and the model's output
        can be drawn (one unit, or softmax), and left out otherwise.
    path : str or os.PathLike, optional
        Write the figure there.
    title : str, optional
        A title over the figure.
    resolution : int, default 200
        Grid points per axis of the boundary panel.
    dpi : float, default 100
        Resolution of the saved file.

    Returns
    -------
    matplotlib.figure.Figure
    """
    h = _history_dict(history)
    path, dpi = _output_args(path, dpi)
    resolution = check_int("resolution", resolution, low=2)
    has_acc = len(h["accuracy"]) > 0 or len(h["val_accuracy"]) > 0
    boundary = False
    if model is not None and X is not None and y is not None:
        model_like = all(hasattr(model, a) for a in ("forward", "predict", "sizes"))
        shape = np.shape(to_numpy(X))
        boundary = (model_like and len(shape) == 2 and shape[1] == 2 and model.sizes[0] == 2
                    and _drawable(model))
    n_curves = 2 if has_acc else 1
    ncols = n_curves + (1 if boundary else 0)
    fig, axes = _figure(path, None, ncols, (5.0 * ncols, 4.2))
    plot_history(history, ax=axes[:n_curves])
    if boundary:
        plot_decision_boundary(model, X, y, ax=axes[-1], resolution=resolution, title="decision boundary")
    if title:
        fig.suptitle(title)
    _save(fig, path, dpi)
    return fig
