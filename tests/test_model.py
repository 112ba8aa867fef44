"""The MLP: backpropagation against finite differences in float64, predictions, parameters."""

import numpy as np
import pytest

import xpnet

CASES = [
    # sizes, hidden, output, loss, labels
    ([3, 5, 1], "relu", "sigmoid", None, "binary"),
    ([3, 4, 3], "tanh", "sigmoid", None, "multilabel"),
    ([3, 6, 4], "leaky_relu", "softmax", None, "classes"),
    ([3, 4, 4], "sigmoid", "softmax", None, "onehot"),
    ([3, 5, 2], "tanh", "identity", None, "regression"),
    ([2, 3, 1], "sigmoid", "sigmoid", "mse", "binary"),  # the classic XOR pairing
    ([3, 4, 2], "identity", "tanh", "mse", "regression"),
    ([4, 6, 5, 3, 3], ["relu", "tanh", "softmax"], "softmax", "cross_entropy", "classes"),
]


def make_data(rng, sizes, kind, n=9):
    X = rng.standard_normal((n, sizes[0]))
    k = sizes[-1]
    if kind == "binary":
        y = rng.integers(0, 2, n)
    elif kind == "multilabel":
        y = rng.integers(0, 2, (n, k)).astype(float)
    elif kind == "classes":
        y = rng.integers(0, k, n)
    elif kind == "onehot":
        y = np.eye(k)[rng.integers(0, k, n)]
    else:
        y = rng.standard_normal((n, k)) * 0.5
    return X, y


def numeric_gradients(model, X, y, eps=1e-6):
    """Central differences of model.loss, perturbing host copies of the parameters."""
    host = [(xpnet.to_numpy(W).copy(), xpnet.to_numpy(b).copy()) for W, b in model.params]
    grads = []
    for l in range(len(host)):
        pair = []
        for j in range(2):
            P = host[l][j]
            G = np.zeros_like(P)
            for idx in np.ndindex(*P.shape):
                old = P[idx]
                P[idx] = old + eps
                model.set_params(host)
                up = model.loss(X, y)
                P[idx] = old - eps
                model.set_params(host)
                down = model.loss(X, y)
                P[idx] = old
                G[idx] = (up - down) / (2 * eps)
            pair.append(G)
        grads.append(pair)
    model.set_params(host)
    return grads


