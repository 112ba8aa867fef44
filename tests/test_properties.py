"""Properties over random networks (hypothesis), on numpy and array_api_strict.

Random architectures (1-3 hidden layers of 1-8 units, any hidden activation,
every output/loss pairing), batch sizes, dtypes, optimizers and seeds:

(a) float64 backpropagation agrees with central finite differences computed
    here, independently of ``xpnet.gradcheck``;
(b) training on valid random data never crashes: finite losses, one history
    entry per epoch, finite parameters of the right shape and dtype;
(c) a seed fixes the result: two runs are bit-identical, and numpy and
    array_api_strict agree to 1e-12 in float64 (not bit for bit: NumPy's
    namespace sums the columns of batches of 64+ rows with a BLAS product,
    which rounds differently from a reduction).

Settings are modest (30 examples per test, no deadline) so the file runs in
well under a minute; ``XPNET_PROPERTY_EXAMPLES=500`` explores more.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet
from xpnet.activations import ACTIVATIONS
from xpnet.optim import OPTIMIZERS

BACKENDS = ["numpy", "array_api_strict"]
HIDDEN = sorted(ACTIVATIONS)
#: (output activation, loss, target kind): every pairing the README documents.
HEADS = [
    ("sigmoid", None, "binary"),            # one unit, binary cross-entropy from logits
    ("sigmoid", None, "multilabel"),        # several units
    ("softmax", None, "labels"),            # integer labels
    ("softmax", None, "probabilities"),     # probability rows
    ("identity", None, "regression"),       # mse
    ("sigmoid", "mse", "binary"),           # the classic XOR pairing, chain rule
    ("tanh", "mse", "regression"),
    ("softmax", "mse", "labels"),
]

PROPERTY = settings(max_examples=int(os.environ.get("XPNET_PROPERTY_EXAMPLES", "30")),
                    deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _backend(name: str):
    try:
        return xpnet.get_backend(name)
    except xpnet.BackendUnavailableError as exc:
        pytest.skip(f"backend {name!r} unavailable: {exc}")


@st.composite
def networks(draw, dtype=None):
    """A model spec and matching random data."""
    n_in = draw(st.integers(1, 5))
    hidden_sizes = draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))
    output, loss, kind = draw(st.sampled_from(HEADS))
    if kind == "binary":
        n_out = 1
    elif kind == "regression":
        n_out = draw(st.integers(1, 3))
    else:
        n_out = draw(st.integers(2, 4))
    if draw(st.booleans()):
        hidden = draw(st.sampled_from(HIDDEN))
    else:
        n_hidden = len(hidden_sizes)
        hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=n_hidden, max_size=n_hidden))
    return {
        "sizes": [n_in, *hidden_sizes, n_out],
        "hidden": hidden,
        "output": output,
        "loss": loss,
        "kind": kind,
        "init": draw(st.sampled_from(["he", "xavier", "normal"])),
        "init_scale": draw(st.sampled_from([0.01, 0.5, 1.0])),
        "seed": draw(st.integers(0, 2**16)),
        "dtype": dtype or draw(st.sampled_from(["float32", "float64"])),
        "n": draw(st.integers(1, 12)),
        "data_seed": draw(st.integers(0, 2**16)),
    }


def make_model(spec: dict, backend: str) -> xpnet.MLP:
    return xpnet.MLP(spec["sizes"], hidden=spec["hidden"], output=spec["output"], loss=spec["loss"],
                     init=spec["init"], init_scale=spec["init_scale"], seed=spec["seed"],
                     dtype=spec["dtype"], backend=backend)


def make_data(spec: dict, n: int | None = None, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(spec["data_seed"] + offset)
    n = spec["n"] if n is None else n
    k = spec["sizes"][-1]
    X = rng.standard_normal((n, spec["sizes"][0]))
    kind = spec["kind"]
    if kind == "binary":
        y = rng.integers(0, 2, n)
    elif kind == "multilabel":
        y = rng.integers(0, 2, (n, k)).astype(np.float64)
    elif kind == "labels":
        y = rng.integers(0, k, n)
    elif kind == "probabilities":
        p = rng.random((n, k)) + 0.05
        y = p / p.sum(axis=1, keepdims=True)
    else:
        y = 0.5 * rng.standard_normal((n, k))
        if spec["output"] == "tanh":
            y = np.tanh(y)
    return X, y


def host_params(model: xpnet.MLP) -> list[np.ndarray]:
    return [xpnet.to_numpy(a).copy() for pair in model.params for a in pair]


def finite_differences(model: xpnet.MLP, X, y, eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences of ``model.loss`` for every scalar parameter (flat W0, b0, W1, ... order)."""
    flat = host_params(model)
    pairs = lambda arrays: list(zip(arrays[0::2], arrays[1::2]))  # noqa: E731
    out = []
    for i, P in enumerate(flat):
        G = np.zeros_like(P)
        for idx in np.ndindex(*P.shape):
            old = P[idx]
            P[idx] = old + eps
            up = model.set_params(pairs(flat)).loss(X, y)
            P[idx] = old - eps
            down = model.set_params(pairs(flat)).loss(X, y)
            P[idx] = old
            G[idx] = (up - down) / (2 * eps)
        out.append(G)
    model.set_params(pairs(flat))
    return out


