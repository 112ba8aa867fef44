"""Hand-written backpropagation against PyTorch autograd, in float64.

For every hidden activation and every output/loss pairing, ``MLP.loss`` and
``MLP.gradients`` must equal the loss and the ``.grad`` of each ``W``/``b``
that torch autograd computes on the same network (same parameters, row layout
``A @ W + b``) with torch's own loss functions. :func:`xpnet.train_step` with
explicit dropout masks is checked the same way, through one optimizer update.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import xpnet
from xpnet.data import as_targets

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-9, 1e-12
N = 7  # rows per batch

HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax",
          "gelu", "gelu_tanh", "elu", "selu", "silu", "softplus"]

TORCH_ACT = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "softmax": lambda z: torch.softmax(z, dim=-1),
    "gelu": F.gelu,
    "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
    "elu": F.elu,
    "selu": F.selu,
    "silu": F.silu,
    # xpnet's softplus is exact; torch returns z above its threshold 20 (1e-10 relative off)
    "softplus": lambda z: F.softplus(z, threshold=40.0),
}


# -- targets and torch losses ---------------------------------------------------
def _targets(kind: str, n: int, n_out: int, rng):
    """``(y for xpnet, target tensor for the torch loss)``."""
    if kind == "binary_labels":  # one sigmoid unit, labels as a 1-D vector
        y = rng.integers(0, 2, n)
        return y, torch.tensor(y, dtype=torch.float64).reshape(n, 1)
    if kind == "multi_label":  # several sigmoid units, 0/1 each
        y = rng.integers(0, 2, (n, n_out)).astype(np.float64)
        return y, torch.tensor(y)
    if kind == "soft_binary":  # probabilities in [0, 1] per sigmoid unit
        y = rng.random((n, n_out))
        return y, torch.tensor(y)
    if kind == "class_labels":  # integer labels for softmax
        y = rng.integers(0, n_out, n)
        y[:n_out] = np.arange(n_out)  # every class present
        return y, torch.tensor(y, dtype=torch.int64)
    if kind == "one_hot":
        labels = rng.integers(0, n_out, n)
        y = np.eye(n_out)[labels]
        return y, torch.tensor(y)
    if kind == "soft_probs":  # probability rows (each sums to 1)
        y = rng.dirichlet(np.ones(n_out), size=n)
        return y, torch.tensor(y)
    if kind == "regression":
        y = rng.standard_normal((n, n_out)) if n_out > 1 else rng.standard_normal(n)
        return y, torch.tensor(y, dtype=torch.float64).reshape(n, n_out)
    if kind == "unit_interval":  # regression targets inside a sigmoid's range
        y = rng.random((n, n_out))
        return y, torch.tensor(y)
    if kind == "symmetric_unit":  # regression targets inside tanh's range
        y = rng.uniform(-0.9, 0.9, (n, n_out))
        return y, torch.tensor(y)
    raise AssertionError(kind)


def _torch_loss(loss: str, Z, A, T, n: int):
    """The loss with torch's own functions: the cross-entropies are means over rows of per-row
    sums over units, the regression losses means over rows and units (torch's default)."""
    if loss == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(Z, T, reduction="sum") / n
    if loss == "cross_entropy":  # class indices or class probabilities
        return F.cross_entropy(Z, T, reduction="sum") / n
    if loss == "mse":  # half of torch's MSELoss, the mean over rows and outputs
        return F.mse_loss(A, T) / 2
    if loss == "huber":
        return F.huber_loss(A, T, delta=1.0)
    if loss == "absolute_error":
        return F.l1_loss(A, T)
    raise AssertionError(loss)


# (output, loss, n_out, target kind)
PAIRINGS = [
    ("sigmoid", "binary_cross_entropy", 1, "binary_labels"),
    ("sigmoid", "binary_cross_entropy", 3, "multi_label"),
    ("sigmoid", "binary_cross_entropy", 2, "soft_binary"),
    ("softmax", "cross_entropy", 4, "class_labels"),
    ("softmax", "cross_entropy", 3, "one_hot"),
    ("softmax", "cross_entropy", 3, "soft_probs"),
    ("identity", "mse", 1, "regression"),
    ("identity", "mse", 3, "regression"),
    ("sigmoid", "mse", 1, "unit_interval"),
    ("sigmoid", "mse", 2, "unit_interval"),
    ("tanh", "mse", 2, "symmetric_unit"),
    ("softmax", "mse", 3, "soft_probs"),
    ("relu", "mse", 2, "regression"),
    ("leaky_relu", "mse", 2, "regression"),
    ("identity", "huber", 1, "regression"),
    ("identity", "huber", 3, "regression"),
    ("identity", "absolute_error", 3, "regression"),
    ("sigmoid", "huber", 2, "unit_interval"),
    ("tanh", "absolute_error", 2, "symmetric_unit"),
    ("gelu", "mse", 2, "regression"),
    ("softplus", "huber", 2, "regression"),
    ("selu", "absolute_error", 2, "regression"),
]


def _pairing_id(p):
    return f"{p[0]}+{p[1]}-{p[2]}out-{p[3]}"


# -- building both networks -------------------------------------------------------
def _random_params(sizes, rng, scale=1.0):
    return [(rng.standard_normal((i, o)) * scale / np.sqrt(i), 0.5 * rng.standard_normal(o))
            for i, o in zip(sizes[:-1], sizes[1:])]


def _model(backend, sizes, hidden, output, loss, rng, scale=1.0):
    model = xpnet.MLP(sizes, hidden=hidden, output=output, loss=loss, dtype="float64",
                      backend=backend)
    model.set_params(_random_params(sizes, rng, scale))
    return model


def _torch_params(params):
    return [(torch.tensor(xpnet.to_numpy(W), dtype=torch.float64, requires_grad=True),
             torch.tensor(xpnet.to_numpy(b), dtype=torch.float64, requires_grad=True))
            for W, b in params]


def _torch_forward(tparams, X, acts, masks=None):
    """Layers ``A @ W + b`` then the activation; ``masks[l]`` multiplies hidden layer ``l``."""
    A = X
    for l, ((W, b), act) in enumerate(zip(tparams, acts)):
        Z = A @ W + b
        A = TORCH_ACT[act](Z)
        if masks is not None and l < len(masks):
            A = A * masks[l]
    return Z, A


def _torch_grads(tparams, X, acts, loss, T, masks=None):
    Z, A = _torch_forward(tparams, torch.tensor(np.array(xpnet.to_numpy(X))), acts, masks)
    value = _torch_loss(loss, Z, A, T, X.shape[0])
    value.backward()
    return value.item(), Z, A


def _compare(model, X, y, T_torch, hidden_names):
    tparams = _torch_params(model.params)
    acts = [*hidden_names, model.output.name]
    want_loss, _, _ = _torch_grads(tparams, X, acts, model.loss_fn.name, T_torch)
    got_loss, grads = model.gradients(X, y)
    assert isinstance(got_loss, float)
    np.testing.assert_allclose(got_loss, want_loss, rtol=RTOL, atol=ATOL, err_msg="gradients() loss")
    np.testing.assert_allclose(model.loss(X, y), want_loss, rtol=RTOL, atol=ATOL, err_msg="loss()")
    assert len(grads) == len(tparams)
    for l, ((dW, db), (W, b), (tW, tb)) in enumerate(zip(grads, model.params, tparams)):
        assert xpnet.backend.backend_of(dW) == model.backend
        assert tuple(dW.shape) == tuple(W.shape) and tuple(db.shape) == tuple(b.shape)
        np.testing.assert_allclose(xpnet.to_numpy(dW), tW.grad.numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"dW of layer {l}")
        np.testing.assert_allclose(xpnet.to_numpy(db), tb.grad.numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"db of layer {l}")
    return got_loss


# -- MLP.gradients / MLP.loss -------------------------------------------------------
@pytest.mark.parametrize("pairing", PAIRINGS, ids=[_pairing_id(p) for p in PAIRINGS])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_one_hidden_layer(backend, hidden, pairing):
    output, loss, n_out, kind = pairing
    rng = np.random.default_rng(zlib.crc32(repr((hidden, pairing)).encode()))
    model = _model(backend, [3, 5, n_out], hidden, output, loss, rng)
    X = rng.standard_normal((N, 3))
    y, T = _targets(kind, N, n_out, rng)
    _compare(model, X, y, T, [hidden])


@pytest.mark.parametrize("pairing", PAIRINGS, ids=[_pairing_id(p) for p in PAIRINGS])
def test_no_hidden_layer(backend, pairing):
    """A single layer (logistic/softmax/linear regression)."""
    output, loss, n_out, kind = pairing
    rng = np.random.default_rng(11)
    model = _model(backend, [4, n_out], "relu", output, loss, rng)
    X = rng.standard_normal((N, 4))
    y, T = _targets(kind, N, n_out, rng)
    _compare(model, X, y, T, [])


DEEP = [
    ([4, 6, 5, 3], ["relu", "tanh"], "softmax", "cross_entropy", "class_labels"),
    ([4, 6, 5, 4, 3], ["relu", "tanh", "leaky_relu"], "softmax", "cross_entropy", "soft_probs"),
    ([3, 5, 4, 5, 2], ["sigmoid", "softmax", "identity"], "sigmoid", "binary_cross_entropy",
     "multi_label"),
    ([3, 6, 6, 4, 1], ["leaky_relu", "relu", "sigmoid"], "sigmoid", "binary_cross_entropy",
     "binary_labels"),
    ([5, 4, 4, 4, 2], ["tanh", "identity", "relu"], "identity", "mse", "regression"),
    ([2, 5, 3, 1], ["tanh", "sigmoid"], "sigmoid", "mse", "unit_interval"),
    ([3, 4, 4, 4, 4, 2], ["softmax", "leaky_relu", "tanh", "sigmoid"], "tanh", "mse",
     "symmetric_unit"),
    ([4, 6, 5, 4, 3], ["gelu", "selu", "silu"], "softmax", "cross_entropy", "class_labels"),
    ([3, 6, 5, 4, 2], ["elu", "gelu_tanh", "softplus"], "identity", "huber", "regression"),
]


@pytest.mark.parametrize("case", DEEP, ids=["-".join(c[1]) + f"-{c[2]}" for c in DEEP])
def test_deep_mixed_activations(backend, case):
    sizes, hidden, output, loss, kind = case
    rng = np.random.default_rng(len(sizes) * 7 + len(kind))
    model = _model(backend, sizes, hidden, output, loss, rng, scale=1.5)
    X = rng.standard_normal((N, sizes[0]))
    y, T = _targets(kind, N, sizes[-1], rng)
    _compare(model, X, y, T, hidden)


def test_backend_arrays_as_input(backend):
    """X and y already on the model's backend give the same numbers as NumPy input."""
    rng = np.random.default_rng(5)
    model = _model(backend, [3, 4, 3], "tanh", "softmax", None, rng)
    X = rng.standard_normal((N, 3))
    y, T = _targets("one_hot", N, 3, rng)
    f64 = backend.dtype("float64")
    _compare(model, backend.asarray(X, f64), backend.asarray(y, f64), T, ["tanh"])
    assert model.loss_fn.name == "cross_entropy"  # loss=None picked the matched loss


@pytest.mark.parametrize("output, loss, kind", [
    ("sigmoid", "binary_cross_entropy", "multi_label"),
    ("softmax", "cross_entropy", "class_labels"),
])
def test_extreme_logits_stay_finite(backend, output, loss, kind):
    """Logits of +-hundreds: the losses from logits and the gradients stay exact and finite."""
    rng = np.random.default_rng(9)
    model = _model(backend, [3, 4, 3], "identity", output, loss, rng, scale=80.0)
    X = rng.standard_normal((N, 3)) * 5
    y, T = _targets(kind, N, 3, rng)
    got = _compare(model, X, y, T, ["identity"])
    assert np.isfinite(got) and got > 10  # confidently wrong somewhere: large but finite


def _check_multi_hot_softmax(backend):
    rng = np.random.default_rng(3)
    model = _model(backend, [3, 4, 3], "tanh", "softmax", "cross_entropy", rng)
    X = rng.standard_normal((N, 3))
    y = np.zeros((N, 3))
    y[:, 0] = 1.0
    y[::2, 1] = 1.0  # rows summing to 2: valid [0, 1] entries but not a distribution
    try:
        model.gradients(X, y)
    except xpnet.InvalidArgumentError:
        return  # rejecting such targets is a fine fix too
    _compare(model, X, y, torch.tensor(y), ["tanh"])


def test_softmax_targets_not_summing_to_one(backend):
    _check_multi_hot_softmax(backend)


# -- train_step with dropout masks -----------------------------------------------------
def _masks(rng, n, hidden_sizes, keep):
    return [(rng.random((n, h)) < keep).astype(np.float64) / keep for h in hidden_sizes]


STEP_CASES = [
    ([4, 6, 5, 3], ["relu", "tanh"], "softmax", "cross_entropy", "class_labels", 2),
    ([4, 6, 5, 3], ["leaky_relu", "sigmoid"], "softmax", "cross_entropy", "soft_probs", 1),
    ([3, 5, 4, 2], ["tanh", "softmax"], "sigmoid", "binary_cross_entropy", "multi_label", 2),
    ([3, 5, 1], ["relu"], "sigmoid", "binary_cross_entropy", "binary_labels", 1),
    ([3, 5, 4, 2], ["sigmoid", "identity"], "identity", "mse", "regression", 2),
    ([2, 5, 4, 1], ["tanh", "relu"], "sigmoid", "mse", "unit_interval", 2),
    ([2, 5, 4, 1], ["tanh", "relu"], "sigmoid", "mse", "unit_interval", 0),
    ([3, 5, 4, 2], ["gelu", "elu"], "identity", "absolute_error", "regression", 2),
    ([3, 5, 4, 3], ["silu", "softplus"], "softmax", "cross_entropy", "class_labels", 2),
]


def _step_id(c):
    return "-".join(c[1]) + f"-{c[2]}+{c[3]}-{c[5]}masks"


def _host_targets(model, y, n):
    return as_targets(y, n, model.sizes[-1], model.output.name, model.backend,
                                 model.dtype)


@pytest.mark.parametrize("case", STEP_CASES, ids=[_step_id(c) for c in STEP_CASES])
def test_train_step_with_masks_matches_torch_sgd(backend, case):
    sizes, hidden, output, loss, kind, n_masks = case
    rng = np.random.default_rng(21 + n_masks + len(sizes))
    n = 9
    model = _model(backend, sizes, hidden, output, loss, rng)
    X = rng.standard_normal((n, sizes[0]))
    y, T_torch = _targets(kind, n, sizes[-1], rng)
    masks_host = _masks(rng, n, sizes[1:-1], keep=0.6)[:n_masks]
    f64 = backend.dtype("float64")
    Xd = backend.asarray(X, f64)
    Td = _host_targets(model, y, n)
    masks = [backend.asarray(m, f64) for m in masks_host] if n_masks else None

    lr = 0.3
    opt = xpnet.optim.sgd(lr=lr)
    params = [a for pair in model.params for a in pair]
    new_params, state, loss_value, A = xpnet.train_step(params, opt.init(params), Xd, Td, model,
                                                        opt, masks)

    tparams = _torch_params(model.params)
    flat = [t for pair in tparams for t in pair]
    topt = torch.optim.SGD(flat, lr=lr)
    tmasks = [torch.tensor(m) for m in masks_host] if n_masks else None
    want_loss, _, tA = _torch_grads(tparams, X, [*hidden, output], loss, T_torch, tmasks)
    topt.step()

    assert state["t"] == 1
    assert tuple(loss_value.shape) == ()
    np.testing.assert_allclose(float(xpnet.to_numpy(loss_value)), want_loss, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(xpnet.to_numpy(A), tA.detach().numpy(), rtol=RTOL, atol=ATOL)
    assert len(new_params) == len(flat)
    for i, (p, tp) in enumerate(zip(new_params, flat)):
        np.testing.assert_allclose(xpnet.to_numpy(p), tp.detach().numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"flat param {i} after the step")
    # train_step returns new arrays and leaves the model's own parameters alone
    for (W, b), (W0, b0) in zip(model.params, zip(params[0::2], params[1::2])):
        assert W is W0 and b is b0


def test_train_step_masks_change_the_gradient(backend):
    """The masks really enter forward and backward: masked and unmasked steps differ."""
    rng = np.random.default_rng(8)
    model = _model(backend, [3, 6, 2], "tanh", "softmax", None, rng)
    X = rng.standard_normal((N, 3))
    y = rng.integers(0, 2, N)
    f64 = backend.dtype("float64")
    Xd, Td = backend.asarray(X, f64), _host_targets(model, y, N)
    opt = xpnet.optim.sgd(lr=1.0)
    params = [a for pair in model.params for a in pair]
    mask = _masks(rng, N, [6], keep=0.5)
    assert 0 < mask[0].sum() < mask[0].size * 2
    plain, _, _, _ = xpnet.train_step(params, opt.init(params), Xd, Td, model, opt, None)
    masked, _, _, _ = xpnet.train_step(params, opt.init(params), Xd, Td, model, opt,
                                       [backend.asarray(mask[0], f64)])
    assert not np.allclose(xpnet.to_numpy(plain[0]), xpnet.to_numpy(masked[0]))
    # a mask of ones is no dropout at all
    ones, _, _, _ = xpnet.train_step(params, opt.init(params), Xd, Td, model, opt,
                                     [backend.asarray(np.ones((N, 6)), f64)])
    for a, b in zip(plain, ones):
        np.testing.assert_allclose(xpnet.to_numpy(a), xpnet.to_numpy(b), rtol=0, atol=0)


def test_train_steps_with_adam_and_fresh_masks(backend):
    """Three Adam steps, a new dropout mask each step, against torch.optim.Adam."""
    rng = np.random.default_rng(17)
    sizes, hidden = [4, 6, 5, 3], ["relu", "tanh"]
    n = 8
    model = _model(backend, sizes, hidden, "softmax", None, rng)
    X = rng.standard_normal((n, 4))
    y, T_torch = _targets("class_labels", n, 3, rng)
    f64 = backend.dtype("float64")
    Xd, Td = backend.asarray(X, f64), _host_targets(model, y, n)
    opt = xpnet.optim.adam(lr=0.05, weight_decay=0.01)
    params = [a for pair in model.params for a in pair]
    state = opt.init(params)
    tparams = _torch_params(model.params)
    flat = [t for pair in tparams for t in pair]
    topt = torch.optim.Adam(flat, lr=0.05, weight_decay=0.01)
    for step in range(3):
        masks_host = _masks(rng, n, sizes[1:-1], keep=0.7)
        masks = [backend.asarray(m, f64) for m in masks_host]
        params, state, loss_value, _ = xpnet.train_step(params, state, Xd, Td, model, opt, masks)
        topt.zero_grad()
        want_loss, _, _ = _torch_grads(tparams, X, [*hidden, "softmax"], "cross_entropy",
                                       T_torch, [torch.tensor(m) for m in masks_host])
        topt.step()
        np.testing.assert_allclose(float(xpnet.to_numpy(loss_value)), want_loss, rtol=RTOL)
        for i, (p, tp) in enumerate(zip(params, flat)):
            np.testing.assert_allclose(xpnet.to_numpy(p), tp.detach().numpy(), rtol=RTOL,
                                       atol=ATOL, err_msg=f"param {i} after step {step + 1}")
