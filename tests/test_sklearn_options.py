"""xpnet.sklearn: sample weights, learning-rate modes and validation scores.

Each is checked against an independent reference: scikit-learn's own estimator
checks and metrics, scikit-learn's SGD optimizer for the ``invscaling`` rates,
sequences computed by hand for ``adaptive``, and a NumPy forward pass written
here for the validation scores.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", minversion="1.7")

from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_sample_weight_equivalence_on_dense_data

import xpnet
import xpnet.sklearn._base as xsk  # where the estimators call train() and make their callbacks
from xpnet.sklearn import MLPClassifier, MLPRegressor


@pytest.fixture
def histories(monkeypatch):
    """Every xpnet History the estimators' xpnet.train calls return, in order."""
    seen = []
    real = xsk.train

    def spy(*args, **kwargs):
        history = real(*args, **kwargs)
        seen.append(history)
        return history

    monkeypatch.setattr(xsk, "train", spy)
    return seen


def _blobs(n=300, centers=3, seed=0):
    X, y = make_blobs(n_samples=n, centers=centers, n_features=4, cluster_std=2.0, random_state=seed)
    return StandardScaler().fit_transform(X), y


def _smooth(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# -- sample weights ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", [
    MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.05, max_iter=50, dtype="float64"),
    MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.02, max_iter=50, dtype="float64"),
    MLPRegressor(hidden_layer_sizes=(16,), solver="sgd", tol=1e-2, dtype="float64"),
    MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive", tol=1e-2,
                  n_iter_no_change=2, max_iter=40, dtype="float64"),
], ids=["classifier", "regressor", "sgd", "sgd-adaptive"])
def test_sample_weight_equivalence_check_in_float64(estimator):
    """scikit-learn's check (weights 2 == repeated rows, 0 == removed rows) passes in float64,
    as scikit-learn runs it on its own MLPs with chosen parameters ("sgd" is scikit-learn's
    choice for MLPRegressor). Not with learning_rate="invscaling": its rate falls with the
    number of rows seen, which repeating rows changes (so in scikit-learn too)."""
    check_sample_weight_equivalence_on_dense_data(type(estimator).__name__, estimator)


def _weighted_and_repeated(dtype):
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15)
    sw = rng.randint(0, 5, size=15)
    params = {"hidden_layer_sizes": (16,), "learning_rate_init": 0.05, "max_iter": 50, "random_state": 0,
              "dtype": dtype}
    with _quiet():
        weighted = MLPClassifier(**params).fit(X, y, sample_weight=sw)
        repeated = MLPClassifier(**params).fit(X.repeat(sw, axis=0), y.repeat(sw))
    return X, weighted, repeated


def test_sample_weight_equivalence_float32():
    """In float32 the same two fits agree to float32 rounding, not to the check's rtol=1e-7."""
    X, weighted, repeated = _weighted_and_repeated("float32")
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-5)
    assert not np.array_equal(weighted.predict_proba(X), repeated.predict_proba(X))  # why the check xfails


@pytest.mark.parametrize("shuffle", [True, False])
def test_zero_weights_are_dropped_rows_in_minibatches(shuffle):
    """With minibatches and shuffling, rows of weight 0 train exactly as if they were removed
    (no batch can be all zeros); t_ counts them, as scikit-learn does."""
    X, y = _blobs(200)
    sw = np.ones(200)
    sw[::5] = 0.0
    params = {"hidden_layer_sizes": (8,), "batch_size": 16, "max_iter": 5, "shuffle": shuffle,
              "random_state": 0, "solver": "sgd", "learning_rate_init": 0.05}
    with _quiet():
        weighted = MLPClassifier(**params).fit(X, y, sample_weight=sw)
        dropped = MLPClassifier(**params).fit(X[sw > 0], y[sw > 0])
    np.testing.assert_array_equal(weighted.predict_proba(X), dropped.predict_proba(X))
    assert weighted.loss_curve_ == dropped.loss_curve_
    assert weighted.t_ == 5 * 200 and dropped.t_ == 5 * 160


def test_weights_weigh_the_loss_and_partial_fit_takes_them():
    """The training loss is the weighted mean; partial_fit with weights 0 on half the rows
    is partial_fit on the other half."""
    X, y = _smooth(120)
    sw = np.where(np.arange(120) < 60, 0.0, 3.0)
    a = MLPRegressor((8,), batch_size=20, random_state=0).partial_fit(X, y, sample_weight=sw)
    b = MLPRegressor((8,), batch_size=20, random_state=0).partial_fit(X[60:], y[60:])
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.loss_curve_ == b.loss_curve_
    c = MLPClassifier((8,), random_state=0)
    Xc, yc = _blobs(90)
    c.partial_fit(Xc, yc, np.ones(90), np.arange(3))  # scikit-learn's positional order
    c.partial_fit(Xc, yc, sample_weight=np.full(90, 2.0))
    assert c.n_iter_ == 2 and c.t_ == 180


