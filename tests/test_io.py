"""Model files and checkpoints: round trips across backends, exact resumption, hostile files."""

import io as _io
import json
import zipfile

import numpy as np
import pytest

import xpnet
from xpnet import datasets
from xpnet import io as xio


@pytest.fixture
def data():
    X, y = datasets.spirals(n_samples=90, n_classes=3, seed=0)
    return X, y


def trained(backend_name="numpy", dtype="float32"):
    X, y = datasets.spirals(n_samples=90, n_classes=3, seed=0)
    model = xpnet.MLP([2, 8, 6, 3], hidden=["relu", "tanh"], output="softmax", dtype=dtype,
                      backend=backend_name)
    xpnet.train(model, X, y, epochs=5, batch_size=30, optimizer="adam", lr=0.01)
    return model


def test_save_on_one_backend_load_on_every_backend(backend, tmp_path, data):
    X, _ = data
    model = trained(backend.spec)
    path = tmp_path / "model.npz"
    xpnet.save(model, path)
    for target in ("numpy", backend.spec):
        loaded = xpnet.load(path, backend=target)
        assert loaded.config() == model.config()
        assert loaded.backend is xpnet.get_backend(target)
        for (W, b), (W0, b0) in zip(loaded.params, model.params):
            np.testing.assert_array_equal(xpnet.to_numpy(W), xpnet.to_numpy(W0))
            np.testing.assert_array_equal(xpnet.to_numpy(b), xpnet.to_numpy(b0))
        np.testing.assert_array_equal(xpnet.to_numpy(loaded.predict(X)), xpnet.to_numpy(model.predict(X)))


def test_file_is_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "m.npz"
    xpnet.save(trained(dtype="float64"), path)
    with np.load(path, allow_pickle=False) as f:
        header = json.loads(f["__xpnet__"].tobytes())
        assert header["format"] == "xpnet-model" and header["version"] == xio.FORMAT_VERSION
        assert header["model"]["sizes"] == [2, 8, 6, 3]
        assert f["W0"].dtype == np.float64 and f["W0"].shape == (2, 8)


