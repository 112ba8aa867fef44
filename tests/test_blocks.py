"""The building blocks added for the ecosystem: GELU (exact and tanh), ELU, SELU, SiLU, softplus,
erf/erfc, the Huber and absolute-error losses, and the "torch" initializer.

Each is checked on every backend against PyTorch (float64 values and autograd
gradients), against independent SciPy formulas through central finite
differences, and against mpmath at extreme inputs (+-1e4, float32 and float64).
Network-level gradients through these blocks are in tests/test_gradients_torch.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
from xpnet import activations as A
from xpnet import losses as L

NEW = ["gelu", "gelu_tanh", "elu", "selu", "silu", "softplus"]
#: a wide float64 grid: the tails of every activation, both sides of 0, the huge values
WIDE = np.concatenate([np.linspace(-40.0, 40.0, 8001), [-1e4, -1e3, -745.0, -100.0, -1e-300, 0.0,
                                                         1e-300, 100.0, 1e3, 1e4]])
#: extreme and awkward points for the mpmath comparison
EXTREME = [-1e4, -1e3, -745.0, -100.0, -40.0, -20.0, -5.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 5.0, 20.0,
           40.0, 100.0, 1e3, 1e4]


def _torch():
    return pytest.importorskip("torch")


def torch_activation(name, z):
    """PyTorch's own functions (softplus with its threshold raised to 40, see test_softplus_...)."""
    F = _torch().nn.functional
    return {
        "gelu": F.gelu,
        "gelu_tanh": lambda v: F.gelu(v, approximate="tanh"),
        "elu": F.elu,
        "selu": F.selu,
        "silu": F.silu,
        "softplus": lambda v: F.softplus(v, threshold=40.0),
    }[name](z)


def scipy_activation(name, z):
    """Independent float64 formulas from SciPy's special functions."""
    special = pytest.importorskip("scipy.special")
    if name == "gelu":
        return z * special.ndtr(z)
    if name == "gelu_tanh":
        return z * special.expit(2 * math.sqrt(2 / math.pi) * (z + 0.044715 * z**3))
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if name == "selu":
        return 1.0507009873554804934 * np.where(z > 0, z, 1.6732632423543772848 * np.expm1(np.minimum(z, 0)))
    if name == "silu":
        return z * special.expit(z)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    raise KeyError(name)


def mpmath_activation(mp, name):
    """The activation as an mpmath function (exact to 50 digits)."""
    alpha, scale = mp.mpf("1.6732632423543772848170429916717"), mp.mpf("1.0507009873554804934193349852946")
    return {
        "gelu": lambda x: x * mp.ncdf(x),
        "gelu_tanh": lambda x: x / (1 + mp.exp(-2 * mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x**3))),
        "elu": lambda x: x if x > 0 else mp.expm1(x),
        "selu": lambda x: scale * (x if x > 0 else alpha * mp.expm1(x)),
        "silu": lambda x: x / (1 + mp.exp(-x)),
        "softplus": lambda x: mp.log1p(mp.exp(x)),
    }[name]


def _vjp(act, backend, z, da=None):
    zd = backend.asarray(z)
    dad = backend.asarray(np.ones_like(z) if da is None else da, zd.dtype)
    return xpnet.to_numpy(act.backward(dad, zd if act.uses_z else None, act.forward(zd)))


