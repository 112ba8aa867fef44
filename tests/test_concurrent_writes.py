"""Writes under concurrency and signals, with real processes.

* **Concurrent writers.** A writer process is frozen (SIGSTOP) in the middle of
  its write, its temporary file on disk, while this process saves another file
  in the same folder, or the same file: the frozen writer's temporary must
  survive, and once thawed (SIGCONT) its save must complete. A save removes
  only its own target's temporaries, and only those of a writer that is gone
  (its PID no longer exists) that nobody has written to for
  ``xpnet.io.STALE_TEMPORARY_SECONDS``.
* **Signals during a write.** A process saving a 16 MB model gets SIGINT or
  SIGTERM while its temporary file exists, sent to the process or to another
  thread than the one writing (as when the kernel hands Ctrl-C to a BLAS
  worker). The write must complete: the file holds the whole new model, no
  temporary is left, and the signal takes effect right after (a
  ``KeyboardInterrupt`` out of ``save``; termination for SIGTERM).
"""

from __future__ import annotations

import os
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

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals and SIGSTOP")

WIDTH = 2048  # a [2048, 2048, 1] float32 model: a 16 MB file, a write that takes a while

WRITER = textwrap.dedent("""
    import sys
    import xpnet

    xpnet.save(xpnet.MLP([{width}, {width}, 1], seed=4), sys.argv[1])
    print("saved", flush=True)
""").format(width=WIDTH)


