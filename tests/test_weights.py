"""Sample and class weights: the weighted mean loss and its gradient, against PyTorch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet import datasets

CASES = [  # (output, loss, n_out, torch loss of logits z, targets t, weights w: per-row losses)
    ("softmax", None, 3), ("sigmoid", None, 1), ("sigmoid", None, 2), ("identity", None, 2),
    ("identity", "huber", 2), ("identity", "absolute_error", 1), ("sigmoid", "mse", 1),
]


def _problem(output, n_out, n=11, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    if output == "softmax":
        y = rng.integers(0, n_out, n)
    elif output == "sigmoid":
        y = rng.integers(0, 2, (n, n_out)).astype(float) if n_out > 1 else rng.integers(0, 2, n)
    else:
        y = rng.standard_normal((n, n_out)) if n_out > 1 else rng.standard_normal(n)
    return X, y, rng.uniform(0.0, 3.0, n)


def _torch_step(model, X, y, w, output, loss):
    """Loss and gradients of the weighted mean loss, by PyTorch autograd."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    params = [torch.tensor(np.array(xpnet.to_numpy(a)), requires_grad=True) for pair in model.params for a in pair]
    A = torch.tensor(X)
    for l in range(0, len(params) - 2, 2):
        A = torch.tanh(A @ params[l] + params[l + 1])
    z = A @ params[-2] + params[-1]
    T = torch.tensor(np.asarray(y, dtype=float).reshape(len(X), -1))
    wt = torch.tensor(w)
    if output == "softmax":
        per_row = F.cross_entropy(z, torch.tensor(y), reduction="none")
    elif loss == "mse":
        per_row = ((torch.sigmoid(z) - T) ** 2).mean(dim=1) / 2
    elif output == "sigmoid":
        per_row = F.binary_cross_entropy_with_logits(z, T, reduction="none").sum(dim=1)
    else:
        fn = {None: lambda a, t: F.mse_loss(a, t, reduction="none") / 2,
              "huber": lambda a, t: F.huber_loss(a, t, reduction="none"),
              "absolute_error": lambda a, t: F.l1_loss(a, t, reduction="none")}[loss]
        per_row = fn(z, T).mean(dim=1)
    value = (per_row * wt).sum() / wt.sum()
    value.backward()
    return value.item(), [p.grad.numpy() for p in params]


@pytest.mark.parametrize("output, loss, n_out", CASES)
def test_weighted_loss_and_gradient_match_pytorch(backend, output, loss, n_out):
    X, y, w = _problem(output, n_out)
    model = xpnet.MLP([3, 4, n_out], hidden="tanh", output=output, loss=loss, dtype="float64", seed=1,
                      backend=backend.spec)
    want_loss, want_grads = _torch_step(model, X, y, w, output, loss)
    before = [np.array(xpnet.to_numpy(a)) for pair in model.params for a in pair]
    h = xpnet.train(model, X, y, epochs=1, lr=1.0, sample_weight=w)  # one full-batch SGD step: p - grad
    np.testing.assert_allclose(h.loss[0], want_loss, rtol=1e-12)
    after = [xpnet.to_numpy(a) for pair in model.params for a in pair]
    for b, a, g in zip(before, after, want_grads):
        np.testing.assert_allclose(b - a, g, rtol=1e-9, atol=1e-12)


def test_weighted_gradient_matches_finite_differences():
    output, n_out = "softmax", 3
    X, y, w = _problem(output, n_out, seed=3)
    model = xpnet.MLP([3, 4, n_out], hidden="tanh", output=output, dtype="float64", seed=2)
    params = [np.array(a) for pair in model.params for a in pair]
    T = np.eye(n_out)[y]
    wn = (w / w.sum()).reshape(-1, 1)

    def value(ps):
        pairs = list(zip(ps[0::2], ps[1::2]))
        top = xpnet.model.forward(pairs, X, model.activations)[-1]
        return float(model.loss_fn.value(top.Z, top.A, T, wn))

    new, _, _, _ = xpnet.train_step([p.copy() for p in params], xpnet.optim.sgd(lr=1.0).init(params), X, T, model,
                                    xpnet.optim.sgd(lr=1.0), weights=wn)
    grads = [p - q for p, q in zip(params, new)]
    eps = 1e-6
    for i, p in enumerate(params):
        for j in np.ndindex(p.shape):
            up = [q.copy() for q in params]
            down = [q.copy() for q in params]
            up[i][j] += eps
            down[i][j] -= eps
            fd = (value(up) - value(down)) / (2 * eps)
            assert abs(fd - grads[i][j]) <= 1e-7 * max(1.0, abs(fd)), (i, j, fd, grads[i][j])


