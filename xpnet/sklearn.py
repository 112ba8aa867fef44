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
solver; ``solver`` takes any xpnet optimizer (``learning_rate``/``power_t``
apply to the SGD ones, as scikit-learn applies them to ``"sgd"`` only);
``alpha`` is PyTorch-style weight decay (``grad += alpha * param`` on every
parameter, biases included) rather than a penalty divided by the batch size;
``early_stopping`` (and ``learning_rate="adaptive"`` with it) monitors the
validation *loss*, unweighted, while ``validation_scores_`` reports the
weighted score; computation is float32 unless ``dtype="float64"``; sparse
input is not accepted.
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
from .callbacks import Callback, EarlyStopping, ReduceLROnPlateau
from .errors import InvalidArgumentError, InvalidTypeError
from .model import MLP, forward, pairs_of
from .optim import OPTIMIZERS, Optimizer, get_optimizer
from .schedules import InverseScaling
from .training import TrainingDivergedError, train
from .validation import check_bool, check_choice, check_int, check_number

__all__ = ["MLPClassifier", "MLPRegressor"]

#: scikit-learn's activation names, and xpnet's own, to xpnet's.
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "sigmoid": "sigmoid",
                "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu"}
#: xpnet's output activation to the name scikit-learn uses in ``out_activation_``.
_OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}
#: The solvers ``learning_rate`` and ``power_t`` apply to: plain SGD, with or without (Nesterov) momentum.
_SGD_SOLVERS = ("sgd", "momentum", "nesterov")
#: scikit-learn's ``learning_rate="adaptive"``: divide the rate by 5; stop once it is at or below 1e-6.
_ADAPTIVE_FACTOR, _ADAPTIVE_STOP = 0.2, 1e-6


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


