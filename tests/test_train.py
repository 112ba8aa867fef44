"""train(): minibatches, shuffling, reproducibility across backends, validation, early stopping."""

import math

import numpy as np
import pytest

import xpnet
import xpnet.loop as loop_module
from xpnet import datasets


@pytest.fixture
def blobs():
    X, y = datasets.blobs(n_samples=60, n_features=3, centers=3, seed=1)
    X, _, _ = datasets.standardize(X)
    return X, y


def host_params(model):
    return [(xpnet.to_numpy(W), xpnet.to_numpy(b)) for W, b in model.params]


def test_full_batch_gradient_descent_is_the_textbook_loop(backend, blobs):
    """batch_size=None: one step per epoch, W -= lr * dW with dW from model.gradients."""
    X, y = blobs
    model = xpnet.MLP([3, 5, 3], hidden="tanh", output="softmax", seed=0, dtype="float64", backend=backend.spec)
    ref = xpnet.MLP([3, 5, 3], hidden="tanh", output="softmax", seed=0, dtype="float64")
    losses = []
    for _ in range(5):
        value, grads = ref.gradients(X, y)
        losses.append(value)
        ref.set_params([(W - 0.5 * dW, b - 0.5 * db) for (W, b), (dW, db) in zip(ref.params, grads)])
    history = xpnet.train(model, X, y, epochs=5, lr=0.5)
    np.testing.assert_allclose(history.loss, losses, rtol=1e-12)
    for (W, b), (W0, b0) in zip(host_params(model), ref.params):
        np.testing.assert_allclose(W, W0, rtol=1e-12)
        np.testing.assert_allclose(b, b0, rtol=1e-12)


def test_minibatches_without_shuffle_walk_the_rows_in_order(backend, blobs):
    X, y = blobs
    model = xpnet.MLP([3, 4, 3], output="softmax", seed=0, dtype="float64", backend=backend.spec)
    ref = xpnet.MLP([3, 4, 3], output="softmax", seed=0, dtype="float64")
    total = 0.0
    for start in range(0, 60, 25):  # batches of 25, 25, 10
        value, grads = ref.gradients(X[start:start + 25], y[start:start + 25])
        total += value * len(X[start:start + 25])
        ref.set_params([(W - 0.1 * dW, b - 0.1 * db) for (W, b), (dW, db) in zip(ref.params, grads)])
    history = xpnet.train(model, X, y, epochs=1, batch_size=25, lr=0.1, shuffle=False)
    assert history.loss[0] == pytest.approx(total / 60, rel=1e-12)
    np.testing.assert_allclose(host_params(model)[0][0], ref.params[0][0], rtol=1e-12)


def test_shuffle_uses_the_seeded_host_permutation(blobs):
    X, y = blobs
    model = xpnet.MLP([3, 4, 3], output="softmax", seed=0, dtype="float64")
    ref = xpnet.MLP([3, 4, 3], output="softmax", seed=0, dtype="float64")
    order = np.random.default_rng(9).permutation(60)
    Xs, ys = X[order], y[order]
    xpnet.train(ref, Xs, ys, epochs=1, batch_size=20, lr=0.1, shuffle=False)
    xpnet.train(model, X, y, epochs=1, batch_size=20, lr=0.1, seed=9)
    np.testing.assert_allclose(host_params(model)[0][0], ref.params[0][0], rtol=1e-12)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_same_seed_same_history_on_every_backend(backend, blobs, dropout):
    X, y = blobs
    kwargs = dict(epochs=4, batch_size=16, optimizer="adam", lr=0.01, dropout=dropout, seed=3,
                  validation_data=(X[:20], y[:20]))
    ref_model = xpnet.MLP([3, 6, 5, 3], output="softmax", seed=1, dtype="float64")
    ref = xpnet.train(ref_model, X, y, **kwargs)
    model = xpnet.MLP([3, 6, 5, 3], output="softmax", seed=1, dtype="float64", backend=backend.spec)
    got = xpnet.train(model, X, y, **kwargs)
    if backend.name in ("numpy", "array_api_strict"):  # the same arithmetic: bit for bit
        assert got.loss == ref.loss and got.val_loss == ref.val_loss and got.accuracy == ref.accuracy
    else:
        np.testing.assert_allclose(got.loss, ref.loss, rtol=1e-10)
        np.testing.assert_allclose(got.val_loss, ref.val_loss, rtol=1e-10)
    for (W, b), (W0, b0) in zip(host_params(model), host_params(ref_model)):
        np.testing.assert_allclose(W, W0, rtol=1e-10, atol=1e-12)