# -- activations: PyTorch -------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW)
def test_values_and_derivatives_match_torch(backend, name):
    """float64 on a wide grid: relative 1e-12, or 1e-14 absolute where torch's formula itself
    cancels (GELU below z = -4: torch's ``1 + erf`` loses the tail that xpnet keeps)."""
    torch = _torch()
    act = A.get_activation(name)
    zt = torch.tensor(WIDE, requires_grad=True)
    want = torch_activation(name, zt)
    want.backward(torch.ones_like(want))
    got = xpnet.to_numpy(act.forward(backend.asarray(WIDE)))
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_vjp(act, backend, WIDE), zt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_gelu_is_exact_where_torch_cancels(backend):
    """At z = -5 torch is off by 4e-11 relative, at -10 it returns 0; xpnet has the true values."""
    torch = _torch()
    z = np.array([-5.0, -10.0, -30.0])
    got = xpnet.to_numpy(A.gelu(backend.asarray(z)))
    want = [-1.4332578593959695e-06, -7.619853024160526e-23, -1.472014178144456e-196]  # mpmath, 50 digits
    np.testing.assert_allclose(got, want, rtol=1e-14)
    torch_values = torch.nn.functional.gelu(torch.tensor(z)).numpy()
    assert torch_values[1] == 0.0 and abs(torch_values[0] / want[0] - 1) > 1e-12  # the reason for atol above


def test_softplus_is_exact_above_torchs_threshold(backend):
    """torch returns z itself above threshold=20; the exact value differs by exp(-z)."""
    torch = _torch()
    z = np.array([20.5, 25.0, 30.0, 36.0])
    got = xpnet.to_numpy(A.softplus(backend.asarray(z)))
    np.testing.assert_allclose(got, z + np.log1p(np.exp(-z)), rtol=1e-15)
    default = torch.nn.functional.softplus(torch.tensor(z)).numpy()
    np.testing.assert_array_equal(default, z)
    assert np.all(np.abs(got - default) <= np.exp(-z) * 1.01)


# -- activations: finite differences of independent formulas ----------------------------------
@pytest.mark.parametrize("name", NEW)
def test_backward_is_the_vjp_of_scipy_formulas(backend, rng, name):
    """backward(da, z, a) equals central differences of the SciPy formulas, in float64."""
    act = A.get_activation(name)
    z = rng.standard_normal((4, 5)) * 3
    z[np.abs(z) < 1e-3] = 0.5  # away from ELU/SELU's kink at 0
    da = rng.standard_normal(z.shape)
    np.testing.assert_allclose(xpnet.to_numpy(act.forward(backend.asarray(z))), scipy_activation(name, z),
                               rtol=1e-13, atol=1e-15)
    eps = 1e-6
    want = da * (scipy_activation(name, z + eps) - scipy_activation(name, z - eps)) / (2 * eps)
    np.testing.assert_allclose(_vjp(act, backend, z, da), want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", NEW)
def test_uses_z_is_honest(backend, rng, name):
    """uses_z=False: backward gives the same with z=None (hidden pre-activations are freed);
    uses_z=True: the forward pass keeps the hidden Z for it."""
    act = A.get_activation(name)
    z = backend.asarray(rng.standard_normal((3, 4)) * 4)
    a = act.forward(z)
    ones = backend.asarray(np.ones((3, 4)))
    if not act.uses_z:
        np.testing.assert_array_equal(xpnet.to_numpy(act.backward(ones, None, a)),
                                      xpnet.to_numpy(act.backward(ones, z, a)))
    from xpnet.model import forward

    model = xpnet.MLP([4, 3, 2], hidden=name, output="identity", dtype="float64", backend=backend)
    layers = forward(model.params, backend.asarray(rng.standard_normal((5, 4))), model.activations)
    assert (layers[0].Z is not None) == act.uses_z


# -- activations: mpmath at extreme inputs ------------------------------------------------------
def _condition(mp, f, x):
    """|x f'(x) / f(x)|: how much any evaluation in floating point may amplify the input's rounding."""
    fx = f(x)
    return 0.0 if fx == 0 else float(abs(x * mp.diff(f, x) / fx))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NEW)