def _sample_weights(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as a host float64 vector of ``n_samples`` finite weights >= 0, not all 0.

    A single number weighs every row alike (as scikit-learn's ``_check_sample_weight``).
    Raises an :class:`~xpnet.errors.XpnetError` (a ``ValueError``/``TypeError``) naming the fix.
    """
    if sample_weight is None:
        return None
    w = np.asarray(_as_host(sample_weight))
    if w.dtype.kind not in "biuf":
        raise InvalidTypeError(f"sample_weight must hold real numbers, one per row of X; got dtype {w.dtype}")
    w = np.full(n_samples, float(w)) if w.ndim == 0 else w.astype(np.float64)
    if w.shape != (n_samples,):
        raise InvalidArgumentError(
            f"sample_weight must have shape ({n_samples},), one weight per row of X; got shape {w.shape}"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise InvalidArgumentError("sample_weight must hold finite numbers >= 0 (no NaN, infinity or negatives)")
    if not w.any():
        raise InvalidArgumentError("sample_weight is zero for every row; give at least one sample a non-zero weight")
    return w


class _InverseScalingFrom(InverseScaling):
    """:class:`~xpnet.schedules.InverseScaling` after ``seen`` samples of earlier fits.

    scikit-learn sets the rate to ``lr / (t + 1) ** power_t`` at the end of every
    epoch, ``t`` counting every sample seen so far (``t_``), and a new optimizer
    (``fit``, also with ``warm_start``) starts at ``lr``: epoch ``e`` of this run
    trains at ``lr / (seen + e * samples + 1) ** power_t``, except a fresh
    optimizer's first epoch. ``partial_fit`` continues its optimizer (``fresh=False``).
    """

    def __init__(self, lr: float, samples: int, power_t: float, seen: int, fresh: bool) -> None:
        super().__init__(lr, samples, power_t)
        self.seen, self.fresh = int(seen), bool(fresh)

    def rate(self, epoch: int) -> float:
        t = self.seen + epoch * self.samples
        if t == 0 or (epoch == 0 and self.fresh):
            return self.lr
        return self.lr / (t + 1) ** self.power_t


class _ValidationScores(Callback):
    """The estimator's ``score`` (accuracy or R^2, with the validation rows' weights) of the
    validation set after every epoch: ``validation_scores_``.

    ``score(A, T, weights)`` turns the network's output on the host into the score.
    It reads the weights after every epoch (a host sync per epoch, as early stopping does).
    """

    def __init__(self, X: Any, T: np.ndarray, weights: np.ndarray | None, score) -> None:
        self.X, self.T, self.weights, self.score = X, T, weights, score
        self.scores: list[float] = []
        self._X = None

    def sync_at(self, epoch: int, run: Any) -> bool:
        return True

    def on_train_begin(self, run: Any) -> None:
        self._X, self.scores = run.backend.asarray(self.X, run.model.dtype), []

    def on_epoch_end(self, run: Any, epoch: int, logs: Any) -> None:
        top = forward(pairs_of(run.params), self._X, run.model.activations)[-1]
        self.scores.append(self.score(to_numpy(top.A), self.T, self.weights))

    def on_train_end(self, run: Any) -> None:
        self._X = None


class _CarriedPlateau(ReduceLROnPlateau):
    """scikit-learn's ``learning_rate="adaptive"``, continued across ``partial_fit`` calls.

    A :class:`~xpnet.callbacks.ReduceLROnPlateau` whose counters and rate factor
    start from ``carried`` (what :attr:`carried` was at the end of the last run).
    """

    def __init__(self, carried: dict | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.carried = carried

    def on_train_begin(self, run: Any) -> None:
        super().on_train_begin(run)
        if self.carried is not None:
            self.load_state_dict(self.carried)
            run.lr_factor = self.carried["lr_factor"]

    def on_train_end(self, run: Any) -> None:
        self.carried = {**self.state_dict(), "lr_factor": run.lr_factor}


class _KeepBest(EarlyStopping):
    """Restore the weights of the lowest validation loss without ending the run
    (with ``learning_rate="adaptive"`` the learning-rate plateau ends it)."""

    def __init__(self, min_delta: float) -> None:
        super().__init__(patience=np.iinfo(np.int64).max, min_delta=min_delta, monitor="val_loss")

    def on_train_end(self, run: Any) -> None:
        if self.best_params is not None:
            run.params = [run.backend.asarray(a, run.model.dtype) for a in self.best_params]


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
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate mode of the SGD solvers (``"sgd"``, ``"momentum"``,
        ``"nesterov"``), with scikit-learn's meaning: ``"constant"`` keeps
        ``learning_rate_init``; ``"invscaling"`` sets it after every epoch to
        ``learning_rate_init / (t_ + 1) ** power_t`` (``t_``: samples seen);
        ``"adaptive"`` divides it by 5 each time the monitored loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs (instead of
        stopping), and stops once it is already at or below 1e-6. Ignored by
        the other solvers (as scikit-learn ignores it for ``"adam"``): they
        use ``learning_rate_init`` throughout.
    learning_rate_init : float, default=1e-3
        Learning rate (the initial one with ``learning_rate="invscaling"`` or ``"adaptive"``).
    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"``.
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
    validation_scores_ : list of float or None
        With ``early_stopping``: the accuracy of the held-out validation set
        after each epoch of the last fit (weighted by its rows' sample
        weights, as ``score`` computes it), else None.
    best_validation_score_ : float or None
        The highest of ``validation_scores_`` (None without ``early_stopping``).
        Early stopping itself watches the validation loss: the weights kept
        are those of the epoch where it last improved by more than ``tol``,
        whose score is in ``validation_scores_`` too, not necessarily the highest.
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

    @staticmethod
    def _score_output(A: np.ndarray, T: np.ndarray, weights: np.ndarray | None) -> float:
        """``score`` from the network's output ``A`` (host) and the encoded targets ``T``: the
        accuracy of the predicted class indices (0/1 indicators for multilabel) against ``T``,
        which equals the accuracy of the labels; NaN when the output is not finite."""
        if not np.isfinite(A).all():
            return float("nan")
        if T.ndim == 2:
            pred = (A > 0.5).astype(T.dtype)
        else:
            pred = (A[:, 0] > 0.5).astype(T.dtype) if A.shape[1] == 1 else np.argmax(A, axis=1)
        return float(accuracy_score(T, pred, sample_weight=weights))

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        The optimizer state (Adam's moment estimates, SGD's momentum) is
        kept from one call to the next, and from the last ``fit``; pickling
        keeps it too, and so do the learning-rate modes (``"invscaling"``
        counts every sample seen, ``"adaptive"`` its epochs without
        improvement). Early stopping does not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class that can occur; required on the first call (unless
            ``y`` is a multilabel indicator matrix), ignored afterwards
            except for a consistency check.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

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
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate mode of the SGD solvers (see :class:`MLPClassifier`).
    learning_rate_init : float, default=1e-3
        Learning rate (the initial one with ``learning_rate="invscaling"`` or ``"adaptive"``).
    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"``.
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
    validation_scores_ : list of float or None
        With ``early_stopping``: :math:`R^2` of the held-out validation set
        after each epoch of the last fit (weighted, as ``score``), else None.
    best_validation_score_ : float or None
        The highest of ``validation_scores_`` (None without ``early_stopping``).
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

    @staticmethod
    def _score_output(A: np.ndarray, T: np.ndarray, weights: np.ndarray | None) -> float:
        """``score`` (:math:`R^2`) from the network's output ``A`` (host); NaN when it is not finite."""
        if not np.isfinite(A).all():
            return float("nan")
        return float(r2_score(T, A[:, 0] if T.ndim == 1 else A, sample_weight=weights))

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        The optimizer state and the learning-rate mode's state are kept from
        one call to the next (and from the last ``fit``). Early stopping does
        not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as in :meth:`fit`.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

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