def temporaries(folder: Path, target: str | None = None) -> set[str]:
    """The names of write temporaries in ``folder`` (of ``target`` only, when given)."""
    prefix = f".{target}." if target else "."
    return {p.name for p in folder.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")}


def start_python(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def frozen_mid_write(target: Path) -> tuple[subprocess.Popen, Path]:
    """A writer process saving a 16 MB model to ``target``, stopped while its temporary file exists."""
    for _ in range(5):
        before = temporaries(target.parent, target.name)
        proc = start_python(WRITER, str(target))
        deadline = time.monotonic() + 60
        while not (new := temporaries(target.parent, target.name) - before):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate()
                pytest.fail(f"the writer never wrote a temporary file ({proc.returncode}): {err[-2000:]}")
            time.sleep(0.0005)
        proc.send_signal(signal.SIGSTOP)
        temp = target.parent / new.pop()
        if temp.exists():
            return proc, temp
        proc.send_signal(signal.SIGCONT)  # it finished that write before the stop: try again
        proc.communicate(timeout=60)
    pytest.fail("could not catch a writer inside its write")


def finish(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip() == "saved", (proc.returncode, err[-2000:])


def small_model() -> xpnet.MLP:
    return xpnet.MLP([3, 4, 1], seed=0)


@pytest.mark.parametrize("other", ["run.npz.best", "run.npz.1", "other.npz"])
def test_a_save_leaves_the_temporary_of_a_concurrent_save_of_another_file_alone(tmp_path, other):
    """Saving run.npz used to delete the temporary of a concurrent save of run.npz.best (its
    clean-up pattern .run.npz.*.tmp matched it); that save then failed in its rename."""
    proc, temp = frozen_mid_write(tmp_path / other)
    try:
        xpnet.save(small_model(), tmp_path / "run.npz")
        assert temp.exists(), "this save removed the temporary of another file's save in progress"
    finally:
        finish(proc)
    assert xpnet.load(tmp_path / other).sizes == [WIDTH, WIDTH, 1]
    assert xpnet.load(tmp_path / "run.npz").sizes == [3, 4, 1]
    assert temporaries(tmp_path) == set()


def test_two_processes_saving_the_same_file_both_complete(tmp_path):
    """The last rename wins; neither writer removes the other's temporary."""
    target = tmp_path / "run.npz"
    proc, temp = frozen_mid_write(target)
    try:
        xpnet.save(small_model(), target)
        assert temp.exists(), "this save removed the temporary of a running writer of the same file"
    finally:
        finish(proc)
    assert xpnet.load(target).sizes == [WIDTH, WIDTH, 1]  # the frozen writer renamed last
    assert temporaries(tmp_path) == set()


def test_only_temporaries_of_gone_writers_that_nobody_touched_for_a_while_are_removed(tmp_path):
    target = tmp_path / "run.npz"
    live, live_temp = frozen_mid_write(target)
    try:
        killed, killed_temp = frozen_mid_write(target)
        killed.kill()
        killed.communicate()  # its PID is gone now; its temporary stays behind
        other_temp = tmp_path / f".run.npz.best.{killed.pid}.abcd1234.tmp"  # another target's, also gone
        other_temp.write_bytes(b"x")
        xpnet.save(small_model(), target)
        assert live_temp.exists() and killed_temp.exists() and other_temp.exists()  # all too recent
        old = time.time() - xio.STALE_TEMPORARY_SECONDS - 60
        for temp in (live_temp, killed_temp, other_temp):
            os.utime(temp, (old, old))
        xpnet.save(small_model(), target)
        assert not killed_temp.exists(), "a stale temporary of this target was left behind"
        assert live_temp.exists(), "the temporary of a running (if stopped) writer was removed"
        assert other_temp.exists(), "another target's temporary was removed"
    finally:
        finish(live)
    assert temporaries(tmp_path) == {other_temp.name}


# -- signals that arrive during a write ----------------------------------------------------------
SIGNALLED = textwrap.dedent("""
    import os, signal, sys, threading, time
    import xpnet

    path, signame, delivery = sys.argv[1], sys.argv[2], sys.argv[3]
    sig = getattr(signal, signame)
    model = xpnet.MLP([{width}, {width}, 1], seed=5)
    folder, prefix = os.path.dirname(path), "." + os.path.basename(path) + "."

    def send():  # once the write has started (its temporary exists)
        while not any(n.startswith(prefix) and n.endswith(".tmp") for n in os.listdir(folder)):
            time.sleep(0.0002)
        if delivery == "thread":  # this thread, not the writing one, takes the signal
            signal.pthread_kill(threading.get_ident(), sig)
        else:
            os.kill(os.getpid(), sig)

    threading.Thread(target=send, daemon=True).start()
    try:
        xpnet.save(model, path)
    except KeyboardInterrupt:
        print("KeyboardInterrupt out of save", flush=True)
        sys.exit(0)
    print("save returned", flush=True)
""").format(width=WIDTH)


@pytest.mark.parametrize("delivery", ["thread", "process"])
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_during_a_write_takes_effect_once_the_file_is_complete(tmp_path, signame, delivery):
    path = tmp_path / "model.npz"
    proc = start_python(SIGNALLED, str(path), signame, delivery)
    out, err = proc.communicate(timeout=120)
    if signame == "SIGINT":
        assert proc.returncode == 0 and out.strip() == "KeyboardInterrupt out of save", (proc.returncode, err)
    else:
        assert proc.returncode == -signal.SIGTERM and out == "", (proc.returncode, out, err)
    assert temporaries(tmp_path) == set(), "the write was interrupted: its temporary is left behind"
    assert path.exists(), "the write was interrupted before its rename"
    want = xpnet.MLP([WIDTH, WIDTH, 1], seed=5)
    for (W, b), (W0, b0) in zip(xpnet.load(path).params, want.params):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def test_an_ignored_sigint_stays_ignored_and_the_handlers_are_restored(tmp_path):
    """In this (main) thread: a SIGINT sent during the write under SIG_IGN is dropped, and the
    handlers in place before the write are the ones in place after it."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with xio._interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert {s: signal.getsignal(s) for s in before} == before
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with xio._interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
            assert seen == []  # held
        assert seen == [signal.SIGINT]  # delivered once, right after
    finally:
        signal.signal(signal.SIGINT, previous)