def test_finite_and_accurate_at_extreme_inputs(backend, name, dtype):
    """Values and derivatives at +-1e4 ... 0 against mpmath: finite, no warnings, and within a few
    ulps times the function's condition number (values) or of the derivative's scale 1 (derivatives)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    act, f = A.get_activation(name), mpmath_activation(mp, name)
    z = np.array(EXTREME, dtype=dtype)
    zd = backend.asarray(z, backend.dtype(dtype))
    value = xpnet.to_numpy(act.forward(zd)).astype(np.float64)
    slope = xpnet.to_numpy(act.backward(backend.asarray(np.ones_like(z), backend.dtype(dtype)),
                                        zd, act.forward(zd))).astype(np.float64)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(slope))
    eps, tiny = float(np.finfo(dtype).eps), float(np.finfo(dtype).tiny)
    for x, v, s in zip(z.astype(np.float64), value, slope):
        xm = mp.mpf(float(x))
        want = f(xm)
        if abs(want) < tiny:  # underflows in this dtype: any subnormal or zero of the right sign
            assert abs(v) < tiny, (name, x, v)
        else:
            bound = 8 * eps * (1 + _condition(mp, f, xm)) * abs(float(want))
            assert abs(v - float(want)) <= bound, (name, x, v)
        dwant = float(mp.diff(f, xm if x != 0 else mp.mpf("-1e-40")))  # at the kink: the left side, as torch
        assert abs(s - dwant) <= 8 * eps * (1 + abs(dwant)), (name, x, s, dwant)


# -- erf and erfc ---------------------------------------------------------------------------
def test_erf_and_erfc_to_a_few_ulps_against_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    tiny_to_100 = np.logspace(-300, 2, 150)
    x = np.concatenate([np.linspace(-27.0, 27.0, 2701), -tiny_to_100, tiny_to_100])
    erf_want = np.array([float(mp.erf(mp.mpf(v))) for v in x])
    erfc_want = np.array([float(mp.erfc(mp.mpf(v))) for v in x])
    ulp = np.finfo(np.float64).eps
    tiny = np.finfo(np.float64).tiny
    got = A.erfc(x)
    m = erfc_want >= tiny
    assert np.max(np.abs(got[m] / erfc_want[m] - 1)) < 4 * ulp  # relative also deep in the tail (1e-300)
    assert np.max(np.abs(got[~m] - erfc_want[~m])) <= 4 * tiny * ulp  # subnormal: to a few of their steps
    m = erf_want != 0
    assert np.max(np.abs(A.erf(x)[m] / erf_want[m] - 1)) < 2 * ulp


def test_erf_and_erfc_on_every_backend_match_torch(backend):
    torch = _torch()
    x = np.concatenate([np.linspace(-10, 10, 401), [-1e4, -30.0, 0.0, 30.0, 1e4]])
    xd = backend.asarray(x)
    np.testing.assert_allclose(xpnet.to_numpy(A.erf(xd)), torch.special.erf(torch.tensor(x)).numpy(),
                               rtol=4e-16, atol=1e-300)
    np.testing.assert_allclose(xpnet.to_numpy(A.erfc(xd)), torch.special.erfc(torch.tensor(x)).numpy(),
                               rtol=1e-14, atol=1e-300)
    for dtype in ("float32", "float64"):
        ends = xpnet.to_numpy(A.erfc(backend.asarray(np.array([-1e4, 1e4]), backend.dtype(dtype))))
        np.testing.assert_array_equal(ends, [2.0, 0.0])


def erfc_chebyshev_coefficients(mp, K=4, n_nodes=80, n_terms=24):
    """The coefficients of ``h(t) = erfc(x) exp(x**2) (x + K) / K``, ``x = K (1 + t) / (1 - t)``:
    Chebyshev interpolation at ``n_nodes`` points, with mpmath (how xpnet's table was made)."""
    K = mp.mpf(K)
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n_nodes) for k in range(n_nodes)]
    values = []
    for t in nodes:
        x = K * (1 + t) / (1 - t)
        values.append(mp.erfc(x) * mp.exp(x * x) * (x + K) / K)
    coefficients = []
    for j in range(n_terms):
        c = 2 * sum(v * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n_nodes)
                    for k, v in enumerate(values)) / n_nodes
        coefficients.append(c / 2 if j == 0 else c)
    return [float(c) for c in coefficients]