@pytest.mark.parametrize("sizes, hidden, output, loss, kind", CASES)
def test_backprop_matches_finite_differences(backend, rng, sizes, hidden, output, loss, kind):
    model = xpnet.MLP(sizes, hidden=hidden, output=output, loss=loss, init="xavier", seed=3,
                      dtype="float64", backend=backend.spec)
    X, y = make_data(rng, sizes, kind)
    value, grads = model.gradients(X, y)
    assert value == pytest.approx(model.loss(X, y), rel=1e-14)
    want = numeric_gradients(model, X, y)
    for (dW, db), (nW, nb) in zip(grads, want):
        assert dW.shape == nW.shape and db.shape == nb.shape
        np.testing.assert_allclose(xpnet.to_numpy(dW), nW, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(xpnet.to_numpy(db), nb, rtol=1e-5, atol=1e-8)


def test_gradcheck_reports_small_errors_and_catches_a_wrong_gradient(backend, rng, monkeypatch):
    model = xpnet.MLP([3, 5, 3], hidden="tanh", output="softmax", seed=1, backend=backend.spec)
    X, y = make_data(rng, [3, 5, 3], "classes")
    errors = xpnet.gradcheck(model, X, y)
    assert len(errors) == 2 and all(len(e) == 2 for e in errors)
    assert max(max(e) for e in errors) < 1e-7
    assert model.dtype == backend.xp.float32  # the check ran on a float64 copy

    # A deliberately broken derivative must show up as a large error.
    from xpnet import activations

    broken = activations.Activation("tanh", activations.tanh, lambda da, z, a: da * (1.0 - a))
    bad = xpnet.MLP([3, 5, 3], hidden=broken, output="softmax", seed=1, backend=backend.spec)
    errors = xpnet.gradcheck(bad, X, y)
    assert errors[0][0] > 1e-2


def test_gradcheck_samples_entries(backend, rng):
    model = xpnet.MLP([20, 30, 4], hidden="sigmoid", output="softmax", seed=0, backend=backend.spec)
    X, y = make_data(rng, [20, 30, 4], "classes", n=5)
    errors = xpnet.gradcheck(model, X, y, max_entries=10)
    assert max(max(e) for e in errors) < 1e-7
    with pytest.raises(xpnet.InvalidArgumentError, match="max_entries"):
        xpnet.gradcheck(model, X, y, max_entries=0)


def test_forward_predict_shapes_and_values(backend, xp, rng):
    X = rng.standard_normal((6, 3))
    soft = xpnet.MLP([3, 4, 5], output="softmax", seed=0, backend=backend.spec)
    P = soft.forward(X)
    assert xpnet.backend.backend_of(P) == backend
    Pn = xpnet.to_numpy(P)
    np.testing.assert_allclose(Pn.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(xpnet.to_numpy(soft.predict(X)), Pn.argmax(axis=1))

    binary = xpnet.MLP([3, 4, 1], output="sigmoid", seed=0, backend=backend.spec)
    p = xpnet.to_numpy(binary.forward(X))
    labels = xpnet.to_numpy(binary.predict(X))
    assert labels.shape == (6,)
    np.testing.assert_array_equal(labels, (p[:, 0] > 0.5).astype(int))

    reg = xpnet.MLP([3, 4, 2], output="identity", seed=0, backend=backend.spec)
    assert xpnet.to_numpy(reg.predict(X)).shape == (6, 2)


def test_forward_matches_a_plain_numpy_forward(backend, rng):
    model = xpnet.MLP([3, 4, 2], hidden="relu", output="softmax", seed=5, dtype="float64",
                      backend=backend.spec)
    X = rng.standard_normal((7, 3))
    (W1, b1), (W2, b2) = [(xpnet.to_numpy(W), xpnet.to_numpy(b)) for W, b in model.params]
    h = np.maximum(X @ W1 + b1, 0)
    z = h @ W2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(xpnet.to_numpy(model.forward(X)), p, rtol=1e-12)


def test_params_layout_and_set_params(backend, rng):
    model = xpnet.MLP([4, 3, 2], output="softmax", backend=backend.spec)
    assert [(W.shape, b.shape) for W, b in model.params] == [((4, 3), (3,)), ((3, 2), (2,))]
    assert model.n_params == 4 * 3 + 3 + 3 * 2 + 2
    new = [(rng.standard_normal((4, 3)), rng.standard_normal(3)), (rng.standard_normal((3, 2)), rng.standard_normal(2))]
    model.set_params(new)
    for (W, b), (W0, b0) in zip(model.params, new):
        assert W.dtype == backend.xp.float32
        np.testing.assert_allclose(xpnet.to_numpy(W), W0, rtol=1e-6)
        np.testing.assert_allclose(xpnet.to_numpy(b), b0, rtol=1e-6)
    with pytest.raises(xpnet.InvalidArgumentError, match=r"params\[0\]\[0\] \(W\) must have shape \(4, 3\)"):
        model.set_params([(np.zeros((3, 4)), np.zeros(3)), new[1]])
    with pytest.raises(xpnet.InvalidArgumentError, match="1 layers but the model has 2"):
        model.set_params(new[:1])


def test_to_moves_the_same_model(backend, rng):
    model = xpnet.MLP([3, 4, 2], output="softmax", seed=2, dtype="float64")
    moved = model.to(backend.spec)
    assert moved.backend == backend
    assert model.to("numpy") is model
    X = rng.standard_normal((5, 3))
    np.testing.assert_allclose(xpnet.to_numpy(moved.forward(X)), model.forward(X), rtol=1e-12)
    assert moved.to(backend.spec) is moved
    back = moved.to("numpy")
    np.testing.assert_array_equal(back.params[0][0], model.params[0][0])


def test_loss_is_a_python_float(backend, rng):
    model = xpnet.MLP([2, 3, 1], backend=backend.spec)
    X, y = rng.standard_normal((4, 2)), np.array([0, 1, 1, 0])
    assert type(model.loss(X, y)) is float
    value, grads = model.gradients(X, y)
    assert type(value) is float


@pytest.mark.parametrize("kwargs, match", [
    (dict(sizes=[2]), "at least an input and an output"),
    (dict(sizes=[2, 0, 1]), r"sizes\[1\] must be a positive int"),
    (dict(sizes=[2, 3.5, 1]), r"sizes\[1\] must be a positive int"),
    (dict(sizes=[2, 3, 1], hidden="swish"), "unknown hidden activation 'swish'"),
    (dict(sizes=[2, 3, 1], output="mish"), "unknown output activation"),
    (dict(sizes=[2, 3, 3, 1], hidden=["relu"]), "one per hidden layer"),
    (dict(sizes=[2, 3, 1], loss="cross_entropy"), "needs output activation 'softmax'"),
    (dict(sizes=[2, 3, 1], dtype="int32"), "floating"),
    (dict(sizes=[2, 3, 1], init_scale=0), "init_scale must be in \\(0.0, inf\\)"),
    (dict(sizes=[2, 3, 1], backend="tpu"), "unknown backend 'tpu'"),
])
def test_constructor_errors_are_clear(kwargs, match):
    sizes = kwargs.pop("sizes")
    with pytest.raises((xpnet.InvalidArgumentError, xpnet.InvalidTypeError), match=match):
        xpnet.MLP(sizes, **kwargs)


@pytest.mark.parametrize("X, y, match", [
    (np.zeros((4, 3)), np.zeros(4), "has 3 features .* input layer has 2"),
    (np.zeros(4), np.zeros(4), "must be 2-D"),
    (np.zeros((0, 2)), np.zeros(0), "no rows"),
    (np.zeros((4, 2)), np.zeros(5), "different lengths: X has 4 rows, y has 5"),
    (np.full((4, 2), np.nan), np.zeros(4), "NaN or infinity"),
    (np.zeros((4, 2)), np.array([0, 1, 2, 0]), r"values from 0.0 to 2.0"),
    (np.array([["a", "b"]] * 4), np.zeros(4), "real numbers"),
])
def test_bad_data_gets_a_clear_error(X, y, match):
    model = xpnet.MLP([2, 3, 1])
    with pytest.raises(xpnet.XpnetError, match=match):
        model.loss(X, y)


def test_softmax_label_errors():
    model = xpnet.MLP([2, 3, 3], output="softmax")
    X = np.zeros((3, 2))
    with pytest.raises(xpnet.InvalidArgumentError, match="label 3, outside the output's range 0..2"):
        model.loss(X, [0, 1, 3])
    with pytest.raises(xpnet.InvalidArgumentError, match="must be integers"):
        model.loss(X, [0, 1.5, 2])
    multi = xpnet.MLP([2, 3, 3], output="sigmoid")
    with pytest.raises(xpnet.InvalidArgumentError, match="single label column .* 3 units"):
        multi.loss(X, [0, 1, 1])


def test_arrays_of_another_backend_are_refused_with_the_fix():
    strict = pytest.importorskip("array_api_strict")
    model = xpnet.MLP([2, 3, 1])
    with pytest.raises(xpnet.BackendMismatchError, match="model.to\\('array_api_strict'\\)"):
        model.forward(strict.zeros((3, 2)))


def test_hidden_pre_activations_are_kept_only_for_activations_that_read_them(backend, rng):
    """Built-in activations differentiate from ``a`` alone, so forward keeps no hidden ``Z``
    (freed early); a hand-made activation (``uses_z`` defaults to True) gets its ``z``."""
    from xpnet import activations
    from xpnet.model import backward, forward, output_delta

    model = xpnet.MLP([3, 6, 5, 2], hidden=["relu", "leaky_relu"], output="softmax", seed=0,
                      dtype="float64", backend=backend.spec)
    X, y = make_data(rng, [3, 6, 5, 2], "classes", n=7)
    layers = forward(model.params, backend.asarray(X), model.activations)
    assert layers[0].Z is None and layers[1].Z is None and layers[2].Z is not None

    seen = []

    def relu_from_z(da, z, a):  # the textbook derivative, written against z
        seen.append(z)
        xp = xpnet.backend.array_namespace(da)
        return da * xp.astype(z > 0, da.dtype)

    custom = xpnet.MLP([3, 6, 5, 2], hidden=[activations.Activation("relu", activations.relu, relu_from_z),
                                             "leaky_relu"],
                       output="softmax", seed=0, dtype="float64", backend=backend.spec)
    layers = forward(custom.params, backend.asarray(X), custom.activations)
    assert layers[0].Z is not None and layers[1].Z is None
    T = backend.asarray(np.eye(2)[y])
    dZ = output_delta(layers[-1], T, custom.output, custom.loss_fn)
    grads = backward(custom.params, layers, dZ, custom.activations)
    assert len(seen) == 1 and seen[0] is layers[0].Z
    # the same gradients as the built-in relu, which reads a instead
    _, want = model.gradients(X, y)
    for (dW, db), (dW0, db0) in zip(grads, want):
        np.testing.assert_allclose(xpnet.to_numpy(dW), xpnet.to_numpy(dW0), rtol=1e-12, atol=1e-15)