@pytest.mark.parametrize("weights, error, match", [
    (np.ones(11), ValueError, r"shape \(10,\).*got shape \(11,\)"),
    (np.ones((10, 2)), ValueError, r"shape \(10,\)"),
    (-np.ones(10), ValueError, "finite numbers >= 0"),
    (np.r_[np.ones(9), np.nan], ValueError, "finite numbers >= 0"),
    (np.zeros(10), ValueError, "zero for every row"),
    (np.array(["a"] * 10), TypeError, "real numbers"),
])
def test_bad_sample_weights_are_refused_before_training(weights, error, match):
    X, y = _blobs(10)
    clf = MLPClassifier((4,), max_iter=3)
    with pytest.raises(error, match=match) as info:
        clf.fit(X, y, sample_weight=weights)
    assert isinstance(info.value, xpnet.XpnetError)
    assert not hasattr(clf, "coefs_")


def test_a_number_weighs_every_row_alike():
    X, y = _smooth(40)
    with _quiet():
        a = MLPRegressor((4,), max_iter=3, random_state=0, dtype="float64").fit(X, y, sample_weight=2.5)
        b = MLPRegressor((4,), max_iter=3, random_state=0, dtype="float64").fit(X, y)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-12)


def test_early_stopping_split_with_zero_weights_or_too_few_rows_is_refused():
    X, y = _blobs(60)
    sw = np.zeros(60)
    sw[0] = 1.0  # one weighted row: one part of the split is all zeros
    with pytest.raises(ValueError, match="part of the early_stopping split has sample weight 0"):
        MLPClassifier((4,), early_stopping=True, random_state=0).fit(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="at least 2"):
        MLPRegressor((4,), early_stopping=True, validation_fraction=0.1).fit(*_smooth(8))


# -- learning-rate modes ------------------------------------------------------------------------
def _sklearn_invscaling():
    """scikit-learn's own SGD optimizer: the invscaling rate after each epoch."""
    optimizers = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    return lambda lr, power_t: optimizers.SGDOptimizer([np.zeros(1)], lr, "invscaling", 0.9, True, power_t)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_invscaling_rates_are_sklearns(histories, power_t):
    """fit, partial_fit and a warm-started fit train at the rates scikit-learn's SGD optimizer gives."""
    make = _sklearn_invscaling()
    X, y = _blobs(150)
    clf = MLPClassifier((8,), solver="sgd", learning_rate="invscaling", learning_rate_init=0.2,
                        power_t=power_t, max_iter=6, tol=0.0, random_state=0)
    clf.fit(X, y)
    for _ in range(3):
        clf.partial_fit(X[:50], y[:50])
    clf.set_params(warm_start=True, max_iter=3).fit(X, y)
    ref, t, expected = make(0.2, power_t), 0, []
    for rows in [150] * 6 + [50] * 3:  # fit, then partial_fit continues the same optimizer
        expected.append(ref.learning_rate)
        t += rows
        ref.iteration_ends(t)
    ref = make(0.2, power_t)  # a new fit starts a new optimizer; t_ keeps counting
    for _ in range(3):
        expected.append(ref.learning_rate)
        t += 150
        ref.iteration_ends(t)
    got = [lr for history in histories for lr in history.lr]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert expected[1] < expected[0] and clf.t_ == t


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_invscaling_with_early_stopping_counts_the_training_rows(histories):
    X, y = _blobs(200)
    MLPClassifier((8,), solver="momentum", learning_rate="invscaling", learning_rate_init=0.1, max_iter=4,
                  tol=0.0, early_stopping=True, validation_fraction=0.25, random_state=0).fit(X, y)
    (history,) = histories
    assert history.lr == pytest.approx([0.1] + [0.1 / (150 * e + 1) ** 0.5 for e in (1, 2, 3)], rel=1e-15)


def _adaptive_by_hand(losses, lr, tol, patience):
    """The rates of learning_rate='adaptive' for these losses, and whether it stops after the last:
    patience epochs without an improvement of tol divide the rate by 5, or stop when it is <= 1e-6."""
    best, wait, rates = np.inf, 0, []
    for loss in losses:
        rates.append(lr)
        if loss < best - tol:
            best, wait = loss, 0
            continue
        wait += 1
        if wait >= patience:
            if lr <= 1e-6:
                return rates, True
            lr, wait = lr / 5, 0
    return rates, False