def test_erfc_coefficients_are_reproducible_from_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    assert A._ERFC_K == 4.0
    np.testing.assert_allclose(A._ERFC_CHEB, erfc_chebyshev_coefficients(mp), rtol=1e-15, atol=1e-30)


# -- losses ---------------------------------------------------------------------------------
def _torch_loss(name, a, t):
    torch = _torch()
    F = torch.nn.functional
    return {"mse": lambda: F.mse_loss(a, t) / 2, "huber": lambda: F.huber_loss(a, t, delta=1.0),
            "absolute_error": lambda: F.l1_loss(a, t)}[name]()


@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("name", ["mse", "huber", "absolute_error"])
def test_regression_losses_and_gradients_match_torch(backend, rng, name, units):
    """mse is half of torch's MSELoss; huber is HuberLoss(delta=1); absolute_error is L1Loss."""
    torch = _torch()
    a = rng.standard_normal((9, units)) * 2
    t = rng.standard_normal((9, units)) * 2
    loss = L.get_loss(name, "identity")
    at = torch.tensor(a, requires_grad=True)
    want = _torch_loss(name, at, torch.tensor(t))
    want.backward()
    ad, td = backend.asarray(a), backend.asarray(t)
    assert float(loss.value(None, ad, td)) == pytest.approx(want.item(), rel=1e-13)
    np.testing.assert_allclose(xpnet.to_numpy(loss.grad(None, ad, td)), at.grad.numpy(),
                               rtol=1e-13, atol=1e-16)
    assert loss.mean_over_units


@pytest.mark.parametrize("name", ["huber", "absolute_error"])
def test_new_loss_gradients_are_central_differences(backend, rng, name):
    a = rng.standard_normal((5, 3)) * 2
    t = rng.standard_normal((5, 3))
    loss = L.get_loss(name, "identity")

    def value(av):  # written out independently
        d = np.abs(av - t)
        per = np.where(d <= 1, 0.5 * d**2, d - 0.5) if name == "huber" else d
        return per.sum() / av.size

    eps = 1e-6
    want = np.zeros_like(a)
    for idx in np.ndindex(*a.shape):
        ap, am = a.copy(), a.copy()
        ap[idx] += eps
        am[idx] -= eps
        want[idx] = (value(ap) - value(am)) / (2 * eps)
    got = float(loss.value(None, backend.asarray(a), backend.asarray(t)))
    assert got == pytest.approx(value(a), rel=1e-13)
    np.testing.assert_allclose(xpnet.to_numpy(loss.grad(None, backend.asarray(a), backend.asarray(t))), want,
                               rtol=1e-7, atol=1e-10)


