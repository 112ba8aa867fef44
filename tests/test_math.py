"""Activations and losses against independent float64 references and finite differences."""

import math

import numpy as np
import pytest

import xpnet
from xpnet import activations as A
from xpnet import losses as L

ELEMENTWISE = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]


def reference_activation(name, z):
    """Plain float64 NumPy/math formulas, written independently of xpnet."""
    if name == "identity":
        return z
    if name == "sigmoid":
        return np.vectorize(lambda v: 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v)))(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise KeyError(name)


@pytest.mark.parametrize("name", [*ELEMENTWISE, "softmax"])
def test_activation_values(backend, rng, name):
    z = rng.standard_normal((6, 5)) * 3
    got = xpnet.to_numpy(A.get_activation(name).forward(backend.asarray(z)))
    np.testing.assert_allclose(got, reference_activation(name, z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", [*ELEMENTWISE, "softmax"])
def test_activation_backward_is_the_vjp(backend, rng, name):
    """backward(da, z, a) equals the finite-difference vector-Jacobian product in float64."""
    act = A.get_activation(name)
    z = rng.standard_normal((4, 5)) * 2
    z[np.abs(z) < 1e-3] = 0.5  # keep relu kinks away from the FD stencil
    da = rng.standard_normal(z.shape)
    zd = backend.asarray(z)
    got = xpnet.to_numpy(act.backward(backend.asarray(da), zd, act.forward(zd)))
    eps = 1e-6
    want = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += eps
        zm[idx] -= eps
        fp = reference_activation(name, zp)
        fm = reference_activation(name, zm)
        want[idx] = np.sum(da * (fp - fm)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_and_softmax_stay_finite_at_extreme_logits(backend, xp, dtype):
    z = np.array([[-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4]])
    zd = backend.asarray(z, backend.dtype(dtype))
    s = xpnet.to_numpy(A.sigmoid(zd))
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[0, [3, 6]], [0.5, 1.0])
    # the true values underflow; sigmoid may return a subnormal there (its input is floored so
    # exp(-z) stays finite), never anything of normal size
    assert 0.0 <= s[0, 0] < np.finfo(dtype).tiny and 0.0 <= s[0, 1] < np.finfo(dtype).tiny
    assert np.all(np.diff(s[0]) >= 0)  # monotone
    sm = xpnet.to_numpy(A.softmax(zd))
    assert np.all(np.isfinite(sm))
    np.testing.assert_allclose(sm.sum(), 1.0, rtol=1e-6)
    assert sm[0, -1] == pytest.approx(1.0)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(xpnet.InvalidArgumentError, match="identity, sigmoid, tanh, relu, leaky_relu, softmax"):
        A.get_activation("swish")
    with pytest.raises(xpnet.InvalidTypeError):
        A.get_activation(3)


# -- losses -----------------------------------------------------------------
def _logsumexp(z):
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]


def reference_loss(name, z, t):
    n = z.shape[0]
    if name == "binary_cross_entropy":
        # -t log s(z) - (1 - t) log(1 - s(z)), with log s(z) = -log1p(exp(-z)) (mpmath-free, exact form)
        log_s = -np.logaddexp(0.0, -z)
        log_1ms = -np.logaddexp(0.0, z)
        return float(np.sum(-t * log_s - (1 - t) * log_1ms) / n)
    if name == "cross_entropy":
        return float(np.sum(-(t * (z - _logsumexp(z)[:, None]))) / n)
    raise KeyError(name)


@pytest.mark.parametrize("name, output, units", [
    ("binary_cross_entropy", "sigmoid", 1),
    ("binary_cross_entropy", "sigmoid", 3),
    ("cross_entropy", "softmax", 4),
])
def test_cross_entropies_from_logits(backend, rng, name, output, units):
    z = rng.standard_normal((7, units)) * 4
    if output == "softmax":
        t = np.eye(units)[rng.integers(0, units, 7)]
    else:
        t = rng.integers(0, 2, (7, units)).astype(float)
    loss = L.get_loss(name, output)
    act = A.get_activation(output)
    zd = backend.asarray(z)
    got = float(loss.value(zd, act.forward(zd), backend.asarray(t)))
    assert got == pytest.approx(reference_loss(name, z, t), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropies_finite_and_accurate_at_extreme_logits(backend, dtype):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    z = np.array([[1e4], [-1e4], [50.0], [-50.0]])
    t = np.array([[0.0], [1.0], [0.0], [1.0]])  # the wrong side each time: loss ~ |z|
    bce = L.LOSSES["binary_cross_entropy"]
    zd = backend.asarray(z, backend.dtype(dtype))
    got = float(bce.value(zd, A.sigmoid(zd), backend.asarray(t, backend.dtype(dtype))))
    want = sum(float(mpmath.log1p(mpmath.exp(abs(mpmath.mpf(v))))) for v in z[:, 0]) / 4
    assert math.isfinite(got)
    assert got == pytest.approx(want, rel=1e-6)

    zz = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]])
    tt = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    ce = L.LOSSES["cross_entropy"]
    zzd = backend.asarray(zz, backend.dtype(dtype))
    got = float(ce.value(zzd, A.softmax(zzd), backend.asarray(tt, backend.dtype(dtype))))
    want = 0.0
    for row, trow in zip(zz, tt):
        lse = mpmath.log(sum(mpmath.exp(mpmath.mpf(v)) for v in row))
        want += float(lse - sum(mpmath.mpf(tv) * mpmath.mpf(v) for tv, v in zip(trow, row)))
    assert got == pytest.approx(want / 2, rel=1e-6)


