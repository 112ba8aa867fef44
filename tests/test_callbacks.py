"""Callbacks: hook order and cadence, stopping, state in checkpoints, visible stops, divergence and signals."""

from __future__ import annotations

import math
import signal

import numpy as np
import pytest

import xpnet
import xpnet.loop as loop_module
from xpnet import datasets
from xpnet.callbacks import Callback, ReduceLROnPlateau


@pytest.fixture
def blobs():
    return datasets.blobs(n_samples=60, n_features=3, centers=3, seed=0)


def host(model):
    return [np.array(xpnet.to_numpy(a)) for pair in model.params for a in pair]


class Recorder(Callback):
    """Writes down every hook call; ``every`` as given."""

    def __init__(self, every=0):
        self.every, self.calls = every, []

    def on_train_begin(self, run):
        self.calls.append(("begin", run.epoch))

    def on_epoch_end(self, run, epoch, logs):
        assert all(isinstance(v, float) for v in logs.values())
        self.calls.append(("epoch", epoch, dict(logs), run.epoch))

    def on_sync(self, run):
        self.calls.append(("sync", run.epoch))

    def on_train_end(self, run):
        self.calls.append(("end", run.epoch))

    def on_exception(self, run, exc):
        self.calls.append(("exception", type(exc).__name__))


def test_hooks_come_in_order_with_host_floats_at_the_loops_syncs(backend, blobs):
    X, y = blobs
    rec = Recorder()
    model = xpnet.MLP([3, 5, 3], output="softmax", dtype="float64", backend=backend.spec)
    h = xpnet.train(model, X, y, epochs=7, batch_size=20, lr=0.1, sync_every=3, callbacks=[rec],
                    validation_data=(X, y))
    kinds = [c[0] for c in rec.calls]
    assert kinds == ["begin"] + ["epoch"] * 3 + ["sync"] + ["epoch"] * 3 + ["sync"] + ["epoch", "sync", "end"]
    epochs = [c for c in rec.calls if c[0] == "epoch"]
    assert [c[1] for c in epochs] == list(range(7))
    assert [c[3] for c in epochs] == [3, 3, 3, 6, 6, 6, 7]  # delivered at the sync after each epoch
    for (_, epoch, logs, _), loss, acc, val in zip(epochs, h.loss, h.accuracy, h.val_loss):
        assert logs["loss"] == loss and logs["accuracy"] == acc and logs["val_loss"] == val
        assert logs["lr"] == 0.1 and set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_every_asks_for_the_metrics_right_after_those_epochs(monkeypatch, blobs):
    X, y = blobs
    reads = []
    real = loop_module.to_numpy
    monkeypatch.setattr(loop_module, "to_numpy", lambda a: reads.append(1) or real(a))
    rec = Recorder(every=2)
    xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=7, batch_size=20, callbacks=[rec])
    assert [c[1] for c in rec.calls if c[0] == "sync"] == [2, 4, 6, 7]
    assert len(reads) == 4  # one host read per sync, none per batch


def test_stop_training_ends_the_run_with_the_weights_of_that_epoch(backend, blobs):
    X, y = blobs

    class StopAfter(Callback):
        every = 1

        def on_epoch_end(self, run, epoch, logs):
            if epoch == 3:
                run.stop_training = True

    kwargs = dict(batch_size=16, lr=0.1, optimizer="adam", seed=2)
    stopped = xpnet.MLP([3, 5, 3], output="softmax", dtype="float64", backend=backend.spec)
    h = xpnet.train(stopped, X, y, epochs=50, callbacks=[StopAfter()], **kwargs)
    full = xpnet.MLP([3, 5, 3], output="softmax", dtype="float64", backend=backend.spec)
    h4 = xpnet.train(full, X, y, epochs=4, **kwargs)
    assert h.epochs == 4 and h.loss == h4.loss
    for a, b in zip(host(stopped), host(full)):
        np.testing.assert_array_equal(a, b)


class Counter(Callback):
    """A stateful callback: counts the epochs it has seen; the count must survive a resume."""

    every = 1

    def __init__(self):
        self.seen = 0

    def on_epoch_end(self, run, epoch, logs):
        assert epoch == self.seen
        self.seen += 1

    def state_dict(self):
        return {"seen": self.seen}

    def load_state_dict(self, state):
        self.seen = state["seen"]


def test_callback_state_goes_through_checkpoints(tmp_path, blobs):
    X, y = blobs
    ckpt = tmp_path / "run.npz"
    kwargs = dict(batch_size=16, optimizer="adam", lr=0.05, checkpoint=ckpt)
    first = Counter()
    xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=3, callbacks=[first], **kwargs)
    assert xpnet.io.load_checkpoint(ckpt)["train"]["callbacks"]["Counter"] == {"seen": 3}
    again = Counter()
    xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=8, callbacks=[again], resume=True,
                **kwargs)
    assert again.seen == 8  # continued from 3, not from 0
    with pytest.raises(xpnet.InvalidArgumentError, match="Counter callback that this run does not have"):
        xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=9, resume=True, **kwargs)


