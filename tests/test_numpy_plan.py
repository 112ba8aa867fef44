"""NumPy's training plan against the generic path: the same numbers, the same run.

``xpnet.train`` on NumPy trains plain-SGD runs with bound NumPy calls into
preallocated buffers (:mod:`xpnet.backend.numpy_plan`); ``XPNET_GENERIC=1``
gives the generic array-API path. Every run here is made both ways: float64
histories and weights are equal bit for bit (the operations are the same),
except where a weight update is fused into its BLAS product, where they agree
to 1e-12. Interrupts, divergence, checkpoints, callbacks that replace the
weights and the host syncs behave as on the generic path.
"""

from __future__ import annotations

import signal
import types

import numpy as np
import pytest

import xpnet
from xpnet.loop import OneProcess
import xpnet.loop as loop_module
from xpnet.backend import blas, numpy_plan, numpy_step
from xpnet.callbacks import Callback


@pytest.fixture(autouse=True)
def plan_on(monkeypatch):
    """These tests choose the path themselves, whatever XPNET_GENERIC the session runs with."""
    monkeypatch.delenv("XPNET_GENERIC", raising=False)


def data(n=150, d=3, k=3, output="softmax", seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if output == "softmax":
        return X, rng.integers(0, k, n)
    if output == "sigmoid":
        return X, (rng.random((n, k)) > 0.5).astype(float) if k > 1 else rng.integers(0, 2, n)
    return X, X[:, :1] * 0.5 - X[:, 1:2] ** 2 + rng.standard_normal((n, k)) * 0.1


def params_of(model):
    return [np.array(xpnet.to_numpy(a)) for pair in model.params for a in pair]


def train_both(monkeypatch, sizes, hidden="relu", output="softmax", dtype="float64", n=150, fit=None, **kwargs):
    """``(generic, fast)``, each ``(history, weights, runner)`` of the same run made both ways."""
    X, y = data(n, sizes[0], sizes[-1], output)
    runs = []
    for generic in (True, False):
        with monkeypatch.context() as m:
            if generic:
                m.setenv("XPNET_GENERIC", "1")
            else:
                m.delenv("XPNET_GENERIC", raising=False)
            used = _watch_runner(m)
            model = xpnet.MLP(sizes, hidden=hidden, output=output, dtype=dtype, seed=1)
            history = (fit or xpnet.train)(model, X, y, **kwargs)
            runs.append((history, params_of(model), used[0]))
    assert runs[0][2] == "generic"
    return runs


def _watch_runner(m) -> list:
    """Record which epoch runner each run gets: 'generic' or 'plan'."""
    used: list[str] = []
    real = loop_module._epoch_runner

    def watching(run):
        runner = real(run)
        used.append("generic" if runner is loop_module._run_epoch else "plan")
        return runner

    m.setattr(loop_module, "_epoch_runner", watching)
    return used


def assert_identical(generic, fast):
    (h0, p0, _), (h1, p1, runner) = generic, fast
    assert runner == "plan"
    assert {**h1.as_dict(), "seconds": 0} == {**h0.as_dict(), "seconds": 0}
    assert h1.optimizer_state == h0.optimizer_state
    for a, b in zip(p1, p0):
        np.testing.assert_array_equal(a, b)


CASES = {
    "flower-like full batch": dict(sizes=[2, 4, 1], hidden="tanh", output="sigmoid", epochs=40, lr=1.2),
    "relu minibatches, last batch short": dict(sizes=[3, 7, 5, 3], epochs=4, batch_size=32, lr=0.1),
    "in order": dict(sizes=[3, 7, 5, 3], epochs=4, batch_size=32, lr=0.1, shuffle=False),
    "mixed hidden": dict(sizes=[3, 9, 6, 5, 3], hidden=["leaky_relu", "sigmoid", "identity"], epochs=3,
                         batch_size=40, lr=0.2),
    "tanh, wide enough for the column sums by product": dict(sizes=[3, 16, 8, 3], hidden="tanh", epochs=3,
                                                              batch_size=70, lr=0.3),
    "no hidden layer": dict(sizes=[3, 3], epochs=5, batch_size=50, lr=0.5),
    "multi-label sigmoid": dict(sizes=[3, 6, 4], hidden="tanh", output="sigmoid", epochs=5, batch_size=64, lr=0.5),
    "regression, minibatches": dict(sizes=[3, 7, 2], hidden="identity", output="identity", epochs=5,
                                    batch_size=40, lr=0.1),
    "regression, full batch": dict(sizes=[3, 8, 2], hidden="tanh", output="identity", epochs=30, lr=0.1),
    "softmax, full batch": dict(sizes=[3, 6, 4], output="softmax", epochs=30, lr=0.5),
    "float32": dict(sizes=[3, 7, 5, 3], dtype="float32", epochs=3, batch_size=32, lr=0.1),
    "float32 full batch": dict(sizes=[2, 4, 1], hidden="tanh", output="sigmoid", dtype="float32", epochs=40, lr=1.2),
    "batch larger than the data": dict(sizes=[3, 5, 3], epochs=5, batch_size=1000, lr=0.3),
    "relu layers wide and narrow (bias and ReLU fused, and not)": dict(sizes=[3, 24, 5, 20, 3], epochs=4,
                                                                       batch_size=32, lr=0.3),
    "wide relu, float32, full batch": dict(sizes=[3, 40, 2], output="sigmoid", dtype="float32", epochs=30,
                                           lr=0.5),
    "narrow layers, rows not a multiple of their run": dict(sizes=[3, 4, 3, 2], hidden="tanh", n=151, epochs=20,
                                                            lr=0.3),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_the_plan_computes_what_the_generic_path_computes_bit_for_bit(monkeypatch, case):
    assert_identical(*train_both(monkeypatch, **case))


def test_a_full_batch_too_large_to_keep_computes_its_metrics_every_epoch(monkeypatch):
    monkeypatch.setattr(numpy_plan, "DEFER_BYTES", 1)
    for output, k in (("sigmoid", 2), ("softmax", 3), ("identity", 2)):
        assert_identical(*train_both(monkeypatch, [3, 6, k], hidden="tanh", output=output, epochs=7, lr=0.3))


@pytest.mark.parametrize("shuffle", [True, False])
def test_features_in_fortran_order_or_float32_data_for_a_float64_model(monkeypatch, shuffle):
    X, y = data(120, 4, 3)
    runs = []
    for generic in (True, False):
        with monkeypatch.context() as m:
            if generic:
                m.setenv("XPNET_GENERIC", "1")
            used = _watch_runner(m)
            model = xpnet.MLP([4, 6, 3], output="softmax", dtype="float64", seed=2)
            history = xpnet.train(model, np.asfortranarray(X.astype(np.float32)), y, epochs=3, batch_size=50,
                                  lr=0.2, shuffle=shuffle)
            runs.append((history, params_of(model), used[0]))
    assert_identical(*runs)


@pytest.mark.parametrize("epochs, sync_every", [(250, 100), (37, 5), (12, 1), (90, 300)])
def test_full_batch_metrics_computed_in_batches_are_each_epochs_own(monkeypatch, epochs, sync_every):
    """A full-batch run keeps its logits and computes the metrics of many epochs at once: across
    chunk boundaries and syncs that fall inside a chunk, every epoch's loss and accuracy are its own."""
    monkeypatch.setattr(numpy_plan, "DEFER_BYTES", 100 * 3 * 8 * 7)  # chunks of 7 epochs
    assert_identical(*train_both(monkeypatch, [3, 6, 3], hidden="tanh", n=100, epochs=epochs, lr=0.3,
                                 sync_every=sync_every))


def test_schedules_validation_and_early_stopping_as_on_the_generic_path(monkeypatch):
    X_val, y_val = data(40, 3, 3, seed=5)
    generic, fast = train_both(monkeypatch, [3, 8, 3], epochs=30, batch_size=32, lr=xpnet.schedules.StepDecay(0.5, 5, 0.5),
                               validation_data=(X_val, y_val), early_stopping=3, sync_every=7)
    assert_identical(generic, fast)
    assert len(set(fast[0].lr)) > 1


def test_an_optimizer_state_given_to_train_continues_its_step_count(monkeypatch):
    def two_calls(model, X, y, **kwargs):
        first = xpnet.train(model, X, y, epochs=2, batch_size=50, lr=0.1)
        return xpnet.train(model, X, y, epochs=2, batch_size=50, lr=0.1, optimizer_state=first.optimizer_state)

    generic, fast = train_both(monkeypatch, [3, 5, 3], fit=two_calls)
    assert_identical(generic, fast)
    assert fast[0].optimizer_state["t"] == 12


# -- fused updates -----------------------------------------------------------------------------
needs_blas = pytest.mark.skipif(blas.numpy_gemm() is None, reason="NumPy's own BLAS was not found (no fusion)")


@needs_blas
@pytest.mark.parametrize("batch_size, shuffle", [(128, True), (128, False), (None, True)])
def test_fused_weight_updates_agree_to_1e12(monkeypatch, batch_size, shuffle):
    """``W += -lr * A.T @ dZ`` in one BLAS call: BLAS adds its products into ``W`` block by block where
    the generic path rounds ``A.T @ dZ`` and ``lr * dW`` first (small products round the same)."""
    monkeypatch.setattr(numpy_step, "FUSE_MIN", 1)
    calls = []
    real = blas.Gemm.at_b
    monkeypatch.setattr(blas.Gemm, "at_b", lambda *args: calls.append(1) or real(*args))
    (h0, p0, _), (h1, p1, runner) = train_both(monkeypatch, [40, 96, 80, 3], n=300, epochs=3, batch_size=batch_size,
                                                lr=0.05, shuffle=shuffle)
    assert runner == "plan" and len(calls) == 3 * 3 * (1 if batch_size is None else 3)  # every weight, every step
    np.testing.assert_allclose(h1.loss, h0.loss, rtol=1e-12)
    assert h1.accuracy == h0.accuracy
    for a, b in zip(p1, p0):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


def test_large_weights_without_blas_keep_their_arrays_and_the_generic_numbers(monkeypatch):
    monkeypatch.setattr(numpy_plan, "numpy_gemm", lambda: None)
    monkeypatch.setattr(numpy_step, "OWN_MIN", 1)
    assert_identical(*train_both(monkeypatch, [3, 9, 7, 3], epochs=3, batch_size=32, lr=0.2))


@needs_blas
def test_numpy_gemm_adds_alpha_times_a_transposed_product():
    gemm = blas.numpy_gemm()
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        A, B = rng.standard_normal((40, 6)).astype(dtype), rng.standard_normal((40, 5)).astype(dtype)
        C = rng.standard_normal((6, 5)).astype(dtype)
        want = C - 0.25 * (A.T.astype(np.float64) @ B)
        assert gemm.supports(A, B, C) and not gemm.supports(A.T, B, C)
        gemm.at_b(-0.25, A, B, C)
        np.testing.assert_allclose(C, want, rtol=1e-5 if dtype == np.float32 else 1e-13)


# -- when the generic path runs ----------------------------------------------------------------
GENERIC = {
    "momentum": dict(optimizer="momentum", lr=0.1),
    "adam": dict(optimizer="adam"),
    "weight decay": dict(weight_decay=1e-3, lr=0.1),
    "dropout": dict(dropout=0.2, lr=0.1),
    "sample weights": dict(sample_weight=np.linspace(0.5, 2.0, 150), lr=0.1),
}


@pytest.mark.parametrize("kwargs", GENERIC.values(), ids=list(GENERIC))
def test_runs_the_plan_does_not_compute_take_the_generic_path(monkeypatch, kwargs):
    X, y = data()
    used = _watch_runner(monkeypatch)
    xpnet.train(xpnet.MLP([3, 5, 3], output="softmax", dtype="float64"), X, y, epochs=2, batch_size=50, **kwargs)
    assert used == ["generic"]


def test_an_optimizer_of_ones_own_named_sgd_takes_the_generic_path(monkeypatch):
    X, y = data()
    builtin = xpnet.optim.sgd(lr=0.1)

    def update(params, grads, state):  # SGD with a twist: the plan must not assume it is the built-in rule
        for p, g in zip(params, grads):
            p -= 0.5 * state["lr"] * g
        return params, {**state, "t": state["t"] + 1}

    mine = xpnet.optim.Optimizer("sgd", builtin.init, builtin.step, builtin.hyperparams, update)
    used = _watch_runner(monkeypatch)
    for optimizer in (builtin, mine):
        xpnet.train(xpnet.MLP([3, 5, 3], output="softmax"), X, y, epochs=2, batch_size=50, optimizer=optimizer)
    assert used == ["plan", "generic"]


@pytest.mark.parametrize("model_kwargs", [dict(hidden="gelu"), dict(output="sigmoid", loss="mse"),
                                          dict(hidden=xpnet.activations.Activation("mine", np.tanh,
                                                                                   lambda da, z, a: da))])
def test_other_activations_and_losses_take_the_generic_path(monkeypatch, model_kwargs):
    X, y = data(output="sigmoid", k=1)
    used = _watch_runner(monkeypatch)
    model = xpnet.MLP([3, 5, 1], **{"output": "sigmoid", **model_kwargs})
    xpnet.train(model, X, y, epochs=2, lr=0.1)
    assert used == ["generic"]


def test_a_distributed_run_and_other_backends_take_the_generic_path():
    class Run:  # what numpy_plan reads of a run
        model = xpnet.MLP([3, 5, 3], output="softmax")
        optimizer = xpnet.optim.sgd(lr=0.1)
        opt_state = optimizer.init([])
        data = (np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32), None)
        dropout = 0.0
        parallel = OneProcess()

    assert numpy_plan.why_generic(Run()) is None
    Run.parallel = types.SimpleNamespace(size=2)  # what a data-parallel run's DataParallel says
    assert numpy_plan.why_generic(Run()) == "a data-parallel run"
    strict = pytest.importorskip("array_api_strict")
    assert xpnet.get_backend(strict).training_plan(Run()) is None


# -- the run around the steps ------------------------------------------------------------------
def _interrupt_inside_step(monkeypatch, at_step: int) -> list:
    steps: list[int] = []
    real = numpy_step.Step.__call__

    def step(self):
        if len(steps) == at_step:
            signal.raise_signal(signal.SIGINT)  # handled between bytecodes: inside this step
        real(self)
        steps.append(1)

    monkeypatch.setattr(numpy_step.Step, "__call__", step)
    return steps


def _generic_steps(monkeypatch, X, y, **kwargs) -> list:
    """The weights after every step of the uninterrupted generic run."""
    steps = []
    real = loop_module.train_step

    def recording(*args, **kw):
        out = real(*args, **kw)
        steps.append([np.array(a) for a in out[0]])
        return out

    with monkeypatch.context() as m:
        m.setattr(loop_module, "train_step", recording)
        history = xpnet.train(xpnet.MLP([3, 4, 3], output="softmax", dtype="float64"), X, y, **kwargs)
    return steps, history


@pytest.mark.parametrize("batch_size, at_step", [(20, 4), (20, 5), (None, 6)])
def test_a_ctrl_c_inside_a_step_lands_after_it_with_the_completed_epochs(monkeypatch, batch_size, at_step):
    if not hasattr(signal, "raise_signal"):
        pytest.skip("signal.raise_signal is not available")
    X, y = data(60)
    kwargs = dict(epochs=10, batch_size=batch_size, lr=0.1)
    reference, full = _generic_steps(monkeypatch, X, y, **kwargs)
    steps = _interrupt_inside_step(monkeypatch, at_step)
    model = xpnet.MLP([3, 4, 3], output="softmax", dtype="float64")
    with pytest.raises(KeyboardInterrupt) as stopped:
        xpnet.train(model, X, y, **kwargs)
    assert len(steps) == at_step + 1  # the step the signal arrived in was finished, no further one started
    for got, want in zip(params_of(model), reference[at_step]):
        np.testing.assert_array_equal(got, want)
    per_epoch = 3 if batch_size else 1
    done = (at_step + 1) // per_epoch
    history = stopped.value.history
    assert history.epochs == done and history.loss == full.loss[:done] and history.accuracy == full.accuracy[:done]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("batch_size", [None, 10])
def test_divergence_ends_with_the_generic_paths_error_and_weights(monkeypatch, batch_size):
    X, y = xpnet.datasets.blobs(n_samples=40, n_features=2, centers=2, seed=0)
    messages, weights = [], []
    for generic in (True, False):
        with monkeypatch.context() as m:
            if generic:
                m.setenv("XPNET_GENERIC", "1")
            used = _watch_runner(m)
            model = xpnet.MLP([2, 16, 1], output="identity", dtype="float64")
            with pytest.raises(xpnet.TrainingDivergedError) as error:
                xpnet.train(model, X * 100, y * 1e3, epochs=200, lr=10.0, batch_size=batch_size, sync_every=3)
            messages.append(str(error.value))
            weights.append(params_of(model))
    assert used == ["plan"] and messages[0] == messages[1]
    for a, b in zip(*weights):
        assert np.isfinite(a).all()
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_one_host_read_per_sync(monkeypatch, batch_size):
    X, y = data(60)
    reads = []
    real = loop_module.to_numpy
    monkeypatch.setattr(loop_module, "to_numpy", lambda a: reads.append(1) or real(a))
    used = _watch_runner(monkeypatch)
    model = xpnet.MLP([3, 4, 3], output="softmax")
    xpnet.train(model, X, y, epochs=30, batch_size=batch_size, lr=0.1)
    assert used == ["plan"] and len(reads) == 1
    reads.clear()
    xpnet.train(model, X, y, epochs=30, batch_size=batch_size, lr=0.1, sync_every=10)
    assert len(reads) == 3


class Shrink(Callback):
    """Replaces the weights with new arrays (halved) after every 4th epoch."""

    every = 4

    def on_epoch_end(self, run, epoch, logs):
        if (epoch + 1) % 4 == 0:
            run.params = [a * 0.5 for a in run.params]


@pytest.mark.parametrize("batch_size", [None, 32])
def test_weights_a_callback_puts_into_the_run_are_trained_on(monkeypatch, batch_size):
    assert_identical(*train_both(monkeypatch, [3, 6, 3], epochs=10, batch_size=batch_size, lr=0.3,
                                 callbacks=[Shrink()]))


def test_resuming_a_checkpoint_continues_exactly(monkeypatch, tmp_path):
    X, y = data()
    whole = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64")
    reference = xpnet.train(whole, X, y, epochs=6, batch_size=32, lr=0.2, seed=4)
    ckpt = tmp_path / "run.npz"
    model = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64")
    xpnet.train(model, X, y, epochs=3, batch_size=32, lr=0.2, seed=4, checkpoint=ckpt)
    used = _watch_runner(monkeypatch)
    resumed = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64", seed=7)
    history = xpnet.train(resumed, X, y, epochs=6, batch_size=32, lr=0.2, seed=4, checkpoint=ckpt, resume=True)
    assert used == ["plan"] and history.loss == reference.loss
    for a, b in zip(params_of(resumed), params_of(whole)):
        np.testing.assert_array_equal(a, b)


def test_the_callers_arrays_are_never_written_and_the_model_gets_the_trained_ones():
    X, y = data()
    model = xpnet.MLP([3, 6, 3], output="softmax", dtype="float64")
    before = params_of(model)
    held = [a for pair in model.params for a in pair]
    xpnet.train(model, X, y, epochs=3, batch_size=32, lr=0.2)
    for a, b in zip(held, before):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(params_of(model)[0], before[0])
    assert all(a.flags.c_contiguous for pair in model.params for a in pair)