def test_refuses_to_save_nan_weights_and_custom_activations(tmp_path):
    model = xpnet.MLP([2, 3, 1])
    W, b = model.params[0]
    model.set_params([(np.full_like(W, np.nan), b), model.params[1]])
    with pytest.raises(xpnet.InvalidArgumentError, match="NaN"):
        xpnet.save(model, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind
    from xpnet.activations import Activation, tanh
    custom = xpnet.MLP([2, 3, 1], hidden=Activation("tanh", tanh, lambda da, z, a: da))
    with pytest.raises(xpnet.InvalidArgumentError, match="custom"):
        xpnet.save(custom, tmp_path / "c.npz")


def run(tmp_path, epochs, ckpt=None, resume=False, seed_model=0, **extra):
    X, y = datasets.spirals(n_samples=120, n_classes=3, seed=1)
    Xv, yv = datasets.spirals(n_samples=60, n_classes=3, seed=2)
    model = xpnet.MLP([2, 16, 3], output="softmax", seed=seed_model, dtype="float64")
    history = xpnet.train(model, X, y, epochs=epochs, batch_size=32, optimizer="adam", lr=0.02, dropout=0.2,
                          seed=5, validation_data=(Xv, yv), checkpoint=ckpt, resume=resume, **extra)
    return model, history


def test_resuming_gives_the_same_result_as_never_stopping(tmp_path):
    full_model, full = run(tmp_path, epochs=12)
    ckpt = tmp_path / "run.npz"
    run(tmp_path, epochs=5, ckpt=ckpt)  # "interrupted" after 5 epochs
    model, history = run(tmp_path, epochs=12, ckpt=ckpt, resume=True, seed_model=99)
    assert history.loss == full.loss and history.val_loss == full.val_loss
    for (W, b), (W0, b0) in zip(model.params, full_model.params):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    saved = xio.load_checkpoint(ckpt)
    assert saved["train"]["epoch"] == 12


def test_resume_with_early_stopping_state(tmp_path):
    kwargs = dict(early_stopping=xpnet.EarlyStopping(patience=2, min_delta=10.0))  # stops quickly
    full_model, full = run(tmp_path, epochs=20, **kwargs)
    assert full.stopped_early
    ckpt = tmp_path / "es.npz"
    run(tmp_path, epochs=2, ckpt=ckpt, **kwargs)
    model, history = run(tmp_path, epochs=20, ckpt=ckpt, resume=True, **kwargs)
    assert history.loss == full.loss and history.stopped_early
    np.testing.assert_array_equal(model.params[0][0], full_model.params[0][0])


def test_resume_without_a_file_starts_fresh_and_mismatches_are_refused(tmp_path):
    ckpt = tmp_path / "new.npz"
    _, history = run(tmp_path, epochs=3, ckpt=ckpt, resume=True)
    assert history.epochs == 3 and ckpt.exists()
    X, y = datasets.spirals(n_samples=120, n_classes=3, seed=1)
    other = xpnet.MLP([2, 8, 3], output="softmax", dtype="float64")
    with pytest.raises(xpnet.InvalidArgumentError, match="different model"):
        xpnet.train(other, X, y, epochs=5, checkpoint=ckpt, resume=True)
    same = xpnet.MLP([2, 16, 3], output="softmax", dtype="float64")
    with pytest.raises(xpnet.InvalidArgumentError, match="optimizer"):
        xpnet.train(same, X, y, epochs=5, optimizer="sgd", checkpoint=ckpt, resume=True)
    with pytest.raises(xpnet.InvalidArgumentError, match="batch_size"):
        xpnet.train(same, X, y, epochs=5, batch_size=8, optimizer="adam", lr=0.02, dropout=0.2, seed=5,
                    checkpoint=ckpt, resume=True)
    with pytest.raises(xpnet.InvalidArgumentError, match="needs checkpoint"):
        xpnet.train(same, X, y, epochs=5, resume=True)


def test_checkpoint_is_readable_as_a_model(tmp_path):
    ckpt = tmp_path / "c.npz"
    model, _ = run(tmp_path, epochs=2, ckpt=ckpt)
    saved = xio.load_checkpoint(ckpt)
    np.testing.assert_array_equal(saved["params"][0], model.params[0][0])
    with pytest.raises(xio.InvalidFileError, match="not a training checkpoint"):
        path = tmp_path / "m.npz"
        xpnet.save(model, path)
        xio.load_checkpoint(path)


# -- hostile and broken files ------------------------------------------------------
def rewrite(path, out, header=None, drop=None, replace=None):
    """Copy an archive, changing its header JSON or members."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            name = info.filename
            if drop and name == drop:
                continue
            data = src.read(name)
            if name == "__xpnet__.npy" and header is not None:
                buf = _io.BytesIO()
                np.save(buf, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
                data = buf.getvalue()
            if replace and name in replace:
                data = replace[name]
            dst.writestr(name, data)


def npy_bytes(a):
    buf = _io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.npz"
    xpnet.save(trained(), path)
    with np.load(path) as f:
        header = json.loads(f["__xpnet__"].tobytes())
    return path, header


def edited(header, **model_changes):
    h = json.loads(json.dumps(header))
    h["model"].update(model_changes)
    return h


@pytest.mark.parametrize("case, match", [
    ("missing", "no such file"),
    ("not_zip", "not a valid .npz"),
    ("truncated", "not a valid .npz|truncated|corrupt"),
    ("no_header", "missing array '__xpnet__'"),
    ("other_format", "unknown format"),
    ("newer_version", "newer xpnet"),
    ("huge_sizes", "more than the limit"),
    ("bad_sizes", "bad layer sizes"),
    ("bad_dtype", "bad dtype"),
    ("shape_mismatch", "shape .* declared architecture"),
    ("wrong_dtype_array", "dtype float64, expected float32"),
    ("object_array", "dtype object"),
    ("missing_array", "missing array 'b1'"),
    ("nan_weights", "NaN or infinity"),
    ("bad_activation", "invalid architecture"),
    ("corrupt_json", "corrupt header"),
])
def test_bad_files_get_a_clear_error(good, tmp_path, case, match):
    path, header = good
    out = tmp_path / "bad.npz"
    if case == "missing":
        out = tmp_path / "nothing.npz"
    elif case == "not_zip":
        out.write_bytes(b"import os; os.system('echo pwned')")
    elif case == "truncated":
        out.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif case == "no_header":
        rewrite(path, out, drop="__xpnet__.npy")
    elif case == "other_format":
        rewrite(path, out, header={**header, "format": "pickle"})
    elif case == "newer_version":
        rewrite(path, out, header={**header, "version": 99})
    elif case == "huge_sizes":
        rewrite(path, out, header=edited(header, sizes=[2, 10**6, 10**6, 3]))
    elif case == "bad_sizes":
        rewrite(path, out, header=edited(header, sizes=[2, -8, 6, 3]))
    elif case == "bad_dtype":
        rewrite(path, out, header=edited(header, dtype="object"))
    elif case == "shape_mismatch":
        rewrite(path, out, replace={"W0.npy": npy_bytes(np.zeros((3, 8), np.float32))})
    elif case == "wrong_dtype_array":
        rewrite(path, out, replace={"W0.npy": npy_bytes(np.zeros((2, 8), np.float64))})
    elif case == "object_array":
        rewrite(path, out, replace={"W0.npy": npy_bytes(np.array([[object()] * 8] * 2, dtype=object))})
    elif case == "missing_array":
        rewrite(path, out, drop="b1.npy")
    elif case == "nan_weights":
        rewrite(path, out, replace={"b0.npy": npy_bytes(np.full(8, np.nan, np.float32))})
    elif case == "bad_activation":
        rewrite(path, out, header=edited(header, output="evil"))
    elif case == "corrupt_json":
        buf = _io.BytesIO()
        np.save(buf, np.frombuffer(b"{not json", dtype=np.uint8))
        rewrite(path, out, replace={"__xpnet__.npy": buf.getvalue()})
    with pytest.raises(xio.InvalidFileError, match=match):
        xpnet.load(out)
    with pytest.raises(ValueError):  # the documented error is a ValueError too
        xpnet.load(out)


def test_truncated_array_member_is_detected(good, tmp_path):
    path, _ = good
    data = npy_bytes(np.zeros((2, 8), np.float32))
    out = tmp_path / "short.npz"
    rewrite(path, out, replace={"W0.npy": data[:-12]})
    with pytest.raises(xio.InvalidFileError, match="truncated"):
        xpnet.load(out)
