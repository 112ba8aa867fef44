"""Killing a real training process: checkpoints stay loadable and resuming is exact.

A subprocess (``sys.executable -c TRAINER``) trains a small float64 network
with ``checkpoint=PATH, checkpoint_every=1`` for ``EPOCHS`` epochs (Adam,
minibatches, shuffling and dropout, so the optimizer state and the random
generator state both matter). Once the first checkpoint exists the test

* sends **SIGKILL** after a seeded random delay (a few trials, two of them
  with a slow ``fsync`` so that the kill usually lands inside a checkpoint
  write and leaves a temporary file behind): the file at
  ``PATH`` must load completely (temporary files left by the kill are never
  at ``PATH``), its history must be a prefix of an uninterrupted run's, and
  ``train(..., resume=True)`` up to ``EPOCHS`` must give exactly the final
  parameters and loss history of a run that was never interrupted;
* sends **SIGINT** (Ctrl-C): the process must end with ``KeyboardInterrupt``;
  the trainer saves the model in its ``except KeyboardInterrupt`` handler, and
  those parameters must be exactly the uninterrupted run's after some whole
  number of steps, no older than the checkpoint and at most one epoch newer;
  resuming from the checkpoint again reproduces the uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import xpnet
from xpnet import io as xio

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

EPOCHS = 300
STEPS_PER_EPOCH = 3  # 96 rows, batches of 32
SETTINGS = dict(batch_size=32, optimizer="adam", lr=0.01, dropout=0.1, seed=3)

TRAINER = textwrap.dedent("""
    import sys
    import numpy as np
    import xpnet

    checkpoint, saved_model, epochs, disk = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    settings = {settings!r}
    if disk == "slow":  # a slow disk: most of the time is spent inside the checkpoint write
        import os, time
        real_fsync = os.fsync
        def slow_fsync(fd):
            time.sleep(0.02)
            real_fsync(fd)
        os.fsync = slow_fsync
    rng = np.random.default_rng(11)
    X = rng.standard_normal((96, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] + X[:, 2] > 0.5).astype(int)
    model = xpnet.MLP([4, 16, 16, 3], hidden=["tanh", "relu"], output="softmax", dtype="float64", seed=0)
    print("training", flush=True)
    try:
        xpnet.train(model, X, y, epochs=epochs, checkpoint=checkpoint, checkpoint_every=1, **settings)
    except KeyboardInterrupt:
        xpnet.save(model, saved_model)  # the model holds the last completed step
        print("saved after KeyboardInterrupt", flush=True)
        raise
    print("finished", flush=True)
""").format(settings=SETTINGS)


def data():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((96, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] + X[:, 2] > 0.5).astype(int)
    return X, y


def fresh_model() -> xpnet.MLP:
    return xpnet.MLP([4, 16, 16, 3], hidden=["tanh", "relu"], output="softmax", dtype="float64", seed=0)


def host(model: xpnet.MLP) -> list[np.ndarray]:
    return [xpnet.to_numpy(a).copy() for pair in model.params for a in pair]


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted run: final parameters, history, and the parameters after every step."""
    import xpnet.loop as training

    steps: list[list[np.ndarray]] = []
    real = training.train_step

    def recording(*args, **kwargs):
        out = real(*args, **kwargs)
        steps.append([xpnet.to_numpy(a).copy() for a in out[0]])
        return out

    training.train_step = recording
    try:
        model = fresh_model()
        history = xpnet.train(model, *data(), epochs=EPOCHS, **SETTINGS)
    finally:
        training.train_step = real
    assert len(steps) == EPOCHS * STEPS_PER_EPOCH
    first = host(fresh_model())
    return {"params": host(model), "history": history, "steps": [first, *steps]}


def start(tmp: Path, disk: str = "fast") -> tuple[subprocess.Popen, Path, Path]:
    ckpt, saved = tmp / "run.npz", tmp / "interrupted-model.npz"
    proc = subprocess.Popen([sys.executable, "-c", TRAINER, str(ckpt), str(saved), str(EPOCHS), disk],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    deadline = time.monotonic() + 60
    while not ckpt.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the trainer exited with {proc.returncode} before its first checkpoint:\n"
                        f"{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no checkpoint after 60 s")
        time.sleep(0.005)
    return proc, ckpt, saved