def test_adaptive_divides_by_five_then_stops(histories):
    """Nothing improves by tol=1e3: every 2 epochs the rate is divided by 5, and the run stops
    when a division is due at a rate <= 1e-6 (6.4e-7, after epoch 15)."""
    X, y = _blobs(100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it stopped: converged
        clf = MLPClassifier((8,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.01,
                            tol=1e3, n_iter_no_change=2, max_iter=100, random_state=0).fit(X, y)
    expected = [0.01] * 3 + [a for rate in (2e-3, 4e-4, 8e-5, 1.6e-5, 3.2e-6, 6.4e-7) for a in (rate, rate)]
    assert clf.n_iter_ == 15
    assert histories[0].lr == pytest.approx(expected, rel=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("early_stopping", [False, True])
def test_adaptive_follows_the_rule_on_real_losses(histories, early_stopping):
    """On a real run the rates are those the rule gives for the recorded losses (the validation
    loss with early_stopping, whose best weights are kept)."""
    X, y = _smooth(300)
    reg = MLPRegressor((16,), solver="sgd", momentum=0.0, learning_rate="adaptive", learning_rate_init=0.2,
                       tol=1e-3, n_iter_no_change=3, max_iter=80, early_stopping=early_stopping,
                       random_state=0, dtype="float64").fit(X, y)
    (history,) = histories
    watched = history.val_loss if early_stopping else history.loss
    rates, stops = _adaptive_by_hand(watched, 0.2, 1e-3, 3)
    assert history.lr == pytest.approx(rates, rel=1e-12)
    assert len(set(rates)) >= 3  # the rate came down at least twice
    assert history.stopped_early == stops and reg.n_iter_ == len(rates)
    if early_stopping:
        assert len(reg.validation_scores_) == reg.n_iter_
        assert reg.score(X, y) > 0.8


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_adaptive_carries_over_partial_fit_calls_and_pickling(histories):
    X, y = _blobs(60)
    clf = MLPClassifier((4,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.01, tol=1e3,
                        n_iter_no_change=2, random_state=0)
    clf.partial_fit(X, y, classes=np.arange(3))
    for _ in range(3):
        clf.partial_fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    for est in (clf, copy):
        est.partial_fit(X, y)
        est.partial_fit(X, y)
    assert [h.lr[0] for h in histories] == pytest.approx([0.01, 0.01, 0.01, 0.002, 0.002, 4e-4, 0.002, 4e-4])
    np.testing.assert_array_equal(clf.predict_proba(X), copy.predict_proba(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["adam", "rmsprop"])
def test_learning_rate_modes_do_not_apply_to_other_solvers(histories, solver):
    """As scikit-learn ignores learning_rate for 'adam': a constant rate, and tol stops the run."""
    X, y = _blobs(100)
    runs = [MLPClassifier((4,), solver=solver, learning_rate=mode, learning_rate_init=0.01, tol=1e3,
                          n_iter_no_change=2, max_iter=20, random_state=0).fit(X, y)
            for mode in ("constant", "invscaling", "adaptive")]
    assert [est.n_iter_ for est in runs] == [3, 3, 3]
    assert all(h.lr == [0.01] * 3 for h in histories)
    assert runs[0].loss_curve_ == runs[1].loss_curve_ == runs[2].loss_curve_


def test_partial_fit_uses_the_current_learning_rate_init(histories):
    """The carried optimizer state continues at this call's rate, not the one it was saved with."""
    X, y = _smooth(50)
    reg = MLPRegressor((4,), solver="momentum", learning_rate_init=0.01, random_state=0)
    reg.partial_fit(X, y)
    reg.set_params(learning_rate_init=0.003).partial_fit(X, y)
    assert [h.lr for h in histories] == [[0.01], [0.003]]
    assert reg._opt_state["lr"] == 0.003


@pytest.mark.parametrize("params, error, match", [
    ({"learning_rate": "optimal"}, ValueError, "unknown learning_rate 'optimal'; expected one of constant"),
    ({"learning_rate": None}, TypeError, "learning_rate must be one of"),
    ({"power_t": -0.5}, ValueError, "power_t must be in"),
    ({"power_t": "0.5"}, TypeError, "power_t must be a number"),
    ({"max_iter": 2.0}, TypeError, "max_iter must be a positive int"),
    ({"shuffle": 1}, TypeError, "shuffle must be True or False"),
    ({"momentum": 1.5}, ValueError, r"momentum must be in \[0.0, 1.0\]"),
    ({"hidden_layer_sizes": (4, 0)}, ValueError, r"hidden_layer_sizes\[1\] must be a positive int"),
    ({"solver": "sag"}, ValueError, "unknown solver 'sag'"),
])
def test_bad_parameters_are_xpnet_errors(params, error, match):
    X, y = _blobs(20)
    clf = MLPClassifier(**params)
    with pytest.raises(error, match=match) as info:
        clf.fit(X, y)
    assert isinstance(info.value, xpnet.XpnetError)
    assert not hasattr(clf, "coefs_")


# -- validation scores --------------------------------------------------------------------------
@pytest.fixture
def recorded(monkeypatch):
    """The estimators' validation-score callbacks, each keeping host copies of the weights after every epoch."""
    made = []

    class Recording(xsk._ValidationScores):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.weights_after, self.X_host = [], xpnet.to_numpy(self.X)
            made.append(self)

        def on_epoch_end(self, run, epoch, logs):
            super().on_epoch_end(run, epoch, logs)
            self.weights_after.append([xpnet.to_numpy(a).astype(np.float64) for a in run.params])

    monkeypatch.setattr(xsk, "_ValidationScores", Recording)
    return made


def _numpy_forward(params, X, hidden):
    """The network by hand, in NumPy float64: output pre-activations."""
    A = X
    for i in range(0, len(params), 2):
        Z = A @ params[i] + params[i + 1]
        A = hidden(Z)
    return Z


def _rows_of(X_part, X):
    where = {row.tobytes(): i for i, row in enumerate(X)}
    return np.array([where[row.tobytes()] for row in X_part])


@pytest.mark.parametrize("n_classes", [2, 4])
def test_validation_scores_are_sklearns_accuracy_of_each_epoch(recorded, n_classes):
    X, y = _blobs(240, centers=n_classes)
    labels = np.array(["ant", "bee", "cat", "dog"])[:n_classes]
    sw = np.random.default_rng(0).integers(0, 4, size=240).astype(float)
    clf = MLPClassifier((8,), activation="tanh", learning_rate_init=0.03, max_iter=200, early_stopping=True,
                        validation_fraction=0.25, n_iter_no_change=4, dtype="float64", random_state=0)
    clf.fit(X, labels[y], sample_weight=sw)
    (cb,) = recorded
    rows = _rows_of(cb.X_host, X)  # the held-out rows, and their own weights
    assert len(rows) == 60 and len(set(rows)) == 60
    np.testing.assert_array_equal(cb.weights, sw[rows])
    expected = []
    for params in cb.weights_after:
        Z = _numpy_forward(params, X[rows], np.tanh)
        idx = (Z[:, 0] > 0).astype(int) if n_classes == 2 else np.argmax(Z, axis=1)
        expected.append(accuracy_score(labels[y[rows]], labels[idx], sample_weight=sw[rows]))
    assert clf.validation_scores_ == pytest.approx(expected, abs=1e-12)
    assert len(expected) == clf.n_iter_ < 200 and len(set(expected)) > 1
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the kept weights are those of the best validation loss, scored among the epochs
    kept = clf.score(X[rows], labels[y[rows]], sample_weight=sw[rows])
    assert min(abs(np.array(clf.validation_scores_) - kept)) < 1e-12


def test_validation_scores_are_sklearns_r2_of_each_epoch(recorded):
    X, y = _smooth(200)
    Y = np.stack([y, X[:, 0] - y], axis=1)
    reg = MLPRegressor((16,), learning_rate_init=0.01, max_iter=25, early_stopping=True, tol=0.0,
                       dtype="float64", random_state=0)
    with _quiet():
        reg.fit(X, Y)
    (cb,) = recorded
    rows = _rows_of(cb.X_host, X)
    assert cb.weights is None and len(rows) == 20
    expected = [r2_score(Y[rows], _numpy_forward(p, X[rows], lambda Z: np.maximum(Z, 0))) for p in cb.weights_after]
    np.testing.assert_allclose(reg.validation_scores_, expected, rtol=1e-10)
    assert reg.best_validation_score_ == max(reg.validation_scores_) > 0.5


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_validation_scores_are_none_without_early_stopping():
    X, y = _blobs(60)
    clf = MLPClassifier((4,), max_iter=3).fit(X, y)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    clf.set_params(early_stopping=True).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    clf.partial_fit(X, y)  # early stopping does not apply to partial_fit
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weights_and_validation_scores_on_every_backend(backend):
    """Training elsewhere (backend=, and array API dispatch) gives the NumPy run's scores."""
    X, y = _blobs(120)
    sw = np.random.default_rng(1).uniform(0, 2, size=120)
    params = {"hidden_layer_sizes": (8,), "max_iter": 8, "early_stopping": True, "validation_fraction": 0.25,
              "dtype": "float64", "random_state": 0}
    ref = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    other = MLPClassifier(backend=backend.spec, **params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(other.validation_scores_, ref.validation_scores_, rtol=1e-12)
    np.testing.assert_allclose(other.loss_curve_, ref.loss_curve_, rtol=1e-10)
    if backend.name in ("numpy", "jax"):
        return
    try:
        with sklearn.config_context(array_api_dispatch=True):
            dispatched = MLPClassifier(**params).fit(backend.asarray(X), backend.asarray(y),
                                                     sample_weight=backend.asarray(sw))
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"scikit-learn's array API dispatch is unavailable: {exc}")
    np.testing.assert_allclose(dispatched.validation_scores_, ref.validation_scores_, rtol=1e-12)