def test_a_weight_of_two_is_a_duplicated_row_and_zero_a_dropped_one(backend):
    X, y, _ = _problem("softmax", 3, n=12, seed=5)
    w = np.ones(12)
    w[[1, 4]] = 2.0
    w[[7, 9]] = 0.0
    twice = np.r_[np.arange(12), [1, 4]]
    kept = np.array([i for i in twice if i not in (7, 9)])
    kw = dict(epochs=5, lr=0.3, optimizer="adam")  # full batch: the same rows in every step
    weighted = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64", backend=backend.spec)
    hw = xpnet.train(weighted, X, y, sample_weight=w, **kw)
    plain = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64", backend=backend.spec)
    hp = xpnet.train(plain, X[kept], y[kept], **kw)
    np.testing.assert_allclose(hw.loss, hp.loss, rtol=1e-12)
    for a, b in zip(weighted.params, plain.params):
        np.testing.assert_allclose(xpnet.to_numpy(a[0]), xpnet.to_numpy(b[0]), rtol=1e-10, atol=1e-13)


def test_minibatch_epoch_loss_is_the_weighted_mean_over_the_epoch():
    X, y, w = _problem("identity", 1, n=10, seed=6)
    model = xpnet.MLP([3, 1], output="identity", dtype="float64", seed=0)
    before = model.copy()
    h = xpnet.train(model, X, y, epochs=1, batch_size=4, shuffle=False, lr=1e-12, sample_weight=w)
    pred = xpnet.to_numpy(before.forward(X))[:, 0]  # lr ~ 0: every batch sees the starting weights
    np.testing.assert_allclose(h.loss[0], np.sum(w * (pred - y) ** 2 / 2) / w.sum(), rtol=1e-9)


def test_balanced_class_weights_are_scikit_learns():
    sklearn = pytest.importorskip("sklearn.utils.class_weight")
    X, y = datasets.blobs(n_samples=50, n_features=3, centers=3, seed=1)
    y = np.r_[y[:30], np.zeros(20, dtype=int)]  # unbalanced
    table = sklearn.compute_class_weight("balanced", classes=np.unique(y), y=y)
    for cw, sw in (("balanced", table[y]), ({0: 0.5, 2: 3.0}, np.array([0.5, 1.0, 3.0])[y])):
        a = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
        b = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
        ha = xpnet.train(a, X, y, epochs=3, batch_size=16, lr=0.2, class_weight=cw)
        hb = xpnet.train(b, X, y, epochs=3, batch_size=16, lr=0.2, sample_weight=sw)
        assert ha.loss == hb.loss


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(sample_weight=-np.ones(20)), xpnet.InvalidArgumentError, "finite numbers >= 0"),
    (dict(sample_weight=np.ones(19)), xpnet.InvalidArgumentError, "19 weights but X has 20 rows"),
    (dict(sample_weight=np.zeros(20)), xpnet.InvalidArgumentError, "all 0"),
    (dict(sample_weight=np.ones((20, 2))), xpnet.InvalidArgumentError, "1-D"),
    (dict(sample_weight="heavy"), xpnet.InvalidTypeError, "sample_weight"),
    (dict(class_weight={5: 1.0}), xpnet.InvalidArgumentError, "label 5"),
    (dict(class_weight={0: -1.0}), xpnet.InvalidArgumentError, "class_weight\\[0\\]"),
    (dict(class_weight="even"), xpnet.InvalidTypeError, "balanced"),
])
def test_bad_weights_are_refused_before_training(kwargs, error, match):
    X, y = datasets.blobs(n_samples=20, n_features=3, centers=3, seed=1)
    model = xpnet.MLP([3, 4, 3], output="softmax")
    before = [np.array(a) for pair in model.params for a in pair]
    with pytest.raises(error, match=match):
        xpnet.train(model, X, y, epochs=2, **kwargs)
    for a, b in zip(before, (a for pair in model.params for a in pair)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(xpnet.InvalidArgumentError, match="class_weight needs class labels"):
        xpnet.train(xpnet.MLP([3, 4, 2], output="identity"), X, np.ones((20, 2)), class_weight="balanced")


def test_a_batch_whose_weights_are_all_zero_changes_nothing():
    X, y, _ = _problem("softmax", 3, n=8, seed=7)
    w = np.array([1.0, 2.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0])
    model = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
    h = xpnet.train(model, X, y, epochs=2, batch_size=4, shuffle=False, lr=0.5, sample_weight=w)
    ref = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
    h_ref = xpnet.train(ref, X[:4], y[:4], epochs=2, lr=0.5, sample_weight=w[:4])
    np.testing.assert_allclose(h.loss, h_ref.loss, rtol=1e-12)
    for a, b in zip(model.params, ref.params):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