def check_checkpoint(ckpt: Path, reference) -> int:
    """The file at ``ckpt`` is complete and belongs to the uninterrupted run; return its epoch."""
    saved = xio.load_checkpoint(ckpt)  # complete and valid, or InvalidFileError fails the test
    epoch = saved["train"]["epoch"]
    assert 1 <= epoch <= EPOCHS
    loss = saved["train"]["history"]["loss"]
    assert len(loss) == epoch and loss == reference["history"].loss[:epoch]
    want = reference["steps"][epoch * STEPS_PER_EPOCH]
    for got, expected in zip(saved["params"], want):
        np.testing.assert_array_equal(got, expected)
    return epoch


def check_resume(ckpt: Path, reference) -> None:
    """Resuming to EPOCHS reproduces the uninterrupted run exactly (from a model with other weights)."""
    model = xpnet.MLP([4, 16, 16, 3], hidden=["tanh", "relu"], output="softmax", dtype="float64", seed=99)
    history = xpnet.train(model, *data(), epochs=EPOCHS, checkpoint=ckpt, checkpoint_every=10**6, resume=True,
                          **SETTINGS)
    ref = reference["history"]
    assert history.loss == ref.loss and history.accuracy == ref.accuracy
    for got, want in zip(host(model), reference["params"]):
        np.testing.assert_array_equal(got, want)
    assert xio.load_checkpoint(ckpt)["train"]["epoch"] == EPOCHS


def stray_temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


TRIALS = [(0, "fast"), (1, "fast"), (2, "fast"), (3, "slow"), (4, "slow")]


@pytest.mark.parametrize("trial, disk", TRIALS, ids=[f"{t}-{d}-disk" for t, d in TRIALS])
def test_sigkill_at_a_random_moment_then_resume_exactly(tmp_path, reference, trial, disk):
    delay = random.Random(1000 + trial).uniform(0.0, 0.4)
    proc, ckpt, _ = start(tmp_path, disk)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    finished = proc.returncode == 0
    assert proc.returncode in (0, -signal.SIGKILL), err
    leftovers = stray_temporaries(tmp_path)
    assert all(name.startswith(".run.npz.") for name in leftovers)  # only write_archive's temporaries
    epoch = check_checkpoint(ckpt, reference)
    assert epoch == EPOCHS or not finished
    check_resume(ckpt, reference)
    print(json.dumps({"trial": trial, "disk": disk, "delay_s": round(delay, 3), "killed_at_epoch": epoch,
                      "finished_before_kill": finished, "stray_temporaries": leftovers}))


@pytest.mark.parametrize("trial, disk", [(0, "fast"), (1, "fast"), (2, "slow")],
                         ids=["0-fast-disk", "1-fast-disk", "2-slow-disk"])
def test_sigint_keeps_the_last_completed_step_and_resumes_exactly(tmp_path, reference, trial, disk):
    delay = random.Random(2000 + trial).uniform(0.0, 0.3)
    proc, ckpt, saved = start(tmp_path, disk)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal (a slow signal or a fast machine)")
    assert proc.returncode in (-signal.SIGINT, 1, 130), (proc.returncode, err)
    assert "KeyboardInterrupt" in err and "saved after KeyboardInterrupt" in out, err
    assert stray_temporaries(tmp_path) == []  # a Ctrl-C during a write lands after it: nothing is left
    epoch = check_checkpoint(ckpt, reference)
    model = xpnet.load(saved)
    got = host(model)
    matches = [s for s, params in enumerate(reference["steps"])
               if all(np.array_equal(a, b) for a, b in zip(got, params))]
    assert matches, "the interrupted model's parameters are not those of any completed step"
    step = matches[-1]
    assert epoch * STEPS_PER_EPOCH <= step <= (epoch + 1) * STEPS_PER_EPOCH, (epoch, step)
    check_resume(ckpt, reference)
    print(json.dumps({"trial": trial, "disk": disk, "delay_s": round(delay, 3), "checkpoint_epoch": epoch,
                      "model_step": step}))
