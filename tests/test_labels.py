"""Class labels of any kind (``model.classes``), checked against scikit-learn's LabelEncoder."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import xpnet
from xpnet import datasets, io as xio

sklearn_preprocessing = pytest.importorskip("sklearn.preprocessing")
LabelEncoder = sklearn_preprocessing.LabelEncoder

NAMES = np.array(["zebra", "ant", "moth"])  # not in sorted order: the classes must come out sorted


@pytest.fixture
def blobs():
    X, y = datasets.blobs(n_samples=120, n_features=2, centers=3, seed=3)
    return X, y


def _trained(X, y, backend="numpy", classes=None, epochs=40, **kwargs):
    model = xpnet.MLP(
        [X.shape[1], 8, 3], output="softmax", seed=1, backend=backend, classes=classes, dtype="float64"
    )
    history = xpnet.train(model, X, y, epochs=epochs, optimizer="adam", lr=0.05, batch_size=32, **kwargs)
    return model, history


def test_text_labels_train_like_their_label_encoder_codes(blobs, backend):
    X, y = blobs
    names = NAMES[y]
    encoder = LabelEncoder().fit(names)
    model, history = _trained(X, names, backend)
    reference, ref_history = _trained(X, encoder.transform(names), backend)
    np.testing.assert_array_equal(model.classes, encoder.classes_)
    assert history.loss == pytest.approx(ref_history.loss, rel=1e-12)
    for (W, b), (W0, b0) in zip(model.params, reference.params):
        np.testing.assert_allclose(xpnet.to_numpy(W), xpnet.to_numpy(W0), rtol=1e-12)
    predicted = model.predict(X)
    assert isinstance(predicted, np.ndarray)  # decoded labels are host arrays on every backend
    np.testing.assert_array_equal(predicted, encoder.inverse_transform(xpnet.to_numpy(reference.predict(X))))
    assert model.score(X, names) == pytest.approx(np.mean(predicted == names))
    assert model.loss(X, names) == pytest.approx(reference.loss(X, encoder.transform(names)), rel=1e-12)
    # predict_proba's columns follow model.classes: its argmax is predict's label
    proba = xpnet.to_numpy(model.predict_proba(X))
    np.testing.assert_array_equal(model.classes[np.argmax(proba, axis=1)], predicted)


def test_numeric_class_names_are_given_to_the_model(blobs):
    X, y = blobs
    labels = np.array([9, 3, 7])[y]
    model, _ = _trained(X, labels, classes=[9, 7, 3])
    encoder = LabelEncoder().fit(labels)
    np.testing.assert_array_equal(model.classes, encoder.classes_)  # sorted: 3, 7, 9
    assert model.classes.dtype == np.int64
    reference, _ = _trained(X, encoder.transform(labels))
    np.testing.assert_array_equal(
        model.predict(X), encoder.inverse_transform(xpnet.to_numpy(reference.predict(X)))
    )
    assert model.score(X, labels) > 0.9


def test_numbers_without_classes_keep_meaning_output_indices(blobs):
    X, y = blobs
    model = xpnet.MLP([2, 8, 3], output="softmax")
    with pytest.raises(xpnet.InvalidArgumentError, match=r"label 9, outside .* classes=\[\.\.\.\]"):
        xpnet.train(model, X, np.array([9, 3, 7])[y], epochs=1)
    assert model.classes is None


def test_two_text_classes_on_one_sigmoid_unit():
    X, y = datasets.moons(n_samples=200, seed=0)
    answers = np.array(["yes", "no"])[y]  # "no" sorts first: class 1 is "yes" where y == 0
    model = xpnet.MLP([2, 16, 1], hidden="tanh", output="sigmoid", seed=0)
    xpnet.train(model, X, answers, epochs=300, optimizer="adam", lr=0.02)
    np.testing.assert_array_equal(model.classes, ["no", "yes"])
    p_yes = xpnet.to_numpy(model.forward(X))[:, 0]
    np.testing.assert_array_equal(model.predict(X), np.where(p_yes > 0.5, "yes", "no"))
    assert model.score(X, answers) > 0.85


def test_labels_outside_the_classes_are_refused(blobs):
    X, y = blobs
    model, _ = _trained(X, NAMES[y], epochs=2)
    bad = NAMES[y].copy()
    bad[5] = "bee"
    before = [xpnet.to_numpy(W).copy() for W, _ in model.params]
    with pytest.raises(xpnet.InvalidArgumentError, match=r"y has label 'bee' \(row 5\), which is not one of"):
        xpnet.train(model, X, bad, epochs=1)
    with pytest.raises(xpnet.InvalidArgumentError, match="y_val has label 'bee'"):
        xpnet.train(model, X, NAMES[y], epochs=1, validation_data=(X, bad))
    with pytest.raises(xpnet.InvalidArgumentError, match="'bee'"):
        model.score(X, bad)
    with pytest.raises(xpnet.InvalidArgumentError, match="'bee'"):
        model.loss(X, bad)
    with pytest.raises(xpnet.InvalidArgumentError, match=r"y has label 0 \(row 0\), which is not one of"):
        model.loss(X, y)  # numbers are not the text classes
    for W, W0 in zip((xpnet.to_numpy(W) for W, _ in model.params), before):
        np.testing.assert_array_equal(W, W0)


@pytest.mark.parametrize(
    "classes, message",
    [
        (["a", "b"], "2 classes .* softmax output has 3 units"),
        (["a", "b", "a"], "must be distinct"),
        (["a", 1, 2.5], "one kind"),
        ([], "non-empty"),
        ([1.0, np.nan, 2.0], "finite"),
    ],
)
def test_bad_classes_are_refused(classes, message):
    with pytest.raises(xpnet.XpnetError, match=message):
        xpnet.MLP([2, 3, 3], output="softmax", classes=classes)


def test_classes_need_a_classifier_output():
    with pytest.raises(xpnet.InvalidArgumentError, match="need a classifier"):
        xpnet.MLP([2, 3, 1], output="identity", classes=[0, 1])
    with pytest.raises(xpnet.InvalidArgumentError, match="2 classes"):
        xpnet.MLP([2, 3, 1], output="sigmoid", classes=["a", "b", "c"])


def test_text_labels_need_the_right_number_of_classes(blobs):
    X, y = blobs
    with pytest.raises(
        xpnet.InvalidArgumentError, match=r"y has 2 classes \('ant', 'zebra'\) but the softmax"
    ):
        xpnet.train(xpnet.MLP([2, 4, 3], output="softmax"), X[y < 2], NAMES[y[y < 2]], epochs=1)
    with pytest.raises(xpnet.InvalidTypeError, match="one kind"):
        xpnet.train(xpnet.MLP([2, 4, 3], output="softmax"), X[:3], ["a", 1, "b"], epochs=1)


def test_class_weight_by_class_name(blobs):
    X, y = blobs
    names = NAMES[y]
    encoder = LabelEncoder().fit(names)
    weights = {"moth": 3.0, "zebra": 0.5}
    model, h = _trained(X, names, class_weight=weights)
    by_index = {int(encoder.transform([k])[0]): v for k, v in weights.items()}
    _, h_ref = _trained(X, encoder.transform(names), class_weight=by_index)
    assert h.loss == pytest.approx(h_ref.loss, rel=1e-12)
    with pytest.raises(xpnet.InvalidArgumentError, match="class_weight has label 'bee'"):
        _trained(X, names, class_weight={"bee": 2.0})


def test_classes_survive_save_and_load(tmp_path, blobs):
    X, y = blobs
    model, _ = _trained(X, NAMES[y], epochs=5)
    path = tmp_path / "named.npz"
    xpnet.save(model, path)
    with np.load(path, allow_pickle=False) as f:
        header = json.loads(f["__xpnet__"].tobytes())
    assert header["version"] == xio.CLASSES_VERSION and header["model"]["classes"] == ["ant", "moth", "zebra"]
    loaded = xpnet.load(path)
    np.testing.assert_array_equal(loaded.classes, model.classes)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    plain = tmp_path / "plain.npz"
    xpnet.save(_trained(X, y, epochs=1)[0], plain)  # no classes: version 1, as older xpnet wrote
    with np.load(plain, allow_pickle=False) as f:
        assert json.loads(f["__xpnet__"].tobytes())["version"] == 1
    assert xpnet.load(plain).classes is None


def _with_header(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "__xpnet__.npy":
                with np.load(src, allow_pickle=False) as f:
                    header = json.loads(f["__xpnet__"].tobytes())
                edit(header)
                blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
                import io

                buffer = io.BytesIO()
                np.save(buffer, blob)
                data = buffer.getvalue()
            zout.writestr(item, data)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h: h["model"].update(classes=["a", 1, "b"]), "bad classes"),
        (lambda h: h["model"].update(classes=["a", "b"]), "invalid architecture"),
        (lambda h: h["model"].update(classes=["a", "a", "b"]), "invalid architecture"),
        (lambda h: h["model"].update(classes="abc"), "bad classes"),
        (lambda h: h["model"].update(classes=[0.5, float("inf"), 2.0]), "bad classes"),
        (lambda h: h["model"].update(classes=["x" * 20_000, "b", "c"]), "bad classes"),
        (lambda h: h["model"].update(classes=[1, 2, 2**70]), "bad classes"),
        (lambda h: h.update(version=1), "class labels came with version 2"),
    ],
)
def test_tampered_classes_are_refused(tmp_path, blobs, edit, message):
    X, y = blobs
    good = tmp_path / "good.npz"
    xpnet.save(_trained(X, NAMES[y], epochs=1)[0], good)
    bad = tmp_path / "bad.npz"
    _with_header(good, bad, edit)
    with pytest.raises(xpnet.InvalidFileError, match=message):
        xpnet.load(bad)


def test_checkpoint_resume_keeps_the_classes(tmp_path, blobs):
    X, y = blobs
    ck = tmp_path / "ck.npz"
    model, _ = _trained(X, NAMES[y], epochs=3, checkpoint=ck)
    again = xpnet.MLP([2, 8, 3], output="softmax", seed=1, dtype="float64")
    history = xpnet.train(
        again, X, NAMES[y], epochs=5, optimizer="adam", lr=0.05, batch_size=32, checkpoint=ck, resume=True
    )
    assert len(history.loss) == 5
    np.testing.assert_array_equal(again.classes, ["ant", "moth", "zebra"])
    other = xpnet.MLP([2, 8, 3], output="softmax", seed=1, dtype="float64", classes=["a", "b", "c"])
    with pytest.raises(xpnet.InvalidArgumentError, match="classes"):
        xpnet.train(
            other,
            X,
            np.array(["a", "b", "c"])[y],
            epochs=6,
            optimizer="adam",
            lr=0.05,
            batch_size=32,
            checkpoint=ck,
            resume=True,
        )


@pytest.mark.parametrize("y, error, message", [
    (None, xpnet.InvalidTypeError, "y must be an array of numbers; got None"),
    ({"a": 1}, xpnet.InvalidTypeError, "y must hold real numbers"),
    ([None, 1, 0], xpnet.InvalidArgumentError, "y has missing labels"),
    (["a", 1, 2], xpnet.InvalidTypeError, "labels of one kind, all text or all numbers; got int and text"),
])
def test_what_is_not_labels_is_named(y, error, message):
    with pytest.raises(error, match=message):
        xpnet.MLP([2, 3, 1]).loss(np.zeros((3, 2)), y)
