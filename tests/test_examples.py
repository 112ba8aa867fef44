"""The programs in examples/ run on every backend and reach the classic results.

Each example exposes ``main(backend=..., <sizes>, verbose=...) -> dict``; the
tests call it with reduced sizes (the full classic settings only where they
are cheap, on NumPy) and check real outcomes, not just that it runs.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
_loaded: dict = {}


def load(name: str):
    """Import ``examples/<name>.py`` by path (examples/ is not a package)."""
    if name not in _loaded:
        spec = importlib.util.spec_from_file_location(f"xpnet_example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[name] = module
    return _loaded[name]


def is_numpy(backend) -> bool:
    return backend.name == "numpy"


# -- XOR -----------------------------------------------------------------------------
def test_xor_both_nets_learn_xor(backend):
    epochs = 5000 if is_numpy(backend) else 2000  # the classic setting on NumPy
    result = load("xor").main(backend=backend.spec, epochs=epochs, verbose=False)
    assert set(result) == {"2-3-1", "2-3-2-1"}
    for name, net in result.items():
        assert net["accuracy"] == 1.0, (name, net["outputs"])
        assert net["loss_history"][-1] < 0.01 < net["loss_history"][0], name
        out = np.array(net["outputs"])
        assert np.all(out[[0, 3]] < 0.2) and np.all(out[[1, 2]] > 0.8), (name, out)


# -- planar flower ---------------------------------------------------------------------
def test_flower(backend):
    flower = load("flower")
    if is_numpy(backend):  # the classic program in full: lr 1.2, 10,000 iterations
        result = flower.main(backend="numpy", verbose=False)
        assert len(result["loss_history"]) == 10_000
        assert result["accuracy"] >= 0.85
    else:
        result = flower.main(backend=backend.spec, epochs=300, verbose=False)
        assert result["accuracy"] >= 0.8
    history = result["loss_history"]
    assert history[-1] < 0.7 * history[0]
    assert history[0] == pytest.approx(np.log(2), abs=1e-3)  # std-0.01 weights: p ~ 0.5


def test_flower_prints_cost_every_1000_iterations(capsys):
    load("flower").main(backend="numpy", epochs=3000, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines[:3]] == ["1000/3000", "2000/3000", "3000/3000"]
    assert "accuracy" in lines[-1]


# -- L-layer binary classifier ----------------------------------------------------------
def test_deep_binary(backend):
    deep = load("deep_binary")
    if is_numpy(backend):  # classic: lr 0.0075, 2500 iterations
        result = deep.main(backend="numpy", verbose=False)
    else:  # fewer, larger steps
        result = deep.main(backend=backend.spec, epochs=100, lr=0.2, verbose=False)
    assert result["train_accuracy"] >= 0.85
    assert result["test_accuracy"] >= 0.8  # chance is 0.5
    assert result["loss_history"][-1] < 0.5 * result["loss_history"][0]


# -- 784-80-10 softmax with a gradient check -----------------------------------------------
def test_softmax_784(backend):
    result = load("softmax_784").main(backend=backend.spec, epochs=3, n_train=2000, n_test=500,
                                      check_rows=5, check_entries=8, verbose=False)
    errors = result["gradcheck_errors"]
    assert len(errors) == 2 and all(len(pair) == 2 for pair in errors)
    assert result["gradcheck_max_error"] < 1e-6, errors
    history = result["loss_history"]
    assert len(history) == 3
    assert history[-1] < 0.8 * history[0]
    assert result["train_accuracy"] >= 0.5
    assert result["test_accuracy"] >= 0.2  # chance is 0.1


# -- same numbers on every backend ----------------------------------------------------------
SMALL = {
    "xor": dict(epochs=200),
    "flower": dict(epochs=200),
    "deep_binary": dict(epochs=50, n_train=200, n_test=50),
    "softmax_784": dict(epochs=2, n_train=300, n_test=50, batch_size=64, check_rows=3, check_entries=3),
}


def _histories(result: dict) -> dict:
    if "loss_history" in result:
        return {"": result["loss_history"]}
    return {name: net["loss_history"] for name, net in result.items()}  # xor: one per net


@pytest.mark.parametrize("name", list(SMALL))
def test_same_loss_history_as_numpy_in_float64(backend, name):
    if is_numpy(backend):
        pytest.skip("the reference itself")
    main = load(name).main
    ours = _histories(main(backend=backend.spec, dtype="float64", verbose=False, **SMALL[name]))
    reference = _histories(main(backend="numpy", dtype="float64", verbose=False, **SMALL[name]))
    assert ours.keys() == reference.keys()
    for key in reference:
        np.testing.assert_allclose(ours[key], reference[key], rtol=0, atol=1e-10, err_msg=f"{name} {key}")


# -- the scripts' command lines -----------------------------------------------------------
CLI = {
    "xor": ["--epochs", "20"],
    "flower": ["--epochs", "1000"],
    "deep_binary": ["--epochs", "10", "--n-train", "100", "--n-test", "20"],
    "softmax_784": ["--epochs", "1", "--n-train", "200", "--n-test", "20", "--check-entries", "2"],
}


@pytest.mark.parametrize("name", list(CLI))
def test_script_runs_from_the_command_line(name):
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--backend", "numpy", *CLI[name]],
                          capture_output=True, text=True, timeout=120, cwd=EXAMPLES.parent)
    assert proc.returncode == 0, proc.stderr
    assert "accuracy" in proc.stdout
