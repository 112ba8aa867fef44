"""Learning-rate schedules: their formulas, the rate each epoch trains with, resume mid-schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpnet
from xpnet import datasets, schedules
from xpnet.optim import Optimizer


@pytest.fixture
def blobs():
    return datasets.blobs(n_samples=60, n_features=3, centers=3, seed=0)


def _torch_rates(make, epochs=12, lr=0.5):
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(torch.optim.lr_scheduler, opt)
    rates = []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


@pytest.mark.parametrize("ours, theirs", [
    (schedules.StepDecay(0.5, step_size=3, gamma=0.3), lambda s, o: s.StepLR(o, step_size=3, gamma=0.3)),
    (schedules.ExponentialDecay(0.5, gamma=0.8), lambda s, o: s.ExponentialLR(o, gamma=0.8)),
    (schedules.CosineDecay(0.5, epochs=10, min_lr=0.01), lambda s, o: s.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
])
def test_schedules_match_torch(ours, theirs):
    want = _torch_rates(theirs)
    got = [ours(e) for e in range(12)][:10] + [ours(e) for e in range(10, 12)]
    np.testing.assert_allclose(got[:10], want[:10], rtol=1e-12)
    if isinstance(ours, schedules.CosineDecay):
        assert got[10:] == [0.01, 0.01]  # torch's cosine comes back up after T_max; ours stays at min_lr


def test_classic_inverse_time_decay_and_invscaling_and_warmup():
    decay = schedules.InverseTimeDecay(0.1, decay_rate=1.0, interval=1000)
    assert [decay(e) for e in (0, 999, 1000, 2500)] == [0.1, 0.1, 0.05, 0.1 / 3]
    inv = schedules.InverseScaling(0.01, samples=200, power_t=0.5)
    assert inv(0) == 0.01 and inv(3) == 0.01 / (601 ** 0.5)  # scikit-learn: lr0 / (t + 1) ** power_t
    warm = schedules.CosineDecay(1.0, epochs=10, warmup=4)
    assert [warm(e) for e in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert warm(4) == 1.0 and math.isclose(warm(7), 0.5) and warm(10) == 0.0
    assert repr(decay) == "InverseTimeDecay(lr=0.1, decay_rate=1.0, interval=1000)"


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"])
def test_a_schedule_trains_with_its_rate_every_epoch(backend, blobs, optimizer):
    """Epochs 0-1 at 0.2 then 2-3 at 0.02 equal a run that sets the rate itself, and history.lr says so."""
    X, y = blobs
    step = schedules.StepDecay(0.2, step_size=2, gamma=0.1)
    model = xpnet.MLP([3, 5, 3], output="softmax", dtype="float64", backend=backend.spec)
    h = xpnet.train(model, X, y, epochs=4, batch_size=20, shuffle=False, optimizer=optimizer, lr=step)
    np.testing.assert_allclose(h.lr, [0.2, 0.2, 0.02, 0.02], rtol=1e-15)
    ref = xpnet.MLP([3, 5, 3], output="softmax", dtype="float64", backend=backend.spec)
    by_hand = xpnet.train(ref, X, y, epochs=4, batch_size=20, shuffle=False, optimizer=optimizer, lr=0.2,
                          callbacks=[_SetRate({2: step(2)})])
    assert h.loss == by_hand.loss
    flat = lambda m: [xpnet.to_numpy(a) for pair in m.params for a in pair]  # noqa: E731
    for a, b in zip(flat(model), flat(ref)):
        np.testing.assert_array_equal(a, b)


class _SetRate(xpnet.Callback):
    """An independent way to change the rate: write it into the optimizer state at an epoch."""

    def __init__(self, rates):
        self.rates, self.every = rates, 1

    def on_epoch_end(self, run, epoch, logs):
        if epoch + 1 in self.rates:
            run.opt_state["lr"] = self.rates[epoch + 1]


def test_any_callable_of_the_epoch_is_a_schedule(blobs):
    X, y = blobs
    h = xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=3, lr=lambda e: 0.1 / (e + 1))
    assert h.lr == [0.1, 0.05, 0.1 / 3]


def test_a_checkpoint_mid_schedule_resumes_exactly(tmp_path, blobs):
    X, y = blobs
    kwargs = dict(batch_size=16, optimizer="adam", lr=schedules.CosineDecay(0.05, epochs=9, warmup=2), dropout=0.2,
                  seed=4, validation_data=(X[:20], y[:20]))
    full_model = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64")
    full = xpnet.train(full_model, X, y, epochs=9, callbacks=[xpnet.ReduceLROnPlateau(patience=1, factor=0.5)],
                       **kwargs)
    ckpt = tmp_path / "sched.npz"
    xpnet.train(xpnet.MLP([3, 6, 3], output="softmax", dtype="float64"), X, y, epochs=5, checkpoint=ckpt,
                callbacks=[xpnet.ReduceLROnPlateau(patience=1, factor=0.5)], **kwargs)
    model = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64", seed=42)
    resumed = xpnet.train(model, X, y, epochs=9, checkpoint=ckpt, resume=True,
                          callbacks=[xpnet.ReduceLROnPlateau(patience=1, factor=0.5)], **kwargs)
    assert resumed.lr == full.lr and resumed.loss == full.loss and resumed.val_loss == full.val_loss
    assert min(full.lr[2:]) < 0.05 * 0.5  # the plateau callback did lower the rate on the way
    for (W, b), (W0, b0) in zip(model.params, full_model.params):
        np.testing.assert_array_equal(W, W0)
    with pytest.raises(xpnet.InvalidArgumentError, match="lr_schedule"):
        xpnet.train(xpnet.MLP([3, 6, 3], output="softmax", dtype="float64"), X, y, epochs=9, checkpoint=ckpt,
                    resume=True, callbacks=[xpnet.ReduceLROnPlateau(patience=1, factor=0.5)],
                    **{**kwargs, "lr": schedules.CosineDecay(0.05, epochs=12, warmup=2)})


def test_bad_schedules_are_refused_naming_the_epoch(blobs):
    X, y = blobs
    model = xpnet.MLP([3, 5, 3], output="softmax")
    with pytest.raises(xpnet.InvalidArgumentError, match="gave -0.1 at epoch 0"):
        xpnet.train(model, X, y, epochs=3, lr=lambda e: -0.1)
    with pytest.raises(xpnet.InvalidArgumentError, match="gave nan at epoch 2"):
        xpnet.train(model, X, y, epochs=3, lr=lambda e: float("nan") if e == 2 else 0.1)
    with pytest.raises(xpnet.InvalidTypeError, match="gave 'fast' at epoch 0"):
        xpnet.train(model, X, y, epochs=3, lr=lambda e: "fast")
    for bad in (dict(lr=0, step_size=1), dict(lr=0.1, step_size=0), dict(lr=0.1, step_size=2.5), dict(lr="0.1", step_size=1)):
        with pytest.raises(xpnet.XpnetError):
            schedules.StepDecay(**bad)
    plain = xpnet.optim.sgd(lr=0.1)
    stateless = Optimizer("mine", lambda params: {"t": 0}, plain.step, {"lr": 0.1})
    with pytest.raises(xpnet.InvalidArgumentError, match="keeps no learning rate in its state"):
        xpnet.train(model, X, y, epochs=3, optimizer=stateless, lr=schedules.ExponentialDecay(0.1, 0.9))