def test_two_callbacks_with_one_state_name_are_refused(blobs):
    X, y = blobs
    with pytest.raises(xpnet.InvalidArgumentError, match="same name 'Counter'"):
        xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=1, callbacks=[Counter(), Counter()])
    with pytest.raises(xpnet.InvalidTypeError, match="Callback"):
        xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=1, callbacks=[print])
    with pytest.raises(xpnet.InvalidArgumentError, match="twice"):
        xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=1, early_stopping=3,
                    callbacks=[xpnet.EarlyStopping()])


def test_early_stopping_says_when_it_stopped_and_which_weights_it_restored(capsys, blobs):
    X, y = blobs
    model = xpnet.MLP([3, 5, 3], output="softmax", dtype="float64")
    h = xpnet.train(model, X, y, epochs=200, lr=0.5, verbose=50, validation_data=(X[:20], y[:20]),
                    early_stopping=xpnet.EarlyStopping(patience=3, min_delta=0.05))
    out = capsys.readouterr().out
    assert h.stopped_early and h.epochs < 200
    assert (f"early stopping: val_loss did not improve by more than 0.05 for 3 epochs; stopped after epoch "
            f"{h.epochs}, restored the weights of epoch {h.best_epoch + 1}") in out
    assert "History(epochs=" in repr(h) and len(repr(h)) < 200


def test_reduce_lr_on_plateau_lowers_the_rate_from_the_next_epoch(tmp_path, blobs):
    X, y = blobs
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=1e9)  # never "improves"
    h = xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=7, lr=0.8, callbacks=[plateau])
    # epoch 0 sets the best (inf -> loss); epochs 1, 2 do not improve -> halve after epoch 2; then 3, 4 -> ...
    assert h.lr == [0.8, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2]
    with pytest.raises(xpnet.InvalidArgumentError, match="factor"):
        ReduceLROnPlateau(factor=1.5)
    stopper = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e9, stop_below=0.3)
    h = xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=20, lr=1.0, callbacks=[stopper])
    assert h.lr == [1.0, 1.0, 0.5, 0.25] and h.stopped_early


def test_divergence_on_the_last_step_before_a_check_leaves_finite_weights(backend):
    """The update that overflows can come after the last loss the check sees: the weights are checked too."""
    X, y = datasets.blobs(n_samples=40, n_features=2, centers=2, seed=0)
    for kwargs in (dict(epochs=1), dict(epochs=3, sync_every=1)):
        model = xpnet.MLP([2, 8, 1], output="identity", backend=backend.spec)
        start = host(model)
        with pytest.raises(xpnet.TrainingDivergedError, match="weights overflowed"):
            xpnet.train(model, X, y * 1.0, lr=1e300, **kwargs)
        for a, b in zip(host(model), start):
            assert np.isfinite(a).all()
            np.testing.assert_array_equal(a, b)  # the last finite weights: the ones it started with


def test_exception_hook_sees_divergence_and_interrupts(blobs):
    X, y = blobs
    rec = Recorder()
    with pytest.raises(xpnet.TrainingDivergedError):
        xpnet.train(xpnet.MLP([3, 5, 3], output="identity"), X, np.tile(y[:, None], 3) * 1e3, epochs=50, lr=1e6,
                    callbacks=[rec])
    assert rec.calls[-1] == ("exception", "TrainingDivergedError")


def _signal_in_step(monkeypatch, signum, at_step):
    steps = []
    real_step = loop_module.train_step

    def step(*args, **kwargs):
        if len(steps) == at_step:
            signal.raise_signal(signum)  # handlers run between bytecodes: now, inside the step
        out = real_step(*args, **kwargs)
        steps.append([np.array(xpnet.to_numpy(p)) for p in out[0]])
        return out

    monkeypatch.setattr(loop_module, "train_step", step)
    return steps


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_in_an_epochs_last_step_keeps_that_epoch_in_the_history(monkeypatch, blobs, signame):
    """Ctrl-C or SIGTERM inside the last step of epoch 2: the step finishes, the epoch is recorded,
    the history is not one epoch behind the weights; the handlers are put back."""
    signum = getattr(signal, signame)
    before = signal.getsignal(signum)
    X, y = blobs
    steps = _signal_in_step(monkeypatch, signum, at_step=5)  # 3 steps an epoch: step 6 ends epoch 2
    model = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
    with pytest.raises(KeyboardInterrupt) as stopped:
        xpnet.train(model, X, y, epochs=10, batch_size=20, lr=0.1)
    assert len(steps) == 6 and stopped.value.history.epochs == 2
    for got, want in zip(host(model), steps[-1]):
        np.testing.assert_array_equal(got, want)
    assert signal.getsignal(signum) is before


def test_sigterm_outside_a_step_stops_at_once_with_the_completed_epochs(monkeypatch, blobs):
    X, y = blobs

    class Term(Callback):
        every = 1

        def on_epoch_end(self, run, epoch, logs):
            if epoch == 1:
                signal.raise_signal(signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt, match="SIGTERM") as stopped:
        xpnet.train(xpnet.MLP([3, 4, 3], output="softmax"), X, y, epochs=10, batch_size=20, callbacks=[Term()])
    assert stopped.value.history.epochs == 2
    assert math.isfinite(stopped.value.history.loss[-1])