def test_dropout_changes_training_but_not_inference(blobs):
    X, y = blobs
    a = xpnet.MLP([3, 8, 3], output="softmax", seed=0, dtype="float64")
    b = xpnet.MLP([3, 8, 3], output="softmax", seed=0, dtype="float64")
    ha = xpnet.train(a, X, y, epochs=3, batch_size=20, lr=0.1, dropout=0.5, seed=1)
    hb = xpnet.train(b, X, y, epochs=3, batch_size=20, lr=0.1, dropout=0.0, seed=1)
    assert ha.loss != hb.loss
    np.testing.assert_array_equal(a.forward(X), a.forward(X))  # no dropout at inference


def test_dropout_masks_are_inverted_and_scaled(monkeypatch, blobs):
    """Each mask entry is 0 or 1/keep, and about `keep` of them survive."""
    X, y = blobs
    seen = []
    real_step = loop_module.train_step

    def spy(params, state, Xb, Tb, model, opt, masks=None, **kw):
        seen.append([xpnet.to_numpy(m) for m in masks])
        return real_step(params, state, Xb, Tb, model, opt, masks, **kw)

    monkeypatch.setattr(loop_module, "train_step", spy)
    model = xpnet.MLP([3, 200, 3], output="softmax", seed=0, dtype="float64")
    xpnet.train(model, X, y, epochs=2, batch_size=30, lr=0.1, dropout=0.25)
    masks = np.concatenate([m[0] for m in seen])
    assert masks.shape == (120, 200)
    assert set(np.unique(masks)) == {0.0, 1 / 0.75}
    assert (masks > 0).mean() == pytest.approx(0.75, abs=0.02)


def test_training_on_another_backend_writes_back_to_the_model(backend, blobs):
    X, y = blobs
    model = xpnet.MLP([3, 4, 3], output="softmax", seed=0, dtype="float64")
    direct = xpnet.MLP([3, 4, 3], output="softmax", seed=0, dtype="float64", backend=backend.spec)
    xpnet.train(model, X, y, epochs=3, lr=0.3, backend=backend.spec)
    xpnet.train(direct, X, y, epochs=3, lr=0.3)
    assert model.backend.name == "numpy"
    np.testing.assert_allclose(model.params[0][0], xpnet.to_numpy(direct.params[0][0]), rtol=1e-10)


def test_backend_none_follows_the_data(backend, blobs):
    X, y = blobs
    model = xpnet.MLP([3, 4, 3], output="softmax", seed=0)
    Xd, yd = backend.asarray(X), backend.asarray(y)
    history = xpnet.train(model, Xd, yd, epochs=2, lr=0.1)
    assert history.epochs == 2
    assert model.backend.name == "numpy"


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"])
def test_every_optimizer_lowers_the_loss(backend, blobs, optimizer):
    X, y = blobs
    model = xpnet.MLP([3, 8, 3], output="softmax", seed=0, backend=backend.spec)
    history = xpnet.train(model, X, y, epochs=30, batch_size=20, optimizer=optimizer,
                          lr=0.05 if optimizer in ("sgd", "momentum", "nesterov", "adagrad") else 0.01,
                          weight_decay=1e-4)
    assert history.loss[-1] < 0.8 * history.loss[0]


def test_validation_history_and_accuracy(backend, blobs):
    X, y = blobs
    model = xpnet.MLP([3, 8, 3], output="softmax", seed=0, backend=backend.spec)
    h = xpnet.train(model, X[:40], y[:40], epochs=20, batch_size=10, lr=0.1, validation_data=(X[40:], y[40:]))
    assert len(h.loss) == len(h.accuracy) == len(h.val_loss) == len(h.val_accuracy) == 20
    assert h.val_loss[-1] == pytest.approx(model.loss(X[40:], y[40:]), rel=1e-5)
    predicted = xpnet.to_numpy(model.predict(X[40:]))
    assert h.val_accuracy[-1] == pytest.approx((predicted == y[40:]).mean())
    assert 0 <= min(h.accuracy) and max(h.accuracy) <= 1


