"""xpnet.sklearn: scikit-learn's own estimator checks, and what the estimators learn.

The array API tests switch on ``sklearn.config_context(array_api_dispatch=True)``,
which needs SciPy >= 1.14 with ``SCIPY_ARRAY_API=1`` set before SciPy is
imported; this module sets it (if unset) before importing scikit-learn.
"""

from __future__ import annotations

import itertools
import os
import pickle
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import array_api_compat
import numpy as np
import pytest

# 1.7: scikit-learn 1.6's array API mode pins array-api-strict to the 2023.12 standard,
# which lacks the Python-scalar arguments xpnet's math uses (xp.maximum(z, 0.0)).
sklearn = pytest.importorskip("sklearn", minversion="1.7")

from sklearn.base import clone
from sklearn.datasets import load_iris, make_blobs, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import xpnet
from xpnet.sklearn import MLPClassifier, MLPRegressor


# Small and fast, yet good enough for the checks that ask for a real fit
# (accuracy > 0.83 on blobs, R^2 > 0.5 on a linear problem).
CHECKED = [
    MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.05, max_iter=50, random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.02, max_iter=50, random_state=0),
]


def _expected_failures(estimator):
    # The estimators of CHECKED compute in float32 (xpnet's default). The sample-weight
    # equivalence check compares a weighted fit with a fit on repeated rows to rtol=1e-7,
    # which only float64 arithmetic can meet: in float32 the two fits agree to about 1e-6
    # (test_sklearn_options.py::test_sample_weight_equivalence_float32). scikit-learn runs this check on
    # its own MLPs with chosen parameters; test_sample_weight_equivalence_check_in_float64 runs it on
    # float64 estimators, where it passes.
    if estimator.get_params()["dtype"] in ("float32", np.float32):
        return {"check_sample_weight_equivalence_on_dense_data":
                "float32 rounding: a weighted fit equals the repeated-rows fit to ~1e-6, not rtol=1e-7"}
    return {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(CHECKED, expected_failed_checks=_expected_failures)
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


# -- data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, centers=4, n_features=5, cluster_std=1.5, random_state=0)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _smooth(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2


# -- classification ------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_classifier_learns_blobs_and_iris(blobs):
    X_tr, X_te, y_tr, y_te = blobs
    clf = MLPClassifier((32,), learning_rate_init=0.01, max_iter=100, random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.95
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 3])
    assert clf.n_features_in_ == 5 and clf.out_activation_ == "softmax"
    X, y = _iris()
    iris = MLPClassifier((32,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, y)
    assert iris.score(X, y) > 0.95


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba_rows_sum_to_one_and_argmax_is_predict(n_classes):
    X, y = make_blobs(n_samples=200, centers=n_classes, random_state=1)
    y = np.array(["cat", "dog", "emu"])[y]  # string labels round trip
    clf = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.shape == (200, n_classes)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, clf.classes_[np.argmax(proba, axis=1)])
    assert set(pred) <= set(clf.classes_) and clf.classes_.dtype.kind == "U"
    assert clf.out_activation_ == ("logistic" if n_classes == 2 else "softmax")
    assert clf.coefs_[-1].shape == (8, 1 if n_classes == 2 else n_classes)


def test_loss_curve_decreases_and_n_iter_counts_epochs(blobs):
    X_tr, _, y_tr, _ = blobs
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        clf = MLPClassifier((16,), learning_rate_init=0.01, max_iter=30, tol=0.0,
                            random_state=0).fit(X_tr, y_tr)
    curve = clf.loss_curve_
    assert clf.n_iter_ == 30 == len(curve)
    assert all(isinstance(v, float) for v in curve)
    assert curve[-1] < 0.5 * curve[0]
    assert sum(b < a for a, b in itertools.pairwise(curve)) >= 25  # decreasing, up to minibatch noise
    assert clf.best_loss_ == min(curve) and clf.validation_loss_curve_ is None
    assert clf.t_ == 30 * len(X_tr)


def test_tol_and_n_iter_no_change_stop_early(blobs):
    X_tr, _, y_tr, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopping early is convergence
        clf = MLPClassifier((16,), max_iter=500, tol=1e3, n_iter_no_change=4, random_state=0).fit(X_tr, y_tr)
    # nothing improves by 1000: the first epoch sets the best loss, four more find no improvement
    assert clf.n_iter_ == 5 == len(clf.loss_curve_)
    clf.set_params(tol=1e-3, n_iter_no_change=3, max_iter=1000)
    clf.fit(X_tr, y_tr)
    assert 5 < clf.n_iter_ < 1000


