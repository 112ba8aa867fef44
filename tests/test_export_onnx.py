"""xpnet.export_onnx: onnxruntime runs the exported file and gives model.forward's numbers.

Every activation as hidden layer and as output, every output kind, float32 and
float64, models on every backend, several batch sizes through one file, and
extreme inputs; then the file's structure, the opset range, the errors and the
atomic write. Tests that need onnx/onnxruntime skip where they are missing.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import xpnet
from xpnet import export as E
from xpnet.activations import ACTIVATIONS, Activation, tanh
from xpnet.errors import MissingDependencyError

#: relative to the outputs' largest magnitude (float32: sums in another order round differently)
TOL = {"float32": (2e-6, 2e-6), "float64": (1e-12, 1e-14)}
EXTREME = [-1e4, -1e3, -100.0, -40.0, -20.0, -5.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 5.0, 20.0, 40.0, 100.0,
           1e3, 1e4]


def _ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


def _run(path, X):
    ort = _ort()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["Y"], {"X": X})[0]


def _assert_close(got, want, dtype):
    rtol, scale = TOL[dtype]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=scale * max(1.0, float(np.max(np.abs(want)))))


def _model(backend, act, output, n_out, dtype, seed=0):
    model = xpnet.MLP([3, 16, 8, n_out], hidden=act, output=output, init="torch", seed=seed, dtype=dtype,
                      backend=backend)
    # weights 4x nn.Linear's: pre-activations reach +-20, into every activation's tails
    return model.set_params([(xpnet.to_numpy(W) * 4, xpnet.to_numpy(b) * 4) for W, b in model.params])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_onnxruntime_gives_model_forward_for_every_activation_and_output(backend, tmp_path, rng, act, dtype):
    _ort()
    heads = [("sigmoid", 1), ("sigmoid", 3), ("softmax", 3), ("identity", 2), (act, 2)]
    for i, (output, n_out) in enumerate(heads):
        model = _model(backend, act, output, n_out, dtype, seed=i)
        path = tmp_path / f"{act}-{output}.onnx"
        xpnet.export_onnx(model, path)
        for n in (1, 7, 64):  # one file, several batch sizes
            X = (rng.standard_normal((n, 3)) * 3).astype(dtype)
            want = xpnet.to_numpy(model.forward(X))
            _assert_close(_run(path, X), want, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_extreme_inputs_through_onnxruntime(backend, tmp_path, act, dtype):
    """One layer with W = I: each activation at +-1e4 ... 0 (elementwise, every entry to its own scale)."""
    _ort()
    k = len(EXTREME)
    model = xpnet.MLP([k, k], output=act, dtype=dtype, backend=backend).set_params([(np.eye(k), np.zeros(k))])
    xpnet.export_onnx(model, tmp_path / "m.onnx")
    X = np.array([EXTREME, np.array(EXTREME) / 100], dtype=dtype)
    got, want = _run(tmp_path / "m.onnx", X), xpnet.to_numpy(model.forward(X))
    assert np.all(np.isfinite(got))
    rtol = 4 * float(np.finfo(dtype).eps)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=float(np.finfo(dtype).tiny))


def test_the_file(tmp_path):
    onnx = pytest.importorskip("onnx")
    model = xpnet.MLP([4, 6, 3], hidden="gelu", output="softmax", dtype="float64")
    xpnet.export_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    (x,), (y,) = proto.graph.input, proto.graph.output
    assert x.name == "X" and y.name == "Y"
    assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim] == ["batch", 4]
    assert [d.dim_param or d.dim_value for d in y.type.tensor_type.shape.dim] == ["batch", 3]
    assert x.type.tensor_type.elem_type == y.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", E.DEFAULT_OPSET)]
    assert E.DEFAULT_OPSET == 17
    assert proto.ir_version == 8 and proto.producer_name == "xpnet"
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["xpnet_config"]) == model.config()
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    np.testing.assert_array_equal(weights["W0"], xpnet.to_numpy(model.params[0][0]))
    used = {node.op_type for node in proto.graph.node}
    # only ops onnxruntime has for float64 and that keep the tails (no Erf, Gelu, Sigmoid, Elu, ...)
    assert used <= {"MatMul", "Add", "Sub", "Mul", "Div", "Abs", "Round", "Exp", "Less", "Where", "Softmax",
                    "Identity"}, used


@pytest.mark.parametrize("opset", [13, 20])
def test_other_opsets(tmp_path, rng, opset):
    onnx = pytest.importorskip("onnx")
    model = xpnet.MLP([3, 5, 2], hidden="selu", output="softmax")
    xpnet.export_onnx(model, tmp_path / "m.onnx", opset=opset)
    assert onnx.load(str(tmp_path / "m.onnx")).opset_import[0].version == opset
    X = rng.standard_normal((6, 3)).astype(np.float32)
    _assert_close(_run(tmp_path / "m.onnx", X), xpnet.to_numpy(model.forward(X)), "float32")


@pytest.mark.parametrize("opset", [12, 0, 10_000, True, "17", 17.0])
def test_bad_opsets_are_refused(tmp_path, opset):
    pytest.importorskip("onnx")
    with pytest.raises(xpnet.InvalidArgumentError, match=r"opset must be an int from 13 to \d+.*got"):
        xpnet.export_onnx(xpnet.MLP([2, 1]), tmp_path / "m.onnx", opset=opset)
    assert not os.listdir(tmp_path)


def test_every_activation_has_an_onnx_graph():
    assert set(E._ACTIVATION_GRAPHS) == set(ACTIVATIONS)


def test_missing_onnx_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(MissingDependencyError, match=r'pip install "xpnet\[onnx\]"') as info:
        xpnet.export_onnx(xpnet.MLP([2, 1]), tmp_path / "m.onnx")
    assert isinstance(info.value, ImportError) and isinstance(info.value, xpnet.XpnetError)
    assert not os.listdir(tmp_path)


def test_bad_models_are_refused(tmp_path):
    with pytest.raises(xpnet.InvalidTypeError, match="model must be an xpnet.MLP"):
        xpnet.export_onnx("model.npz", tmp_path / "m.onnx")
    custom = xpnet.MLP([2, 3, 1], hidden=Activation("tanh", tanh, lambda da, z, a: da))
    with pytest.raises(xpnet.InvalidArgumentError, match="custom function"):
        xpnet.export_onnx(custom, tmp_path / "m.onnx")
    nan = [(np.full((2, 3), np.nan), np.zeros(3)), (np.zeros((3, 1)), np.zeros(1))]
    diverged = xpnet.MLP([2, 3, 1]).set_params(nan)
    with pytest.raises(xpnet.InvalidArgumentError, match="NaN or infinity"):
        xpnet.export_onnx(diverged, tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


def test_paths_that_cannot_be_written(tmp_path):
    pytest.importorskip("onnx")
    model = xpnet.MLP([2, 1])
    with pytest.raises(xpnet.InvalidArgumentError, match="does not exist"):
        xpnet.export_onnx(model, tmp_path / "missing" / "m.onnx")
    with pytest.raises(xpnet.InvalidArgumentError, match="cannot write"):
        xpnet.export_onnx(model, tmp_path)  # a directory
    with pytest.raises(xpnet.InvalidTypeError, match="path"):
        xpnet.export_onnx(model, None)
    if os.name == "posix" and os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(xpnet.InvalidArgumentError, match="cannot write.*ermission"):
                xpnet.export_onnx(model, locked / "m.onnx")
            assert not os.listdir(locked)
        finally:
            locked.chmod(0o700)
    assert sorted(os.listdir(tmp_path)) in ([], ["locked"])


def test_the_write_is_atomic(tmp_path, monkeypatch):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "m.onnx"
    xpnet.export_onnx(xpnet.MLP([2, 3, 1], seed=1), path)
    before = path.read_bytes()

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(xpnet.InvalidArgumentError, match="No space left"):
        xpnet.export_onnx(xpnet.MLP([2, 5, 1], seed=2), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.onnx"]  # old file whole, no temporary
    monkeypatch.undo()
    xpnet.export_onnx(xpnet.MLP([2, 5, 1], seed=2), path)  # an existing file is replaced
    assert [d.dim_value for d in onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim][1] == 2
    assert path.read_bytes() != before and os.listdir(tmp_path) == ["m.onnx"]