# -- (a) backprop == finite differences, float64 ------------------------------------------------
@pytest.mark.parametrize("backend_name", BACKENDS)
@PROPERTY
@given(spec=networks(dtype="float64"))
def test_float64_gradients_match_central_differences(backend_name, spec):
    _backend(backend_name)
    model = make_model(spec, backend_name)
    # Biases start at zero; with a dead ReLU below, a pre-activation would sit exactly on
    # ReLU's kink, where central differences are meaningless. Random biases move it off.
    rng = np.random.default_rng(spec["data_seed"] + 99)
    model.set_params([(W, rng.standard_normal(tuple(b.shape)) * 0.5) for W, b in model.params])
    X, y = make_data(spec)
    value, grads = model.gradients(X, y)
    assert math.isfinite(value)
    assert value == pytest.approx(model.loss(X, y), rel=1e-12, abs=1e-15)
    analytic = [xpnet.to_numpy(g) for pair in grads for g in pair]
    numeric = finite_differences(model, X, y)
    assert [a.shape for a in analytic] == [p.shape for p in host_params(model)]
    for i, (a, g) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(a, g, rtol=1e-5, atol=1e-8,
                                   err_msg=f"parameter {i} ({'W' if i % 2 == 0 else 'b'}{i // 2}) of {spec}")


# -- (b) valid input never crashes training ---------------------------------------------------------
@st.composite
def runs(draw, dtype=None):
    spec = draw(networks(dtype=dtype))
    spec["n"] = draw(st.integers(1, 40))
    spec.update(
        epochs=draw(st.integers(1, 5)),
        batch_size=draw(st.one_of(st.none(), st.integers(1, 48))),
        optimizer=draw(st.sampled_from(sorted(OPTIMIZERS))),
        dropout=draw(st.sampled_from([0.0, 0.0, 0.25])),
        shuffle=draw(st.booleans()),
        train_seed=draw(st.integers(0, 2**16)),
        validation=draw(st.booleans()),
        sync_every=draw(st.sampled_from([1, 2, 100])),
    )
    return spec


def run_training(spec: dict, backend: str):
    model = make_model(spec, backend)
    X, y = make_data(spec)
    val = make_data(spec, n=7, offset=1) if spec["validation"] else None
    history = xpnet.train(model, X, y, epochs=spec["epochs"], batch_size=spec["batch_size"],
                          optimizer=spec["optimizer"], dropout=spec["dropout"], shuffle=spec["shuffle"],
                          seed=spec["train_seed"], validation_data=val, sync_every=spec["sync_every"])
    return model, history


@pytest.mark.parametrize("backend_name", BACKENDS)
@PROPERTY
@given(spec=runs())
def test_training_on_valid_random_input_never_crashes(backend_name, spec):
    _backend(backend_name)
    model, history = run_training(spec, backend_name)
    epochs = spec["epochs"]
    classify = spec["output"] in ("sigmoid", "softmax")
    assert len(history.loss) == epochs == history.epochs
    assert len(history.accuracy) == (epochs if classify else 0)
    assert len(history.val_loss) == (epochs if spec["validation"] else 0)
    assert len(history.val_accuracy) == (epochs if spec["validation"] and classify else 0)
    for series in (history.loss, history.accuracy, history.val_loss, history.val_accuracy):
        assert all(isinstance(v, float) and math.isfinite(v) for v in series), series
    assert all(0.0 <= a <= 1.0 for a in history.accuracy + history.val_accuracy)
    assert history.best_epoch is None and not history.stopped_early
    assert model.backend.name == backend_name
    sizes = spec["sizes"]
    for l, (W, b) in enumerate(model.params):
        assert tuple(W.shape) == (sizes[l], sizes[l + 1]) and tuple(b.shape) == (sizes[l + 1],)
        assert W.dtype == model.dtype and b.dtype == model.dtype
        assert np.isfinite(xpnet.to_numpy(W)).all() and np.isfinite(xpnet.to_numpy(b)).all()
    X, _ = make_data(spec)
    assert tuple(model.predict(X).shape)[0] == X.shape[0]


# -- (c) a seed fixes the result, on every backend -----------------------------------------------------
@PROPERTY
@given(spec=runs(dtype="float64"))
def test_same_seed_same_result_twice_and_on_numpy_and_array_api_strict(spec):
    results = []
    for backend_name in ("numpy", "numpy", "array_api_strict"):
        _backend(backend_name)
        model, history = run_training(spec, backend_name)
        d = history.as_dict()
        d.pop("seconds")
        results.append((backend_name, d, host_params(model)))
    (_, first, params), (_, again, params_again), (_, strict, params_strict) = results
    assert again == first, "numpy history differs between two runs with the same seed"
    for a, b in zip(params_again, params):
        np.testing.assert_array_equal(a, b, err_msg="numpy parameters differ between two runs")
    for key, values in first.items():
        if isinstance(values, list):
            np.testing.assert_allclose(strict[key], values, rtol=1e-12, atol=1e-14, err_msg=key)
        else:
            assert strict[key] == values, key
    for a, b in zip(params_strict, params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg="array_api_strict parameters")