def test_early_stopping_uses_a_validation_split(blobs):
    X_tr, X_te, y_tr, y_te = blobs
    clf = MLPClassifier((16,), learning_rate_init=0.01, max_iter=300, early_stopping=True,
                        validation_fraction=0.2, n_iter_no_change=5, random_state=0).fit(X_tr, y_tr)
    assert clf.n_iter_ < 300
    assert len(clf.validation_loss_curve_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.t_ == clf.n_iter_ * (len(X_tr) - int(np.ceil(0.2 * len(X_tr))))
    assert clf.score(X_te, y_te) > 0.9


def test_get_params_set_params_clone_round_trip():
    clf = MLPClassifier((7, 5), activation="tanh", solver="sgd", alpha=0.01, batch_size=16,
                        dropout=0.1, dtype="float64", random_state=3)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (7, 5) and params["solver"] == "sgd"
    assert params["dtype"] == "float64" and params["backend"] is None
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == params
    assert twin.set_params(max_iter=7, activation="logistic") is twin
    assert twin.max_iter == 7 and clf.max_iter == 200
    assert MLPClassifier(**twin.get_params()).get_params() == twin.get_params()
    reg = MLPRegressor()
    assert clone(reg).get_params() == reg.get_params()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_is_reproducible_and_random_state_matters(blobs):
    X_tr, _, y_tr, _ = blobs
    a = MLPClassifier((8,), max_iter=5, random_state=1).fit(X_tr, y_tr)
    b = MLPClassifier((8,), max_iter=5, random_state=1).fit(X_tr, y_tr)
    c = MLPClassifier((8,), max_iter=5, random_state=2).fit(X_tr, y_tr)
    np.testing.assert_array_equal(a.predict_proba(X_tr), b.predict_proba(X_tr))
    assert a.loss_curve_ == b.loss_curve_ != c.loss_curve_


def test_partial_fit_improves_and_keeps_optimizer_state(blobs):
    X_tr, X_te, y_tr, y_te = blobs
    clf = MLPClassifier((16,), learning_rate_init=0.01, batch_size=30, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_tr, y_tr)
    for i in range(8):
        batch = slice(40 * i, 40 * i + 150)
        clf.partial_fit(X_tr[batch], y_tr[batch], classes=np.arange(4))
    assert clf.n_iter_ == 8 == len(clf.loss_curve_)
    assert clf._opt_state["t"] == 8 * 5  # Adam's step count carries over: 5 batches per call
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X_te, y_te) > 0.9
    # pickling keeps the optimizer state: the next step is the same either way
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X_te), clf.predict_proba(X_te))
    clf.partial_fit(X_tr[:100], y_tr[:100])
    copy.partial_fit(X_tr[:100], y_tr[:100])
    np.testing.assert_array_equal(copy.predict_proba(X_te), clf.predict_proba(X_te))
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X_tr[:10], np.full(10, 9))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_continues_from_the_last_fit(blobs):
    X_tr, _, y_tr, _ = blobs
    clf = MLPClassifier((8,), max_iter=10, tol=0.0, warm_start=True, random_state=0)
    clf.fit(X_tr, y_tr)
    first = list(clf.loss_curve_)
    clf.fit(X_tr, y_tr)
    assert clf.n_iter_ == 20 and clf.loss_curve_[:10] == first
    assert clf.loss_curve_[10] < first[0]  # started from the trained weights
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X_tr, y_tr % 2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multilabel_targets():
    X, Y = make_multilabel_classification(n_samples=300, n_features=6, n_classes=3, random_state=0)
    clf = MLPClassifier((32,), learning_rate_init=0.01, max_iter=100, random_state=0).fit(X, Y)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    assert proba.shape == pred.shape == Y.shape and pred.dtype == Y.dtype
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(Y.dtype))
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.score(X, Y) > 0.5  # subset accuracy


def test_one_class_and_bad_params_are_clear_errors():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier().fit(X, np.ones(5))
    with pytest.raises(ValueError, match="lbfgs"):
        MLPClassifier(solver="lbfgs").fit(X, [0, 1, 0, 1, 0])
    with pytest.raises(ValueError, match="activation"):
        MLPRegressor(activation="swish").fit(X, np.ones(5))
    with pytest.raises(ValueError, match="dropout"):
        MLPRegressor(dropout=1.0).fit(X, np.ones(5))
    with pytest.raises(TypeError, match="hidden_layer_sizes"):
        MLPRegressor(hidden_layer_sizes="10").fit(X, np.ones(5))