def test_huber_is_mse_for_small_errors_and_linear_beyond(backend, rng):
    a = rng.uniform(-0.45, 0.45, (6, 2))
    t = rng.uniform(-0.45, 0.45, (6, 2))
    ad, td = backend.asarray(a), backend.asarray(t)
    assert float(L.huber(None, ad, td)) == pytest.approx(float(L.mse(None, ad, td)), rel=1e-14)
    far = backend.asarray(np.full((2, 2), 101.0))
    near = backend.asarray(t[:2])
    linear = float(np.mean(np.abs(101.0 - t[:2]) - 0.5))
    assert float(L.huber(None, far, near)) == pytest.approx(linear, rel=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_regression_losses_finite_and_exact_at_extreme_errors(backend, dtype):
    """Errors of +-1e4: exact values and gradients (clipped for huber, signs for absolute_error)."""
    dt = backend.dtype(dtype)
    a = backend.asarray(np.array([[1e4, -1e4], [0.0, 3.0]]), dt)
    t = backend.asarray(np.array([[-0.0, 0.0], [0.0, 3.0]]), dt)
    expect = {"mse": (1e8 + 1e8) / (2 * 4), "huber": (1e4 - 0.5) * 2 / 4, "absolute_error": 2e4 / 4}
    grads = {"mse": [[1e4 / 4, -1e4 / 4], [0, 0]], "huber": [[0.25, -0.25], [0, 0]],
             "absolute_error": [[0.25, -0.25], [0, 0]]}
    for name, want in expect.items():
        loss = L.get_loss(name, "identity")
        assert float(loss.value(None, a, t)) == pytest.approx(want, rel=1e-7)
        np.testing.assert_allclose(xpnet.to_numpy(loss.grad(None, a, t)), grads[name], rtol=1e-7)


def test_new_losses_by_name_and_alias_and_in_the_error_message():
    assert L.get_loss("huber", "identity").name == "huber"
    assert L.get_loss("l1", "identity").name == "absolute_error"
    assert L.get_loss("MAE", "tanh").name == "absolute_error"
    assert L.get_loss(None, "identity").name == "mse"  # huber and L1 are never picked for you
    with pytest.raises(xpnet.InvalidArgumentError, match="mse, huber, absolute_error"):
        L.get_loss("hinge", "identity")


def test_multi_output_mse_training_loss_does_not_scale_with_outputs(backend, rng):
    """The same error on 3 outputs as on 1 gives the same loss (it tripled before)."""
    X = rng.standard_normal((20, 2))
    y1 = rng.standard_normal(20)
    one = xpnet.MLP([2, 1], output="identity", dtype="float64", backend=backend)
    three = xpnet.MLP([2, 3], output="identity", dtype="float64", backend=backend)
    W, b = one.params[0]
    three.set_params([(np.repeat(xpnet.to_numpy(W), 3, axis=1), np.repeat(xpnet.to_numpy(b), 3))])
    assert three.loss(X, np.repeat(y1[:, None], 3, axis=1)) == pytest.approx(one.loss(X, y1), rel=1e-13)


# -- the "torch" initializer -------------------------------------------------------------------
def test_torch_init_is_nn_linear_in_distribution(backend):
    """W and b uniform in +-1/sqrt(n_in), as nn.Linear: KS tests against the uniform law and
    against nn.Linear's own draws (fixed seeds, so the test is deterministic)."""
    torch = _torch()
    stats = pytest.importorskip("scipy.stats")
    n_in, n_out = 300, 200
    model = xpnet.MLP([n_in, n_out, 10], output="identity", init="torch", seed=3, dtype="float64",
                      backend=backend)
    (W, b), (W2, b2) = [(xpnet.to_numpy(w), xpnet.to_numpy(v)) for w, v in model.params]
    bound = 1 / math.sqrt(n_in)
    assert W.shape == (n_in, n_out) and np.abs(W).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(W2).max() <= 1 / math.sqrt(n_out) and np.abs(b2).max() <= 1 / math.sqrt(n_out)
    assert np.std(W) == pytest.approx(bound / math.sqrt(3), rel=0.01) and np.std(b) > 0.4 * bound
    assert stats.kstest(W.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 0.01
    assert stats.kstest(b, stats.uniform(-bound, 2 * bound).cdf).pvalue > 0.01
    torch.manual_seed(0)
    linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
    assert stats.ks_2samp(W.ravel(), linear.weight.detach().numpy().ravel()).pvalue > 0.01
    assert stats.ks_2samp(b, linear.bias.detach().numpy()).pvalue > 0.01
    again = xpnet.MLP([n_in, n_out, 10], output="identity", init="torch", seed=3, dtype="float64")
    np.testing.assert_array_equal(xpnet.to_numpy(again.params[0][0]), W)  # same seed, same draws, any backend
    assert xpnet.init.weight_std("torch", n_in, n_out) == pytest.approx(bound / math.sqrt(3))


def test_new_names_are_listed_in_errors():
    with pytest.raises(xpnet.InvalidArgumentError, match="normal, xavier, glorot, he, torch"):
        xpnet.MLP([2, 1], init="orthogonal")
    with pytest.raises(xpnet.InvalidArgumentError, match="gelu, gelu_tanh, elu, selu, silu, softplus"):
        xpnet.MLP([2, 3, 1], hidden="mish")