def test_mse_is_half_squared_error(backend, rng):
    """Half the mean over rows *and* outputs (5 rows x 2 outputs: divide by 2 * 10), so the
    number does not grow with the number of outputs (it summed over them before)."""
    a = rng.standard_normal((5, 2))
    t = rng.standard_normal((5, 2))
    got = float(L.mse(None, backend.asarray(a), backend.asarray(t)))
    assert got == pytest.approx(((a - t) ** 2).sum() / 20, rel=1e-12)
    one = float(L.mse(None, backend.asarray(a[:, :1]), backend.asarray(t[:, :1])))
    assert one == pytest.approx(((a[:, 0] - t[:, 0]) ** 2).sum() / 10, rel=1e-12)  # one output: as before


@pytest.mark.parametrize("name, output", [("binary_cross_entropy", "sigmoid"), ("cross_entropy", "softmax"),
                                          ("mse", "sigmoid"), ("mse", "tanh"), ("mse", "identity")])
def test_loss_grad_is_dL_da(backend, rng, name, output):
    """The general chain-rule gradient dL/da against finite differences in a."""
    loss = L.get_loss(name, output)
    a = rng.uniform(0.1, 0.9, (4, 3))
    if output == "softmax":
        a = a / a.sum(axis=1, keepdims=True)
    t = rng.uniform(0, 1, (4, 3))
    got = xpnet.to_numpy(loss.grad(None, backend.asarray(a), backend.asarray(t)))

    def value(av):  # the loss as a function of the activation, written out independently
        n = av.shape[0]
        if name == "binary_cross_entropy":
            return np.sum(-t * np.log(av) - (1 - t) * np.log(1 - av)) / n
        if name == "cross_entropy":
            return np.sum(-t * np.log(av)) / n
        return np.sum((av - t) ** 2) / (2 * av.size)  # mse: a mean over rows and outputs

    eps = 1e-7
    want = np.zeros_like(a)
    for idx in np.ndindex(*a.shape):
        ap, am = a.copy(), a.copy()
        ap[idx] += eps
        am[idx] -= eps
        want[idx] = (value(ap) - value(am)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_loss_lookup_and_pairing_errors():
    assert L.get_loss(None, "sigmoid").name == "binary_cross_entropy"
    assert L.get_loss(None, "softmax").name == "cross_entropy"
    assert L.get_loss(None, "identity").name == "mse"
    assert L.get_loss("squared_error", "sigmoid").name == "mse"
    with pytest.raises(xpnet.InvalidArgumentError, match="binary_cross_entropy, cross_entropy, mse"):
        L.get_loss("hinge", "sigmoid")
    with pytest.raises(xpnet.InvalidArgumentError, match="needs output activation 'softmax'"):
        L.get_loss("cross_entropy", "sigmoid")
    with pytest.raises(xpnet.InvalidArgumentError, match="needs output activation 'sigmoid'"):
        L.get_loss("bce", "tanh")


@pytest.mark.parametrize("method, std", [("normal", 0.05), ("xavier", math.sqrt(2 / 900)), ("glorot", math.sqrt(2 / 900)),
                                         ("he", math.sqrt(2 / 400))])
def test_initializers_have_their_std(method, std):
    model = xpnet.MLP([400, 500], output="identity", init=method, init_scale=0.05, dtype="float64")
    W, b = model.params[0]
    assert np.std(W) == pytest.approx(std, rel=0.02)
    assert abs(np.mean(W)) < 0.02 * std * 10
    assert not np.any(b)
    with pytest.raises(xpnet.InvalidArgumentError, match="normal, xavier, glorot, he"):
        xpnet.MLP([2, 1], init="orthogonal")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output, loss", [("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy"),
                                          ("sigmoid", "mse")])
def test_output_gradients_finite_and_accurate_at_extreme_logits(backend, dtype, output, loss):
    """dL/dz at logits of +-1e4: finite, and equal to the exact value (probabilities saturate to 0/1)."""
    from xpnet.model import Layer, output_delta

    z = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 50.0]])
    t = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    if output == "sigmoid" and loss != "mse":
        z, t = z[:, :1], t[:, :1]
    zd = backend.asarray(z, backend.dtype(dtype))
    act, lf = A.get_activation(output), L.get_loss(loss, output)
    a = act.forward(zd)
    dz = xpnet.to_numpy(output_delta(Layer(None, zd, a), backend.asarray(t, backend.dtype(dtype)), act, lf))
    assert np.all(np.isfinite(dz))
    p = reference_activation(output, z)
    if loss == "mse":  # chain rule: (a - t) * a (1 - a) / (n k), which vanishes where the sigmoid saturates
        want = (p - t) * p * (1 - p) / z.size
    else:
        want = (p - t) / len(z)
    np.testing.assert_allclose(dz, want, rtol=1e-6, atol=1e-7)
    value = float(lf.value(zd, a, backend.asarray(t, backend.dtype(dtype))))
    assert np.isfinite(value)