def test_regression_history_has_no_accuracy(backend, rng):
    X = rng.standard_normal((30, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5
    model = xpnet.MLP([2, 1], output="identity", init="normal", backend=backend.spec)
    h = xpnet.train(model, X, y, epochs=200, lr=0.1)
    assert h.accuracy == [] and h.loss[-1] < 1e-3
    W, b = host_params(model)[0]
    np.testing.assert_allclose(W[:, 0], [1.0, -2.0], atol=0.05)


def test_early_stopping_restores_the_best_weights(backend):
    X, y = datasets.teacher(n_samples=80, n_features=10, n_classes=2, noise=1.5, seed=0)
    Xv, yv = datasets.teacher(n_samples=80, n_features=10, n_classes=2, noise=1.5, seed=1)
    kwargs = dict(batch_size=8, optimizer="adam", lr=0.02, seed=0, validation_data=(Xv, yv))
    model = xpnet.MLP([10, 64, 1], seed=0, dtype="float64", backend=backend.spec)
    h = xpnet.train(model, X, y, epochs=300, early_stopping=5, **kwargs)
    assert h.stopped_early
    assert h.epochs == h.best_epoch + 1 + 5
    assert min(h.val_loss) == h.val_loss[h.best_epoch]
    again = xpnet.MLP([10, 64, 1], seed=0, dtype="float64", backend=backend.spec)
    xpnet.train(again, X, y, epochs=h.best_epoch + 1, **kwargs)
    for (W, b), (W0, b0) in zip(host_params(model), host_params(again)):
        np.testing.assert_array_equal(W, W0)
    assert model.loss(Xv, yv) == pytest.approx(h.val_loss[h.best_epoch], rel=1e-12)


def test_early_stopping_on_training_loss_and_options():
    X, y = datasets.xor(n_repeats=2)
    model = xpnet.MLP([2, 1])  # a linear model cannot learn XOR: the loss plateaus
    h = xpnet.train(model, X, y, epochs=5000, lr=0.5,
                    early_stopping=xpnet.EarlyStopping(patience=3, min_delta=1e-3))
    assert h.stopped_early and h.epochs < 5000
    with pytest.raises(xpnet.InvalidArgumentError, match="needs validation_data"):
        xpnet.train(model, X, y, epochs=2, early_stopping=xpnet.EarlyStopping(monitor="val_loss"))
    with pytest.raises(xpnet.InvalidArgumentError, match="patience"):
        xpnet.EarlyStopping(patience=0)


def test_one_host_sync_per_interval_not_per_batch(monkeypatch, blobs):
    X, y = blobs
    calls = []
    real = loop_module.to_numpy
    monkeypatch.setattr(loop_module, "to_numpy", lambda a: calls.append(1) or real(a))
    model = xpnet.MLP([3, 4, 3], output="softmax")
    xpnet.train(model, X, y, epochs=30, batch_size=5, lr=0.1)  # 360 steps
    assert len(calls) == 1
    calls.clear()
    xpnet.train(model, X, y, epochs=30, batch_size=5, lr=0.1, sync_every=10)
    assert len(calls) == 3


def test_verbose_prints_progress(capsys, blobs):
    X, y = blobs
    xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), X, y, epochs=20, lr=0.1, verbose=True,
                validation_data=(X, y))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10
    assert lines[-1].startswith("epoch 20/20  loss ") and "val_accuracy" in lines[-1]
    xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), X, y, epochs=20, lr=0.1, verbose=5)
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), X, y, epochs=20, lr=0.1)
    assert capsys.readouterr().out == ""


def test_divergence_stops_with_a_clear_error_and_finite_weights(backend):
    X, y = datasets.blobs(n_samples=40, n_features=2, centers=2, seed=0)
    model = xpnet.MLP([2, 16, 1], output="identity", backend=backend.spec)
    with pytest.raises(xpnet.TrainingDivergedError, match="lower the learning rate"):
        xpnet.train(model, X * 100, y * 1e3, epochs=200, lr=10.0)
    for W, b in host_params(model):
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))


