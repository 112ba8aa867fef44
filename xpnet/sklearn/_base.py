"""What :class:`MLPClassifier` and :class:`MLPRegressor` share: parameters, checks, the network, one ``train`` call."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..backend import Backend, get_backend, to_numpy
from ..callbacks import EarlyStopping
from ..errors import InvalidArgumentError, InvalidTypeError
from ..model import MLP
from ..optim import OPTIMIZERS, Optimizer, get_optimizer
from ..schedules import InverseScaling
from ..training import TrainingDivergedError, train
from ..validation import check_bool, check_choice, check_int, check_number
from ._arrays import (
    _as_host,
    _describe,
    _dispatch_backend,
    _map_state,
    _placement,
    _sample_weights,
    _take_rows,
)
from ._callbacks import _CarriedPlateau, _InverseScalingFrom, _KeepBest, _ValidationScores

#: scikit-learn's activation names, and xpnet's own, to xpnet's.
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "sigmoid": "sigmoid",
                "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu"}
#: xpnet's output activation to the name scikit-learn uses in ``out_activation_``.
_OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}
#: The solvers ``learning_rate`` and ``power_t`` apply to: plain SGD, with or without (Nesterov) momentum.
_SGD_SOLVERS = ("sgd", "momentum", "nesterov")
#: scikit-learn's ``learning_rate="adaptive"``: divide the rate by 5; stop once it is at or below 1e-6.
_ADAPTIVE_FACTOR, _ADAPTIVE_STOP = 0.2, 1e-6


class _BaseMLP(BaseEstimator):
    """What :class:`MLPClassifier` and :class:`MLPRegressor` share; not public."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dropout=0.0, dtype="float32", backend=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
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
        check_choice("learning_rate", self.learning_rate, ("constant", "invscaling", "adaptive"),
                     ignore_case=False)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_int("batch_size ('auto' or an int)", self.batch_size, low=1)
        for name in ("max_iter", "n_iter_no_change"):
            check_int(name, getattr(self, name), low=1)
        for name in ("alpha", "tol", "power_t"):
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

    def _fit(self, X: Any, y: Any, sample_weight: Any = None, *, incremental: bool, classes: Any = None):
        self._check_params()
        fitted = hasattr(self, "_net")
        in_be = _dispatch_backend(X)
        X, y = validate_data(self, X, _as_host(y), reset=not (incremental and fitted),
                             multi_output=True, y_numeric=isinstance(self, RegressorMixin))
        weights = _sample_weights(sample_weight, X.shape[0])
        keep = fitted and (incremental or self.warm_start)
        if not incremental or not fitted:
            self._random_state = check_random_state(self.random_state)
        T, n_out, output, target_attrs = self._targets(np.asarray(y), incremental=incremental,
                                                       keep=keep, classes=classes, in_be=in_be, X=X)
        be = self._train_backend(in_be)
        sizes = [X.shape[1], *self._hidden_sizes(), n_out]
        net, opt_state, past = self._network(sizes, output, be, keep=keep, incremental=incremental)
        train_set, val = self._split(X, T, weights, output, incremental)
        carried = self.__dict__.get("_plateau_state") if incremental and past is not None else None
        try:
            history, scores, plateau = self._train(net, train_set, val, opt_state, be, incremental=incremental,
                                                   seen=0 if past is None else past[1], carried=carried)
        except TrainingDivergedError:
            if net is self.__dict__.get("_net"):  # the fitted network now holds its last finite weights
                self._opt_state = None
                self._store_weights(net, numpy_out=in_be is None)
            raise  # a new network was not stored: the estimator is as before the call
        for name, value in target_attrs.items():
            setattr(self, name, value)
        self._net, self._opt_state = net, history.optimizer_state
        self._plateau_state = None if plateau is None else plateau.carried
        self._fit_namespace = _placement(in_be)
        self._net_spec = {"sizes": sizes, "hidden": _ACTIVATIONS[self.activation], "output": output,
                          "dtype": str(np.dtype(self.dtype)), "backend": be.spec}
        self._store_history(history, scores, past or (0, 0, []), n=train_set[0].shape[0])
        self.n_layers_, self.n_outputs_ = len(sizes), n_out
        self.out_activation_ = _OUT_NAMES.get(output, output)
        self._store_weights(net, numpy_out=in_be is None)
        if not incremental and not history.stopped_early and history.epochs == self.max_iter:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and the "
                "training loss was still improving by more than tol; raise max_iter or tol",
                ConvergenceWarning,
            )
        return self

    def _network(self, sizes: list[int], output: str, be: Backend, *, keep: bool,
                 incremental: bool) -> tuple[MLP, dict | None, tuple | None]:
        """(the network to train, the optimizer state it continues from, ``(n_iter_, t_, loss_curve_)``
        so far or None for a new network)."""
        hidden = _ACTIVATIONS[self.activation]
        net = self.__dict__.get("_net") if keep else None
        if net is not None and (net.sizes != sizes or net.output.name != output
                                or {a.name for a in net.hidden} - {hidden}):
            net = None  # the architecture changed (set_params between warm-started fits)
        if net is None:
            init = "he" if hidden in ("relu", "leaky_relu") else "xavier"
            seed = int(self._random_state.randint(np.iinfo(np.int32).max))
            return MLP(sizes, hidden=hidden, output=output, init=init, seed=seed,
                       dtype=str(np.dtype(self.dtype)), backend=be), None, None
        past = (self.n_iter_, self.t_, self.loss_curve_)
        if net.backend != be:
            return net.to(be), None, past
        # fit starts a fresh optimizer, as in scikit-learn; partial_fit continues the last one
        return net, self._opt_state if incremental else None, past

    def _split(self, X: Any, T: np.ndarray, weights: np.ndarray | None, output: str,
               incremental: bool) -> tuple[tuple, tuple | None]:
        """``((X, T, weights) to train on, (X_val, T_val, weights_val) or None)``: the held-out part
        for ``early_stopping`` (stratified for classes), its sample weights with it."""
        if not self.early_stopping or incremental:
            return (X, T, weights), None
        idx = np.arange(X.shape[0])
        strat = T if output == "softmax" or (output == "sigmoid" and T.ndim == 1) else None
        split_seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        try:
            tr, va = train_test_split(idx, test_size=self.validation_fraction,
                                      random_state=split_seed, stratify=strat)
        except ValueError:  # a class too small to stratify: split without it
            tr, va = train_test_split(idx, test_size=self.validation_fraction, random_state=split_seed)
        w_tr, w_va = (None, None) if weights is None else (weights[tr], weights[va])
        if len(va) < 2:
            raise InvalidArgumentError(
                f"early_stopping holds out validation_fraction={self.validation_fraction} of the "
                f"{len(idx)} rows, {len(va)} row; a score needs at least 2: raise validation_fraction, "
                "pass more data, or set early_stopping=False"
            )
        for part, w in (("training", w_tr), ("validation", w_va)):
            if w is not None and not w.any():
                raise InvalidArgumentError(
                    f"every row of the {part} part of the early_stopping split has sample weight 0; "
                    "use another random_state or validation_fraction, or set early_stopping=False"
                )
        return (_take_rows(X, tr), T[tr], w_tr), (_take_rows(X, va), T[va], w_va)

    def _train(self, net: MLP, train_set: tuple, val: tuple | None, opt_state: dict | None, be: Backend,
               *, incremental: bool, seen: int, carried: dict | None) -> tuple:
        """One :func:`xpnet.train` call; returns ``(history, validation scores callback or None,
        adaptive learning-rate callback or None)``."""
        X, T, weights = train_set
        n = X.shape[0]  # the epoch's rows, as t_ and invscaling count them (zero weights too, as scikit-learn)
        if weights is not None and not weights.all():
            # rows of weight 0 change nothing; without them no minibatch can have weights summing to 0
            kept = np.flatnonzero(weights)
            X, T, weights = _take_rows(X, kept), T[kept], weights[kept]
        rows = X.shape[0]
        batch = min(200, rows) if self.batch_size == "auto" else min(int(self.batch_size), rows)
        schedule = self._schedule(n, seen, incremental)
        if opt_state is not None and "lr" in opt_state:  # continue at this call's rate
            opt_state = {**opt_state, "lr": float(self.learning_rate_init) if schedule is None else schedule(0)}
        scores = None if val is None else _ValidationScores(*val, score=self._score_output)
        plateau, stopper = self._stopping(val is not None, incremental, carried)
        history = train(net, X, T, epochs=1 if incremental else int(self.max_iter), batch_size=batch,
                        optimizer=self._make_optimizer(), lr=schedule, dropout=float(self.dropout),
                        shuffle=bool(self.shuffle), seed=int(self._random_state.randint(np.iinfo(np.int32).max)),
                        backend=be, validation_data=None if val is None else val[:2], early_stopping=stopper,
                        verbose=self.verbose, callbacks=[cb for cb in (scores, plateau) if cb is not None],
                        sample_weight=weights, optimizer_state=opt_state)
        return history, scores, plateau

    def _schedule(self, n: int, seen: int, incremental: bool) -> InverseScaling | None:
        """The ``learning_rate="invscaling"`` schedule (SGD solvers only), else None (a constant rate)."""
        if self.learning_rate != "invscaling" or self.solver not in _SGD_SOLVERS:
            return None
        lr, power_t = float(self.learning_rate_init), float(self.power_t)
        if seen == 0:
            return InverseScaling(lr, n, power_t)
        return _InverseScalingFrom(lr, n, power_t, seen=seen, fresh=not incremental)

    def _stopping(self, has_val: bool, incremental: bool, carried: dict | None) -> tuple:
        """``(adaptive learning-rate callback, early-stopping callback)``, either None.

        With ``learning_rate="adaptive"`` (SGD solvers), ``n_iter_no_change`` epochs
        without an improvement of ``tol`` divide the rate by 5, and the run stops
        when the rate is already at or below 1e-6; otherwise they stop ``fit``.
        """
        monitor = "val_loss" if has_val else "loss"
        if self.learning_rate == "adaptive" and self.solver in _SGD_SOLVERS:
            plateau = _CarriedPlateau(carried, monitor=monitor, factor=_ADAPTIVE_FACTOR,
                                      patience=int(self.n_iter_no_change), min_delta=float(self.tol),
                                      stop_below=_ADAPTIVE_STOP)
            return plateau, _KeepBest(float(self.tol)) if has_val else None
        if incremental:
            return None, None
        return None, EarlyStopping(patience=int(self.n_iter_no_change), min_delta=float(self.tol),
                                   monitor=monitor, restore_best=has_val)

    def _store_history(self, history: Any, scores: _ValidationScores | None, past: tuple, n: int) -> None:
        """``n_iter_``, ``t_``, the loss curves and the validation scores after a run over ``n`` rows."""
        n_iter, seen, curve = past
        self.n_iter_ = n_iter + history.epochs
        self.t_ = seen + history.epochs * n
        self.loss_curve_ = [*curve, *history.loss]
        self.best_loss_ = min(self.loss_curve_)
        self.validation_loss_curve_ = None if scores is None else list(history.val_loss)
        self.validation_scores_ = None if scores is None else list(scores.scores)
        finite = [] if scores is None else [s for s in scores.scores if not np.isnan(s)]
        self.best_validation_score_ = None if scores is None else (max(finite) if finite else float("nan"))

    def _store_weights(self, net: MLP, numpy_out: bool) -> None:
        coefs = [W for W, _ in net.params]
        intercepts = [b for _, b in net.params]
        if numpy_out and not net.backend.is_numpy:  # NumPy in, NumPy out
            coefs, intercepts = [to_numpy(W) for W in coefs], [to_numpy(b) for b in intercepts]
        self.coefs_, self.intercepts_ = coefs, intercepts

    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)`` from a fresh start (or from the last fit with ``warm_start``).

        Runs up to ``max_iter`` epochs of minibatch training with ``solver``
        and stops early once the training loss (or, with
        ``early_stopping=True``, the validation loss) has not improved by at
        least ``tol`` for ``n_iter_no_change`` consecutive epochs (with
        ``learning_rate="adaptive"``: divides the rate by 5 instead, and stops
        once it is at or below 1e-6).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. With ``array_api_dispatch`` on, an array of any
            array-API library (training happens on its device).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Finite weights >= 0, not all 0. The training loss and its
            gradient become the weighted mean over each minibatch's rows (a
            weight of 2 counts a row twice, 0 drops it); with
            ``early_stopping`` the held-out rows keep their weights for
            ``validation_scores_``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

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