# -- regression ----------------------------------------------------------------------------
def test_regressor_fits_a_smooth_function():
    X, y = _smooth()
    reg = MLPRegressor((64,), activation="tanh", learning_rate_init=0.01, max_iter=300,
                       random_state=0).fit(X[:500], y[:500])
    assert reg.score(X[500:], y[500:]) > 0.9
    pred = reg.predict(X[500:])
    assert pred.shape == (100,) and pred.dtype == np.float32
    assert reg.out_activation_ == "identity" and reg.n_iter_ < 300


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_multioutput_partial_fit_and_pipeline():
    X, y = _smooth(300)
    Y = np.stack([y, -2 * y], axis=1)
    reg = make_pipeline(StandardScaler(), MLPRegressor((32,), learning_rate_init=0.01, max_iter=100,
                                                      dtype="float64", random_state=0))
    reg.fit(X, Y)
    pred = reg.predict(X)
    assert pred.shape == (300, 2) and pred.dtype == np.float64
    assert reg.score(X, Y) > 0.8
    inc = MLPRegressor((16,), learning_rate_init=0.01, random_state=0)
    for _ in range(5):
        inc.partial_fit(X, y)
    assert inc.n_iter_ == 5 and inc.loss_curve_[-1] < inc.loss_curve_[0]


# -- backends ------------------------------------------------------------------------------
def _dispatch_or_skip():
    """A factory of ``config_context(array_api_dispatch=True)``; skips when it cannot be switched on."""
    pytest.importorskip("scipy", minversion="1.14")
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"scikit-learn's array API dispatch is unavailable: {exc}")
    return lambda: sklearn.config_context(array_api_dispatch=True)


def test_backend_parameter_numpy_in_numpy_out(backend):
    """backend= trains on another library; NumPy inputs still give NumPy outputs, same numbers."""
    X, y = _iris()
    params = {"hidden_layer_sizes": (8,), "max_iter": 10, "dtype": "float64", "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = MLPClassifier(**params).fit(X, y)
        clf = MLPClassifier(backend=backend.spec, **params).fit(X, y)
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.dtype == np.float64
    assert all(isinstance(W, np.ndarray) for W in clf.coefs_)
    np.testing.assert_allclose(proba, ref.predict_proba(X), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
    assert isinstance(clf.score(X, y), float)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_array_api_dispatch_outputs_follow_the_input(backend):
    """With array_api_dispatch on, torch/cupy/... inputs give outputs of that library and device."""
    if backend.name == "numpy":
        pytest.skip("NumPy inputs are the plain scikit-learn path (tested above)")
    if backend.name == "jax":
        pytest.skip("scikit-learn's array API support does not cover JAX")
    dispatch = _dispatch_or_skip()
    X, y = _iris()
    Xb, yb = backend.asarray(X), backend.asarray(y)
    xp = backend.xp
    device = array_api_compat.device(Xb)
    params = {"hidden_layer_sizes": (8,), "max_iter": 10, "dtype": "float64", "random_state": 0}
    ref = MLPClassifier(**params).fit(X, y)
    with dispatch():
        clf = MLPClassifier(**params).fit(Xb, yb)
        proba, pred = clf.predict_proba(Xb), clf.predict(Xb)
        score = clf.score(Xb, yb)
        reg = MLPRegressor((8,), max_iter=5, random_state=0).fit(Xb, backend.asarray(X[:, 0]))
        reg_pred = reg.predict(Xb)
        with pytest.raises(ValueError, match="must use the same namespace"):
            clf.predict(X)  # NumPy input to an estimator fitted on another library
    for out in (proba, pred, clf.classes_, reg_pred, *clf.coefs_):
        assert xpnet.backend.backend_of(out) is backend
        assert array_api_compat.device(out) == device
    assert proba.dtype == xp.float64 and pred.dtype == yb.dtype
    assert tuple(proba.shape) == (150, 3) and tuple(pred.shape) == (150,) and tuple(reg_pred.shape) == (150,)
    assert reg_pred.dtype == xp.float32  # the estimator's default dtype
    np.testing.assert_allclose(xpnet.to_numpy(proba), ref.predict_proba(X), rtol=1e-8, atol=1e-10)
    assert isinstance(score, float) and score == ref.score(X, y)
    # without dispatch, the same estimator takes NumPy and gives NumPy
    assert isinstance(clf.predict_proba(X), np.ndarray)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
    # and a pickled copy predicts the same, on the same library
    copy = pickle.loads(pickle.dumps(clf))
    with dispatch():
        np.testing.assert_array_equal(xpnet.to_numpy(copy.predict_proba(Xb)), xpnet.to_numpy(proba))


def test_divergence_raises_and_leaves_no_half_fitted_state():
    X, y = _smooth(100)
    reg = MLPRegressor((8,), solver="sgd", learning_rate_init=10.0, max_iter=50, random_state=0)
    with pytest.raises(xpnet.TrainingDivergedError):
        reg.fit(X, 1e6 * y)
    assert not hasattr(reg, "coefs_") and not hasattr(reg, "n_iter_")
    reg.set_params(learning_rate_init=0.01, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    with pytest.raises(xpnet.TrainingDivergedError):
        reg.set_params(learning_rate_init=10.0, batch_size=10).partial_fit(X, 1e6 * y)
    assert np.isfinite(reg.predict(X)).all()  # the last finite weights, as xpnet.train keeps them
