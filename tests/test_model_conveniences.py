"""MLP.predict_proba, score, summary and copy, against scikit-learn and independent NumPy numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest

import xpnet


def _host_forward(model, X):
    """``(Z, A)`` of the output layer, recomputed in float64 NumPy from the model's parameters."""
    special = pytest.importorskip("scipy.special")
    A = np.asarray(X, dtype=np.float64)
    for (W, b), act in zip(model.params, model.activations):
        Z = A @ xpnet.to_numpy(W).astype(np.float64) + xpnet.to_numpy(b).astype(np.float64)
        A = {"tanh": np.tanh, "identity": lambda v: v, "sigmoid": special.expit,
             "softmax": lambda v: special.softmax(v, axis=1)}[act.name](Z)
    return Z, A


def _model(backend, sizes, output, seed=0, dtype="float64", hidden="tanh", scale=1.0):
    model = xpnet.MLP(sizes, hidden=hidden, output=output, seed=seed, dtype=dtype, init="xavier",
                      backend=backend)
    rng = np.random.default_rng(seed)
    return model.set_params([(xpnet.to_numpy(W) * scale, rng.standard_normal(tuple(b.shape)))
                             for W, b in model.params])


# -- predict_proba ----------------------------------------------------------------------
def test_predict_proba_one_sigmoid_unit_is_two_columns(backend, rng):
    special = pytest.importorskip("scipy.special")
    model = _model(backend, [3, 5, 1], "sigmoid", scale=30.0)  # large logits: p rounds to 1 somewhere
    X = rng.standard_normal((40, 3))
    proba = model.predict_proba(X)
    assert xpnet.backend.backend_of(proba) == model.backend
    P = xpnet.to_numpy(proba)
    Z, p = _host_forward(model, X)
    assert P.shape == (40, 2)
    np.testing.assert_allclose(P[:, 1], p[:, 0], rtol=1e-12)
    np.testing.assert_allclose(P[:, 0], special.expit(-Z[:, 0]), rtol=1e-12)  # 1 - p, exact also in the tail
    assert np.any((P[:, 1] == 1.0) & (P[:, 0] > 0))  # where 1 - p would round to 0
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("output, units", [("softmax", 4), ("sigmoid", 3)])
def test_predict_proba_softmax_rows_and_multilabel_units(backend, rng, output, units):
    model = _model(backend, [3, 6, units], output)
    X = rng.standard_normal((12, 3))
    P = xpnet.to_numpy(model.predict_proba(X))
    np.testing.assert_allclose(P, _host_forward(model, X)[1], rtol=1e-12)
    np.testing.assert_array_equal(P, xpnet.to_numpy(model.forward(X)))
    if output == "softmax":
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("output", ["identity", "tanh", "softplus"])
def test_predict_proba_refuses_regression(backend, output):
    model = xpnet.MLP([2, 3, 2], output=output, backend=backend)
    with pytest.raises(xpnet.InvalidArgumentError, match=f"predict_proba needs a classifier.*'{output}'"):
        model.predict_proba(np.zeros((4, 2)))


# -- score ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["binary", "classes", "one_hot", "multilabel"])
def test_score_is_sklearns_accuracy(backend, rng, kind, dtype):
    metrics = pytest.importorskip("sklearn.metrics")
    n = 53
    X = rng.standard_normal((n, 4))
    if kind == "binary":
        model, y = _model(backend, [4, 6, 1], "sigmoid", dtype=dtype), rng.integers(0, 2, n)
        labels_true, labels_pred = y, (_host_forward(model, X)[1][:, 0] > 0.5).astype(int)
    elif kind == "multilabel":
        model, y = _model(backend, [4, 6, 3], "sigmoid", dtype=dtype), rng.integers(0, 2, (n, 3))
        labels_true, labels_pred = y, (_host_forward(model, X)[1] > 0.5).astype(int)
    else:
        model = _model(backend, [4, 6, 3], "softmax", dtype=dtype)
        labels_true = rng.integers(0, 3, n)
        y = labels_true if kind == "classes" else np.eye(3)[labels_true]
        labels_pred = _host_forward(model, X)[1].argmax(axis=1)
    got = model.score(X, y)
    assert isinstance(got, float)
    assert got == metrics.accuracy_score(labels_true, labels_pred)  # exact: a count over n
    assert got == metrics.accuracy_score(labels_true, xpnet.to_numpy(model.predict(X)))
    assert 0 < got < 1  # the check would be vacuous at 0 or 1


