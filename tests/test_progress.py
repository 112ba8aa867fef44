"""Tests for xpnet.progress.Progress with fake streams, with and without tqdm."""

import io
import sys

import pytest

from xpnet import progress as progress_module
from xpnet.progress import Progress


class FakeStream(io.StringIO):
    """A text stream that says whether it is a terminal."""

    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.fixture
def no_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` raises ImportError


@pytest.fixture
def clock(monkeypatch):
    """A controllable clock for the plain-line fallback."""
    now = [100.0]
    monkeypatch.setattr(progress_module, "_clock", lambda: now[0])
    return now


def run(bar, epochs, clock=None, step=1.0):
    for e in range(1, epochs + 1):
        if clock is not None:
            clock[0] += step
        bar.update(e, {"loss": 1.0 / e, "accuracy": e / epochs})
    bar.close()


# ---------------------------------------------------------------------------
# quiet unless on a terminal or forced
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("use_tqdm", [None, False])
def test_quiet_when_not_a_terminal(use_tqdm):
    stream = FakeStream(tty=False)
    bar = Progress(5, stream=stream, use_tqdm=use_tqdm)
    assert not bar.active and bar.kind is None
    run(bar, 5)
    assert stream.getvalue() == ""


def test_quiet_for_streams_without_isatty():
    class Bare:
        def __init__(self):
            self.text = []

        def write(self, s):
            self.text.append(s)

        def flush(self):
            pass

    stream = Bare()
    bar = Progress(3, stream=stream)
    run(bar, 3)
    assert not bar.active and stream.text == []


def test_disabled_is_quiet_even_when_forced():
    stream = FakeStream(tty=True)
    bar = Progress(3, enabled=False, stream=stream, force=True)
    run(bar, 3)
    assert not bar.active and stream.getvalue() == ""


def test_default_stream_is_stderr_looked_up_at_creation(capsys):
    bar = Progress(2)
    assert bar.stream is sys.stderr
    run(bar, 2)
    assert capsys.readouterr().err == ""  # pytest's capture is not a terminal


# ---------------------------------------------------------------------------
# plain-line fallback
# ---------------------------------------------------------------------------


def test_lines_without_tqdm_on_a_terminal(no_tqdm, clock):
    stream = FakeStream(tty=True)
    bar = Progress(10, stream=stream, min_interval=2.5)
    assert bar.active and bar.kind == "lines"
    run(bar, 10, clock, step=1.0)
    lines = stream.getvalue().splitlines()
    # first update, then one every 2.5 s of the fake clock (epochs 4, 7), then the last
    epochs = [int(line.split("epoch")[1].split("/")[0]) for line in lines]
    assert epochs == [1, 4, 7, 10]
    assert lines[0].startswith("training: epoch  1/10 ( 10%)  loss 1  accuracy 0.1  [1.0 s, ~9.0 s left]")
    assert lines[-1] == "training: epoch 10/10 (100%)  loss 0.1  accuracy 1  [10.0 s]"


def test_forced_lines_on_a_non_terminal(clock):
    stream = FakeStream(tty=False)
    bar = Progress(4, stream=stream, force=True, use_tqdm=False, min_interval=0, desc="flower")
    assert bar.active and bar.kind == "lines"
    run(bar, 4, clock)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and all(line.startswith("flower: epoch") for line in lines)
    assert "loss 0.25" in lines[-1]


def test_close_prints_the_last_unshown_state(no_tqdm, clock):
    stream = FakeStream(tty=True)
    bar = Progress(100, stream=stream, min_interval=60)
    for e in range(1, 51):
        clock[0] += 0.1
        bar.update(e, {"loss": 0.5})
    assert len(stream.getvalue().splitlines()) == 1
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "epoch  50/100" in lines[-1]
    bar.close()  # idempotent
    bar.update(60, {"loss": 0.1})  # ignored after close
    assert len(stream.getvalue().splitlines()) == 2


def test_context_manager_and_metric_formatting(no_tqdm, clock):
    stream = FakeStream(tty=True)
    with Progress(2, stream=stream, min_interval=0) as bar:
        bar.update(1, {"loss": 1.23456789e-5, "step": 7, "note": "warmup", "ok": True})
    line = stream.getvalue().splitlines()[0]
    assert "loss 1.235e-05  step 7  note warmup  ok True" in line
    assert "closed" in repr(bar)


def test_long_runs_format_minutes_and_hours(no_tqdm, clock):
    stream = FakeStream(tty=True)
    bar = Progress(1000, stream=stream, min_interval=0)
    clock[0] += 125.0
    bar.update(1)
    assert "[2:05, ~34:41:15 left]" in stream.getvalue()


# ---------------------------------------------------------------------------
# tqdm
# ---------------------------------------------------------------------------


@pytest.fixture
def tqdm():
    return pytest.importorskip("tqdm")


def test_tqdm_bar_on_a_terminal(tqdm):
    stream = FakeStream(tty=True)
    bar = Progress(20, stream=stream, min_interval=0)
    assert bar.active and bar.kind == "tqdm"
    run(bar, 20)
    text = stream.getvalue()
    assert "training" in text and "20/20" in text and "epoch" in text
    assert "loss=0.05" in text and "accuracy=1" in text


def test_tqdm_forced_on_a_non_terminal(tqdm):
    stream = FakeStream(tty=False)
    bar = Progress(3, stream=stream, force=True, min_interval=0)
    assert bar.kind == "tqdm"
    run(bar, 3)
    assert "3/3" in stream.getvalue()


def test_tqdm_quiet_when_not_a_terminal(tqdm):
    stream = FakeStream(tty=False)
    run(Progress(3, stream=stream), 3)
    assert stream.getvalue() == ""


def test_tqdm_can_be_refused_or_required(tqdm, monkeypatch):
    stream = FakeStream(tty=True)
    assert Progress(3, stream=stream, use_tqdm=False).kind == "lines"
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        Progress(3, stream=stream, use_tqdm=True)


def test_tqdm_handles_updates_that_go_backwards(tqdm):
    stream = FakeStream(tty=True)
    bar = Progress(10, stream=stream, min_interval=0)
    bar.update(8)
    bar.update(3)
    assert bar._bar.n == 3
    bar.close()


# ---------------------------------------------------------------------------
# write(): lines that do not tear the bar
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("use_tqdm", [None, False])
@pytest.mark.parametrize("tty", [True, False])
def test_write_always_prints(use_tqdm, tty):
    if use_tqdm is None:
        pytest.importorskip("tqdm")
    stream, out = FakeStream(tty=tty), io.StringIO()
    bar = Progress(5, stream=stream, use_tqdm=use_tqdm, min_interval=0)
    bar.update(1, {"loss": 0.5})
    bar.write("epoch 1/5  loss 0.500000", file=out)
    bar.close()
    assert out.getvalue() == "epoch 1/5  loss 0.500000\n"


def test_write_defaults_to_stdout(capsys):
    Progress(2, stream=FakeStream(tty=False)).write("hello")
    assert capsys.readouterr().out == "hello\n"


# ---------------------------------------------------------------------------
# argument checking
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    (dict(total_epochs=0), "total_epochs must be a positive int"),
    (dict(total_epochs=2.0), "total_epochs"),
    (dict(total_epochs=True), "total_epochs"),
    (dict(total_epochs=5, min_interval=-1), "min_interval"),
    (dict(total_epochs=5, use_tqdm="yes"), "use_tqdm"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Progress(**kwargs)


@pytest.mark.parametrize("epoch", [-1, 6, 1.5, True])
def test_bad_epoch(epoch):
    bar = Progress(5, stream=FakeStream(tty=False))
    with pytest.raises(ValueError, match=r"epoch must be an int in 0 .. 5"):
        bar.update(epoch)


def test_bad_metrics():
    with pytest.raises(ValueError, match="metrics must be a dict"):
        Progress(5, stream=FakeStream(tty=False)).update(1, [0.5])


def test_closed_stream_stops_drawing(no_tqdm):
    stream = FakeStream(tty=True)
    bar = Progress(5, stream=stream, min_interval=0)
    stream.close()
    bar.update(1, {"loss": 1.0})  # must not raise
    assert not bar.active
