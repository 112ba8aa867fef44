"""scikit-learn estimators backed by xpnet: :class:`MLPClassifier` and :class:`MLPRegressor`.

They follow scikit-learn's estimator API (``fit``, ``partial_fit``,
``predict``, ``predict_proba``, ``score``, ``get_params``/``set_params``,
``clone``, pipelines, grid search) and pass its ``check_estimator`` suite.
Under the hood ``fit`` builds an :class:`xpnet.MLP` and trains it with one
call to :func:`xpnet.train`, so training runs on any array-API backend::

    from xpnet.sklearn import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, random_state=0)
    clf.fit(X, y)                        # NumPy in ...
    clf.predict_proba(X)                 # ... NumPy out

Where the computation happens:

* NumPy (or list, pandas, ...) inputs: on the ``backend`` parameter's
  library (NumPy by default; ``backend="cupy"`` or ``"torch:cuda"`` trains on
  a GPU), with NumPy outputs.
* With ``sklearn.set_config(array_api_dispatch=True)`` (scikit-learn's array
  API mode, which needs SciPy and ``SCIPY_ARRAY_API=1``), arrays of another
  library (CuPy, PyTorch, JAX, array-api-strict) are trained on where they
  live, and ``predict``/``predict_proba`` return arrays of that library on
  that device, as scikit-learn's array API rule asks. Calling ``predict``
  with arrays of another library or device than ``fit`` raises a
  ``ValueError``. Without dispatch such arrays are converted to NumPy.

Differences from :class:`sklearn.neural_network.MLPClassifier`: no ``lbfgs``
solver and no learning-rate schedules; ``solver`` takes any xpnet optimizer;
``alpha`` is PyTorch-style weight decay (``grad += alpha * param`` on every
parameter, biases included) rather than a penalty divided by the batch size;
``early_stopping`` monitors the validation *loss*; computation is float32
unless ``dtype="float64"``; sparse input is not accepted.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "xpnet.sklearn needs scikit-learn >= 1.6 "
        f"({exc}); install it with: pip install 'xpnet[sklearn]'"
    ) from None

from .backend import Backend, array_namespace, backend_of, get_backend, is_library_array, to_numpy
from .errors import InvalidArgumentError, InvalidTypeError
from .model import MLP
from .optim import OPTIMIZERS, Optimizer, get_optimizer
from .training import EarlyStopping, TrainingDivergedError, train
from .validation import check_bool, check_choice, check_int, check_number

__all__ = ["MLPClassifier", "MLPRegressor"]

#: scikit-learn's activation names, and xpnet's own, to xpnet's.
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "sigmoid": "sigmoid",
                "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu"}
#: xpnet's output activation to the name scikit-learn uses in ``out_activation_``.
_OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}


# -- where arrays live ----------------------------------------------------------------
def _dispatch_backend(X: Any) -> Backend | None:
    """The backend of ``X`` when array API dispatch is on and ``X`` is a non-NumPy array.

    ``None`` means "NumPy mode": the input is converted to NumPy and the
    outputs are NumPy arrays.
    """
    if not sklearn.get_config().get("array_api_dispatch", False):
        return None
    return backend_of(X) if is_library_array(X) else None


def _placement(be: Backend | None) -> str:
    """Where an input lives, for the same-namespace-and-device check: a backend spec, or "numpy"."""
    return "numpy" if be is None else be.spec


def _describe(placement: str) -> str:
    return "NumPy (or array-like)" if placement == "numpy" else f"{placement.split(':')[0]} arrays on {placement}"


def _as_host(a: Any) -> Any:
    """Arrays of a non-NumPy library as NumPy arrays; everything else unchanged."""
    return to_numpy(a) if is_library_array(a) else a


def _take_rows(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, np.ndarray):
        return X[idx]
    be = backend_of(X)
    return be.xp.take(X, be.asarray(idx), axis=0)


def _map_state(state: Any, fn) -> Any:
    """Apply ``fn`` to every array in an optimizer state (dicts, lists, scalars, None)."""
    if isinstance(state, dict):
        return {k: _map_state(v, fn) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_map_state(v, fn) for v in state)
    if state is None or isinstance(state, (numbers.Number, str)):
        return state
    return fn(state)


class _BaseMLP(BaseEstimator):
    """What :class:`MLPClassifier` and :class:`MLPRegressor` share; not public."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dropout=0.0, dtype="float32", backend=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.dtype = dtype
        self.backend = backend

    # -- scikit-learn plumbing -----------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    def __getstate__(self):
        # The network object holds its array library (a module, not picklable): keep its
        # weights (``coefs_``/``intercepts_``) and rebuild it on unpickling. The optimizer
        # state goes through the host so that partial_fit continues after unpickling.
        state = super().__getstate__()
        state = dict(state)
        state.pop("_net", None)
        if state.get("_opt_state") is not None:
            state["_opt_state"] = _map_state(state["_opt_state"], to_numpy)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_net_spec" in self.__dict__:
            spec = self._net_spec
            net = MLP(spec["sizes"], hidden=spec["hidden"], output=spec["output"],
                      dtype=spec["dtype"], backend=spec["backend"])
            net.set_params(list(zip(self.coefs_, self.intercepts_)))
            self._net = net
            if self.__dict__.get("_opt_state") is not None:
                be = net.backend
                self._opt_state = _map_state(self._opt_state, lambda a: be.asarray(a))

    # -- parameters ----------------------------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = [sizes]
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise InvalidTypeError(
                f"hidden_layer_sizes must be a tuple of ints such as (100,) or (64, 32); got {sizes!r}"
            )
        return [check_int(f"hidden_layer_sizes[{i}]", s, low=1) for i, s in enumerate(sizes)]

    def _check_params(self) -> None:
        """Every hyperparameter, checked before any computation (xpnet errors: ValueError/TypeError)."""
        self._hidden_sizes()
        check_choice("activation", self.activation, _ACTIVATIONS, ignore_case=False)
        if isinstance(self.solver, str) and self.solver == "lbfgs":
            raise InvalidArgumentError(
                "solver='lbfgs' is not available in xpnet (it trains by minibatch gradient "
                "steps); use 'adam' (the default) or 'sgd'"
            )
        check_choice("solver", self.solver, OPTIMIZERS, ignore_case=False)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_int("batch_size ('auto' or an int)", self.batch_size, low=1)
        for name in ("max_iter", "n_iter_no_change"):
            check_int(name, getattr(self, name), low=1)
        for name in ("alpha", "tol"):
            check_number(name, getattr(self, name), low=0.0)
        for name in ("learning_rate_init", "epsilon"):
            check_number(name, getattr(self, name), low=0.0, low_open=True)
        check_number("momentum", self.momentum, low=0.0, high=1.0)
        check_number("validation_fraction", self.validation_fraction, low=0.0, high=1.0,
                     low_open=True, high_open=True)
        for name in ("beta_1", "beta_2", "dropout"):
            check_number(name, getattr(self, name), low=0.0, high=1.0, high_open=True)
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            check_bool(name, getattr(self, name))
        if self.dtype not in ("float32", "float64", np.float32, np.float64):
            raise InvalidArgumentError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")

    def _make_optimizer(self) -> Optimizer:
        name = self.solver
        kwargs: dict[str, Any] = {}
        momentum, nesterov = 0.0, False
        if name in ("sgd", "momentum", "nesterov"):
            momentum = float(self.momentum)
            nesterov = name == "nesterov" or (
                name == "sgd" and bool(self.nesterovs_momentum) and momentum > 0)
        elif name in ("adam", "adamw"):
            kwargs = {"betas": (float(self.beta_1), float(self.beta_2)), "eps": float(self.epsilon)}
        return get_optimizer(name, lr=float(self.learning_rate_init), momentum=momentum,
                             nesterov=nesterov, weight_decay=float(self.alpha), **kwargs)

    def _train_backend(self, in_be: Backend | None) -> Backend:
        if in_be is None:
            return get_backend("numpy" if self.backend is None else self.backend)
        if self.backend is not None and get_backend(self.backend).name != in_be.name:
            raise InvalidArgumentError(
                f"backend={self.backend!r} conflicts with the {in_be.name} arrays passed to fit "
                "with array_api_dispatch on (the estimator trains where its input lives); "
                "leave backend=None, or pass NumPy arrays"
            )
        return in_be

    # -- fitting -------------------------------------------------------------------------
    def _targets(self, y: np.ndarray, *, incremental: bool, keep: bool, classes: Any,
                 in_be: Backend | None, X: Any) -> tuple[np.ndarray, int, str, dict]:
        """(targets for xpnet.train, output units, output activation, attributes to set after training)."""
        raise NotImplementedError

    def _fit(self, X: Any, y: Any, *, incremental: bool, classes: Any = None):
        self._check_params()
        fitted = hasattr(self, "_net")
        in_be = _dispatch_backend(X)
        X, y = validate_data(self, X, _as_host(y), reset=not (incremental and fitted),
                             multi_output=True, y_numeric=isinstance(self, RegressorMixin))
        keep = fitted and (incremental or self.warm_start)
        if not incremental or not fitted:
            self._random_state = check_random_state(self.random_state)
        rs = self._random_state
        T, n_out, output, target_attrs = self._targets(np.asarray(y), incremental=incremental,
                                                       keep=keep, classes=classes, in_be=in_be, X=X)
        be = self._train_backend(in_be)
        fit_namespace = _placement(in_be)
        sizes = [X.shape[1], *self._hidden_sizes(), n_out]
        hidden = _ACTIVATIONS[self.activation]
        net = self.__dict__.get("_net") if keep else None
        if net is not None and (net.sizes != sizes or net.output.name != output
                                or {a.name for a in net.hidden} - {hidden}):
            net = None  # the architecture changed (set_params between warm-started fits)
        # fit starts a fresh optimizer, as in scikit-learn; partial_fit continues the last one
        opt_state = self._opt_state if incremental and net is not None else None
        if net is None:
            init = "he" if hidden in ("relu", "leaky_relu") else "xavier"
            net = MLP(sizes, hidden=hidden, output=output, init=init,
                      seed=int(rs.randint(np.iinfo(np.int32).max)), dtype=str(np.dtype(self.dtype)),
                      backend=be)
            n_iter, seen, curve = 0, 0, []
        else:
            n_iter, seen, curve = self.n_iter_, self.t_, self.loss_curve_
            if net.backend != be:
                net, opt_state = net.to(be), None

        val, stopper = None, None
        if self.early_stopping and not incremental:
            idx = np.arange(X.shape[0])
            strat = T if output == "softmax" or (output == "sigmoid" and T.ndim == 1) else None
            split_seed = int(rs.randint(np.iinfo(np.int32).max))
            try:
                tr, va = train_test_split(idx, test_size=self.validation_fraction,
                                          random_state=split_seed, stratify=strat)
            except ValueError:  # a class too small to stratify: split without it
                tr, va = train_test_split(idx, test_size=self.validation_fraction,
                                          random_state=split_seed)
            val = (_take_rows(X, va), T[va])
            X, T = _take_rows(X, tr), T[tr]
        if not incremental:
            stopper = EarlyStopping(patience=int(self.n_iter_no_change), min_delta=float(self.tol),
                                    monitor="val_loss" if val is not None else "loss",
                                    restore_best=val is not None)
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        if opt_state is not None and "lr" in opt_state:  # continue at this call's rate
            opt_state = {**opt_state, "lr": float(self.learning_rate_init)}
        try:
            history = train(net, X, T, epochs=1 if incremental else int(self.max_iter),
                            batch_size=batch, optimizer=self._make_optimizer(),
                            dropout=float(self.dropout), shuffle=bool(self.shuffle),
                            seed=int(rs.randint(np.iinfo(np.int32).max)), backend=be,
                            validation_data=val, early_stopping=stopper, verbose=self.verbose,
                            optimizer_state=opt_state)
        except TrainingDivergedError:
            if net is self.__dict__.get("_net"):  # the fitted network now holds its last finite weights
                self._opt_state = None
                self._store_weights(net, numpy_out=in_be is None)
            raise  # a new network was not stored: the estimator is as before the call
        for name, value in target_attrs.items():
            setattr(self, name, value)
        self._net, self._opt_state = net, history.optimizer_state
        self._fit_namespace = fit_namespace
        self._net_spec = {"sizes": sizes, "hidden": hidden, "output": output,
                          "dtype": str(np.dtype(self.dtype)), "backend": be.spec}
        self.n_iter_ = n_iter + history.epochs
        self.t_ = seen + history.epochs * n
        self.loss_curve_ = [*curve, *history.loss]
        self.best_loss_ = min(self.loss_curve_)
        self.validation_loss_curve_ = list(history.val_loss) if val is not None else None
        self.n_layers_ = len(sizes)
        self.n_outputs_ = n_out
        self.out_activation_ = _OUT_NAMES.get(output, output)
        self._store_weights(net, numpy_out=in_be is None)
        if not incremental and not history.stopped_early and history.epochs == self.max_iter:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and the "
                "training loss was still improving by more than tol; raise max_iter or tol",
                ConvergenceWarning,
            )
        return self

    def _store_weights(self, net: MLP, numpy_out: bool) -> None:
        coefs = [W for W, _ in net.params]
        intercepts = [b for _, b in net.params]
        if numpy_out and not net.backend.is_numpy:  # NumPy in, NumPy out
            coefs, intercepts = [to_numpy(W) for W in coefs], [to_numpy(b) for b in intercepts]
        self.coefs_, self.intercepts_ = coefs, intercepts

    def fit(self, X, y):
        """Train the network on ``(X, y)`` from a fresh start (or from the last fit with ``warm_start``).

        Runs up to ``max_iter`` epochs of minibatch training with ``solver``
        and stops early once the training loss (or, with
        ``early_stopping=True``, the validation loss) has not improved by at
        least ``tol`` for ``n_iter_no_change`` consecutive epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. With ``array_api_dispatch`` on, an array of any
            array-API library (training happens on its device).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    # -- predicting ----------------------------------------------------------------------
    def _net_output(self, X: Any, method: str) -> Any:
        """Network output for ``X``: NumPy, or the input's library and device under dispatch."""
        check_is_fitted(self)
        in_be = _dispatch_backend(X)
        if sklearn.get_config().get("array_api_dispatch", False):
            got = _placement(in_be)
            if got != self._fit_namespace:
                raise ValueError(
                    f"Inputs passed to {type(self).__name__}.{method}() must use the same "
                    f"namespace and the same device as those passed to fit(): fit got "
                    f"{_describe(self._fit_namespace)}, {method} got {_describe(got)}. "
                    "Move X there, or refit the estimator on this kind of array."
                )
        X = validate_data(self, X, reset=False)
        net = self._net
        if in_be is None:
            return to_numpy(net.forward(X))
        return in_be.asarray(net.forward(net.backend.asarray(X)))  # no-ops when X is where net is


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by xpnet on any array-API backend.

    Binary targets get one sigmoid output unit (binary cross-entropy),
    multiclass targets a softmax layer (cross-entropy), multilabel indicator
    matrices one sigmoid unit per label.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` is logistic/softmax regression.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
        Hidden activation (``"logistic"`` is the sigmoid). Weights are drawn
        with He initialization for (leaky) ReLU, Glorot otherwise.
    solver : str, default="adam"
        An xpnet optimizer: ``"adam"``, ``"sgd"``, ``"momentum"``,
        ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adamw"`` (update
        rules of ``torch.optim``). ``"lbfgs"`` is not available.
    alpha : float, default=1e-4
        L2 weight decay added to the gradient of every parameter
        (``weight_decay`` of ``torch.optim``; decoupled for ``"adamw"``).
    batch_size : int or "auto", default="auto"
        Rows per minibatch; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Learning rate (constant).
    max_iter : int, default=200
        Maximum number of epochs for ``fit``.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffles, dropout masks and the
        validation split; an int makes ``fit`` reproducible (also across backends).
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as an improvement.
    verbose : bool or int, default=False
        Print progress lines (``True``: about ten; an int ``k``: every ``k`` epochs).
    warm_start : bool, default=False
        Start ``fit`` from the weights of the previous fit instead of new ones.
    momentum : float, default=0.9
        Momentum for ``solver="sgd"`` (and ``"momentum"``/``"nesterov"``).
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"`` when ``momentum > 0``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop
        when the validation loss stops improving; the best weights are kept.
    validation_fraction : float, default=0.1
        Share of the training data held out for ``early_stopping``.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's ``betas`` and ``eps``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before ``fit`` stops.
    dropout : float, default=0.0
        Inverted dropout on the hidden layers during training.
    dtype : {"float32", "float64"}, default="float32"
        Floating type of the weights and the computation.
    backend : str or None, default=None
        Where to train for NumPy inputs: ``"numpy"`` (``None``), ``"cupy"``,
        ``"torch"``, ``"torch:cuda"``, ``"jax"``, ``"array_api_strict"``.
        With ``array_api_dispatch`` on, non-NumPy inputs are trained on
        their own library and device.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multilabel targets). Numeric
        labels are an array of the input's library under array API dispatch.
    loss_curve_ : list of float
        Training loss after each epoch, over all fits of a warm start and
        all ``partial_fit`` calls.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_loss_curve_ : list of float or None
        Validation loss after each epoch with ``early_stopping``, else None.
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    coefs_, intercepts_ : list of arrays
        Weights ``(n_in, n_out)`` and biases of every layer (NumPy, or the
        input's library under array API dispatch).
    n_features_in_ : int
        Number of features seen during fit.
    n_layers_, n_outputs_ : int
        Layers including input and output; output units.
    out_activation_ : str
        ``"logistic"`` or ``"softmax"``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from xpnet.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((32,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _targets(self, y, *, incremental, keep, classes, in_be, X):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        name = type(self).__name__
        if multilabel:
            labels = np.arange(y.shape[1])
            if keep and (not self._multilabel or len(self.classes_) != len(labels)):
                raise ValueError(f"{name} was fitted on other targets; y has {len(labels)} labels now")
            T, n_out, output = y.astype(np.float64), y.shape[1], "sigmoid"
            attrs = {"_y_dtype": y.dtype}
        else:
            attrs = {}
            if keep and self._multilabel:
                raise ValueError(f"{name} was fitted on multilabel targets; y is not multilabel")
            if incremental and keep:
                labels = to_numpy(self.classes_)
            elif incremental:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit "
                        "(all the labels that will ever occur, e.g. np.unique(y_all))."
                    )
                labels = np.unique(np.asarray(_as_host(classes)))
            else:
                labels = np.unique(y)
                if keep and not np.array_equal(to_numpy(self.classes_), labels):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {to_numpy(self.classes_)}, "
                        f"`y` has {labels}"
                    )
            if (incremental and classes is not None and keep
                    and not np.array_equal(np.unique(np.asarray(_as_host(classes))), labels)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on the first call to partial_fit, "
                    f"which was {labels}"
                )
            if len(labels) < 2:
                raise ValueError(
                    f"{name} needs samples of at least 2 classes in the data, but the data "
                    f"contains only 1 class: {labels[0]!r}"
                )
            enc = np.searchsorted(labels, y)
            unknown = (enc >= len(labels)) | (labels[np.minimum(enc, len(labels) - 1)] != y)
            if unknown.any():
                raise ValueError(f"y contains labels not in classes {labels}: {np.unique(y[unknown])}")
            n_out = 1 if len(labels) == 2 else len(labels)
            output = "sigmoid" if n_out == 1 else "softmax"
            T = enc
        if in_be is not None and labels.dtype.kind in "biuf":
            labels = in_be.asarray(labels)
        return T, n_out, output, {**attrs, "classes_": labels, "_multilabel": multilabel}

    def partial_fit(self, X, y, classes=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        The optimizer state (Adam's moment estimates, SGD's momentum) is
        kept from one call to the next, and from the last ``fit``; pickling
        keeps it too. Early stopping does not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that can occur; required on the first call (unless
            ``y`` is a multilabel indicator matrix), ignored afterwards
            except for a consistency check.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : array of shape (n_samples, n_classes)
            Rows sum to 1 (for multilabel targets: the probability of each
            label). NumPy, or the input's library and device under array API
            dispatch; of the estimator's ``dtype``.
        """
        return self._proba(self._net_output(X, "predict_proba"))

    def _proba(self, A):
        if self._multilabel or A.shape[1] > 1:
            return A
        xp = array_namespace(A)
        return xp.concat([1.0 - A, A], axis=1)

    def predict(self, X):
        """Predicted class labels for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : array of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_`` (the argmax of ``predict_proba``); 0/1
            indicators for multilabel targets.
        """
        A = self._net_output(X, "predict")
        xp = array_namespace(A)
        if self._multilabel:
            pred = A > 0.5
            return pred.astype(self._y_dtype) if isinstance(A, np.ndarray) else \
                xp.astype(pred, getattr(xp, np.dtype(self._y_dtype).name))
        idx = xp.argmax(self._proba(A), axis=1)
        classes = self.classes_
        if isinstance(idx, np.ndarray):
            return to_numpy(classes)[idx]
        if isinstance(classes, np.ndarray):  # string labels: the labels stay NumPy
            return classes[to_numpy(idx)]
        return xp.take(classes, idx)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y`` (subset accuracy for multilabel).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels (any array library).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy as a Python float.
        """
        pred = to_numpy(self.predict(X))
        return float(accuracy_score(_as_host(y), pred, sample_weight=_as_host(sample_weight)))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by xpnet on any array-API backend.

    An identity output layer trained on the squared error (half the mean
    squared error, as in scikit-learn); 1-D targets give 1-D predictions,
    ``(n_samples, n_outputs)`` targets give 2-D predictions.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` is linear regression.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
        Hidden activation.
    solver : str, default="adam"
        An xpnet optimizer (see :class:`MLPClassifier`).
    alpha : float, default=1e-4
        L2 weight decay added to the gradient of every parameter.
    batch_size : int or "auto", default="auto"
        Rows per minibatch; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Learning rate (constant).
    max_iter : int, default=200
        Maximum number of epochs for ``fit``.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, shuffles, dropout masks and validation split.
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as an improvement.
    verbose : bool or int, default=False
        Print progress lines.
    warm_start : bool, default=False
        Start ``fit`` from the weights of the previous fit.
    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the
        validation loss stops improving (the best weights are kept).
    validation_fraction : float, default=0.1
        Share of the training data held out for ``early_stopping``.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's ``betas`` and ``eps``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before ``fit`` stops.
    dropout : float, default=0.0
        Inverted dropout on the hidden layers during training.
    dtype : {"float32", "float64"}, default="float32"
        Floating type of the weights, the computation and the predictions.
    backend : str or None, default=None
        Where to train for NumPy inputs (see :class:`MLPClassifier`).

    Attributes
    ----------
    loss_curve_ : list of float
        Training loss after each epoch.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_loss_curve_ : list of float or None
        Validation loss after each epoch with ``early_stopping``, else None.
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    coefs_, intercepts_ : list of arrays
        Weights and biases of every layer.
    n_features_in_ : int
        Number of features seen during fit.
    n_layers_, n_outputs_ : int
        Layers including input and output; output units.
    out_activation_ : str
        ``"identity"``.

    Examples
    --------
    >>> import numpy as np
    >>> from xpnet.sklearn import MLPRegressor
    >>> X = np.linspace(-3, 3, 400).reshape(-1, 1)
    >>> reg = MLPRegressor((32,), activation="tanh", learning_rate_init=0.01,
    ...                    max_iter=500, random_state=0).fit(X, np.sin(X[:, 0]))
    >>> reg.score(X, np.sin(X[:, 0])) > 0.9
    True
    """

    def _targets(self, y, *, incremental, keep, classes, in_be, X):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if keep and n_out != self.n_outputs_:
            raise ValueError(
                f"y has {n_out} output(s) but {type(self).__name__} was fitted with {self.n_outputs_}"
            )
        return y.astype(np.float64), n_out, "identity", {}

    def partial_fit(self, X, y):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        The optimizer state is kept from one call to the next (and from the
        last ``fit``). Early stopping does not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predicted targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Predictions of the estimator's ``dtype``: NumPy, or the input's
            library and device under array API dispatch.
        """
        A = self._net_output(X, "predict")
        return A[:, 0] if self.n_outputs_ == 1 and A.ndim == 2 else A

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination :math:`R^2` of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets (any array library).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            :math:`R^2` as a Python float.
        """
        pred = to_numpy(self.predict(X))
        y = _as_host(y)
        if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1 and pred.ndim == 1:
            pred = pred.reshape(-1, 1)
        return float(r2_score(y, pred, sample_weight=_as_host(sample_weight)))