@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("units", [1, 3])
def test_score_is_sklearns_r2_for_regression(backend, rng, units, dtype, rtol):
    metrics = pytest.importorskip("sklearn.metrics")
    model = _model(backend, [2, 5, units], "identity", dtype=dtype)
    X = rng.standard_normal((30, 2))
    pred = _host_forward(model, X)[1]
    y = pred + 0.7 * rng.standard_normal(pred.shape)  # a fair fit: R^2 well inside (0, 1)
    y = y[:, 0] if units == 1 else y
    got = model.score(X, y)
    assert isinstance(got, float)
    want = metrics.r2_score(y, xpnet.to_numpy(model.predict(X)).reshape(y.shape).astype(np.float64))
    assert got == pytest.approx(want, rel=rtol)
    assert got == pytest.approx(metrics.r2_score(y, pred.reshape(y.shape)), rel=max(rtol, 1e-12))


def test_score_r2_with_a_constant_target_column_follows_sklearn(backend, rng):
    metrics = pytest.importorskip("sklearn.metrics")
    model = _model(backend, [2, 4, 2], "identity")
    X = rng.standard_normal((10, 2))
    y = rng.standard_normal((10, 2))
    y[:, 1] = 3.0  # SS_tot = 0: scikit-learn scores that column 0 unless predicted exactly
    pred = xpnet.to_numpy(model.predict(X))
    assert model.score(X, y) == pytest.approx(metrics.r2_score(y, pred), rel=1e-12)
    exact = model.set_params([(np.zeros((2, 4)), np.zeros(4)), (np.zeros((4, 2)), np.array([0.0, 3.0]))])
    perfect = np.full((10, 2), [0.0, 3.0])
    assert exact.score(X, perfect) == 1.0 == metrics.r2_score(perfect, perfect)


def test_score_checks_its_input_first(backend):
    model = xpnet.MLP([2, 3, 1], backend=backend)
    with pytest.raises(xpnet.InvalidArgumentError, match="y"):
        model.score(np.zeros((4, 2)), np.zeros(5))


# -- summary ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, itemsize", [("float32", 4), ("float64", 8)])
def test_summary_counts_parameters_and_bytes(backend, dtype, itemsize):
    sizes, hidden = [784, 128, 64, 10], ["gelu", "relu"]
    model = xpnet.MLP(sizes, hidden=hidden, output="softmax", dtype=dtype, backend=backend)
    text = model.summary()
    assert isinstance(text, str)
    lines = text.splitlines()
    assert "784 -> 128 -> 64 -> 10" in lines[0] and dtype in lines[0] and backend.name in lines[0]
    assert "cross_entropy" in lines[0]
    counts = [784 * 128 + 128, 128 * 64 + 64, 64 * 10 + 10]  # 100,480 + 8,256 + 650
    rows = lines[2:5]
    for row, n_in, n_out, act, n in zip(rows, sizes[:-1], sizes[1:], [*hidden, "softmax"], counts):
        numbers = [int(v.replace(",", "")) for v in re.findall(r"\d[\d,]*", row)]
        assert numbers == [rows.index(row) + 1, n_in, n_out, n, n * itemsize], row
        assert f" {act} " in row
    total = [int(v.replace(",", "")) for v in re.findall(r"\d[\d,]*", lines[5])]
    assert lines[5].lstrip().startswith("total") and total == [109_386, 109_386 * itemsize]
    assert model.n_params == 109_386


# -- copy ------------------------------------------------------------------------------
def test_copy_is_independent_and_stays_on_the_device(backend, rng):
    model = xpnet.MLP([3, 5, 2], hidden="silu", output="softmax", dtype="float64", seed=4, backend=backend)
    twin = model.copy()
    assert twin is not model and type(twin) is xpnet.MLP
    assert twin.config() == model.config() and twin.backend == model.backend and twin.dtype == model.dtype
    assert twin.sizes is not model.sizes and twin.hidden is not model.hidden
    before = [(xpnet.to_numpy(W).copy(), xpnet.to_numpy(b).copy()) for W, b in model.params]
    for (W, b), (W2, b2) in zip(model.params, twin.params):
        assert W2 is not W and b2 is not b
        assert xpnet.backend.backend_of(W2) == model.backend
        assert getattr(W2, "device", None) == getattr(W, "device", None)
        np.testing.assert_array_equal(xpnet.to_numpy(W2), xpnet.to_numpy(W))
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
    np.testing.assert_array_equal(xpnet.to_numpy(twin.forward(X)), xpnet.to_numpy(model.forward(X)))
    xpnet.train(twin, X, y, epochs=5, lr=0.5)  # trains its own arrays (in place where the library allows)
    twin.sizes.append(7)
    for (W, b), (W0, b0) in zip(model.params, before):
        np.testing.assert_array_equal(xpnet.to_numpy(W), W0)
        np.testing.assert_array_equal(xpnet.to_numpy(b), b0)
    assert model.sizes == [3, 5, 2]
    assert not np.allclose(xpnet.to_numpy(twin.params[0][0]), before[0][0])  # the copy did learn