def test_ctrl_c_keeps_the_last_completed_step(monkeypatch, blobs):
    X, y = blobs
    steps = []
    real_step = loop_module.train_step

    def interrupt_at_7(*args, **kwargs):
        if len(steps) == 7:
            raise KeyboardInterrupt
        out = real_step(*args, **kwargs)
        steps.append([np.array(xpnet.to_numpy(p)) for p in out[0]])  # copies: updates are in place
        return out

    monkeypatch.setattr(loop_module, "train_step", interrupt_at_7)
    model = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
    with pytest.raises(KeyboardInterrupt) as stopped:
        xpnet.train(model, X, y, epochs=10, batch_size=20, lr=0.1)  # 3 steps per epoch
    np.testing.assert_array_equal(model.params[0][0], steps[-1][0])
    assert not np.array_equal(steps[-1][0], steps[-2][0])
    assert len(steps) == 7
    assert stopped.value.history.epochs == 2  # epochs 1 and 2 completed (6 steps), the 3rd did not


def test_a_real_ctrl_c_inside_a_step_lands_after_it(monkeypatch, blobs):
    """SIGINT in the middle of an (in-place) step is held until the step is complete."""
    signal = pytest.importorskip("signal")
    if not hasattr(signal, "raise_signal"):
        pytest.skip("signal.raise_signal is not available")
    X, y = blobs
    steps = []
    real_step = loop_module.train_step

    def signal_inside_step_5(*args, **kwargs):
        if len(steps) == 4:
            signal.raise_signal(signal.SIGINT)  # Python runs handlers between bytecodes: now, mid-step
        out = real_step(*args, **kwargs)
        steps.append([np.array(xpnet.to_numpy(p)) for p in out[0]])
        return out

    monkeypatch.setattr(loop_module, "train_step", signal_inside_step_5)
    model = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
    with pytest.raises(KeyboardInterrupt) as stopped:
        xpnet.train(model, X, y, epochs=10, batch_size=20, lr=0.1)
    assert len(steps) == 5  # the step the signal arrived in was finished, no further one started
    for got, want in zip([a for pair in model.params for a in pair], steps[-1]):
        np.testing.assert_array_equal(xpnet.to_numpy(got), want)
    assert stopped.value.history.epochs == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # train put the handler back


def test_train_never_writes_into_the_callers_arrays(backend, blobs):
    """Training updates its own copy in place: arrays given to set_params, and the model's
    arrays from before the call, keep their values."""
    X, y = blobs
    model = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64", backend=backend.spec)
    mine = [(backend.asarray(np.array(W)), backend.asarray(np.array(b))) for W, b in host_params(model)]
    model.set_params(mine)
    frozen = [(np.array(xpnet.to_numpy(W)), np.array(xpnet.to_numpy(b))) for W, b in mine]
    before = model.params
    for optimizer in ("sgd", "adam"):
        xpnet.train(model, X, y, epochs=3, batch_size=20, lr=0.1, optimizer=optimizer, momentum=0.0)
    for (W, b), (W0, b0) in zip(mine, frozen):
        np.testing.assert_array_equal(xpnet.to_numpy(W), W0)
        np.testing.assert_array_equal(xpnet.to_numpy(b), b0)
    for (W, b), (W0, b0) in zip(before, frozen):
        np.testing.assert_array_equal(xpnet.to_numpy(W), W0)
    assert not np.array_equal(host_params(model)[0][0], frozen[0][0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=0), "epochs must be a positive int"),
    (dict(batch_size=0), "batch_size must be a positive int or None"),
    (dict(dropout=1.0), r"dropout must be in \[0.0, 1.0\)"),
    (dict(lr=-0.1), r"lr must be in \(0.0"),
    (dict(optimizer="lbfgs"), "sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"),
    (dict(momentum=0.9, optimizer="adam"), "do not apply"),
    (dict(validation_data=(np.zeros((2, 3)),)), "pair"),
    (dict(verbose=-1), "verbose"),
    (dict(early_stopping="yes"), "early_stopping"),
])
def test_bad_arguments_fail_before_training(blobs, kwargs, match):
    X, y = blobs
    with pytest.raises(xpnet.XpnetError, match=match):
        xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), X, y, **kwargs)
    with pytest.raises(xpnet.InvalidTypeError, match="xpnet.MLP"):
        xpnet.train("model", X, y)


def test_history_as_dict(blobs):
    X, y = blobs
    h = xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), X, y, epochs=3)
    d = h.as_dict()
    assert d["loss"] == h.loss and h.epochs == 3 and h.seconds > 0
    assert all(math.isfinite(v) for v in d["loss"])
