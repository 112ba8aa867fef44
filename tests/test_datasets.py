"""Tests for xpnet.datasets (host-side NumPy generators and helpers)."""

import numpy as np
import pytest

import xpnet
from xpnet import datasets

# name -> small keyword arguments used by the generic tests
SMALL = {
    "xor": dict(n_repeats=3),
    "flower": dict(n_samples=40),
    "moons": dict(n_samples=31),
    "circles": dict(n_samples=31),
    "spirals": dict(n_samples=31, n_classes=3),
    "blobs": dict(n_samples=31, n_features=4, centers=3),
    "teacher": dict(n_samples=60, n_features=5, n_classes=3, noise=0.3),
}
EXPECTED_SHAPE = {
    "xor": ((12, 2), 2),
    "flower": ((40, 2), 2),
    "moons": ((31, 2), 2),
    "circles": ((31, 2), 2),
    "spirals": ((31, 2), 3),
    "blobs": ((31, 4), 3),
    "teacher": ((60, 5), 3),
}
RANDOM_NAMES = [n for n in datasets.NAMES if n != "xor"]


def _gen(name, **extra):
    return getattr(datasets, name)(**{**SMALL[name], **extra})


def test_names_tuple():
    assert isinstance(datasets.NAMES, tuple)
    assert set(datasets.NAMES) == {
        "xor", "flower", "moons", "circles", "spirals", "blobs", "teacher"
    }


@pytest.mark.parametrize("name", datasets.NAMES)
def test_shapes_dtypes_layout(name):
    X, y = _gen(name)
    shape, k = EXPECTED_SHAPE[name]
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == shape
    assert X.dtype == np.float64
    assert X.flags.c_contiguous
    assert y.shape == (shape[0],)
    assert y.dtype == np.int64
    assert np.all(np.isfinite(X))
    # labels cover exactly 0..k-1
    assert set(np.unique(y).tolist()) == set(range(k))


@pytest.mark.parametrize("name", datasets.NAMES)
def test_same_seed_identical(name):
    X1, y1 = _gen(name, seed=7)
    X2, y2 = _gen(name, seed=7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_different_seeds_differ(name):
    X1, _ = _gen(name, seed=0)
    X2, _ = _gen(name, seed=1)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_global_rng_untouched(name):
    state = np.random.get_state()
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    _gen(name, seed=3)
    after = np.random.get_state()[1]
    np.testing.assert_array_equal(before, after)
    np.random.set_state(state)


@pytest.mark.parametrize(
    "name, n, k, kwargs",
    [
        ("moons", 31, 2, {}),
        ("circles", 31, 2, {}),
        ("spirals", 32, 3, dict(n_classes=3)),
        ("spirals", 50, 7, dict(n_classes=7)),
        ("blobs", 32, 3, dict(centers=3)),
        ("blobs", 10, 4, dict(centers=4)),
    ],
)
def test_grouped_balanced_split(name, n, k, kwargs):
    _, y = getattr(datasets, name)(n_samples=n, **kwargs)
    base, extra = divmod(n, k)
    expected_counts = [base + (1 if c < extra else 0) for c in range(k)]
    assert np.bincount(y, minlength=k).tolist() == expected_counts
    # grouped by class, in order
    np.testing.assert_array_equal(y, np.repeat(np.arange(k), expected_counts))


# ---------------------------------------------------------------------------
# individual generators
# ---------------------------------------------------------------------------


def test_xor_values():
    X, y = datasets.xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    # label really is XOR of the coordinates
    X3, y3 = datasets.xor(n_repeats=3, seed=99)
    assert X3.shape == (12, 2)
    np.testing.assert_array_equal(y3, np.logical_xor(X3[:, 0], X3[:, 1]).astype(np.int64))
    np.testing.assert_array_equal(X3[4:8], X)


@pytest.mark.parametrize("petals", [4, 3])
def test_flower_noise_free_follows_formula(petals):
    n = 60
    X, y = datasets.flower(n_samples=n, noise=0.0, petals=petals, seed=5)
    half = n // 2
    np.testing.assert_array_equal(y, np.repeat([0, 1], half))
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, half)
        pts = X[y == j]
        r = 4 * np.sin(petals * t)
        np.testing.assert_allclose(np.hypot(pts[:, 0], pts[:, 1]), np.abs(r), atol=1e-12)
        np.testing.assert_allclose(pts[:, 0], r * np.sin(t), atol=1e-12)
        np.testing.assert_allclose(pts[:, 1], r * np.cos(t), atol=1e-12)


def test_flower_noise_moves_points_but_stays_bounded():
    X0, _ = datasets.flower(n_samples=200, noise=0.0)
    X1, _ = datasets.flower(n_samples=200, noise=0.2)
    assert not np.allclose(X0, X1)
    assert np.hypot(X1[:, 0], X1[:, 1]).max() < 4 + 2.0  # radius noise is small
    assert np.hypot(X0[:, 0], X0[:, 1]).max() <= 4 + 1e-12


def test_flower_rejects_odd_n():
    with pytest.raises(ValueError, match="n_samples.*even"):
        datasets.flower(n_samples=41)


def test_moons_noise_free_on_arcs():
    X, y = datasets.moons(n_samples=50, noise=0.0)
    up, lo = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(up[:, 0], up[:, 1]), 1.0)
    assert np.all(up[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lo[:, 0] - 1.0, lo[:, 1] - 0.5), 1.0)
    assert np.all(lo[:, 1] <= 0.5 + 1e-12)


def test_circles_radii():
    X, y = datasets.circles(n_samples=41, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    Xn, yn = datasets.circles(n_samples=400, noise=0.05, factor=0.3)
    rn = np.hypot(Xn[:, 0], Xn[:, 1])
    assert rn[yn == 1].max() < rn[yn == 0].min()  # still separable


def test_spirals_noise_free_formula():
    X, y = datasets.spirals(n_samples=30, n_classes=3, noise=0.0)
    for k in range(3):
        pts = X[y == k]
        r = np.linspace(0, 1, 10)
        th = np.linspace(4 * k, 4 * (k + 1), 10)
        np.testing.assert_allclose(pts, np.column_stack([r * np.sin(th), r * np.cos(th)]),
                                   atol=1e-12)


def test_blobs_clusters_near_centres():
    X, y = datasets.blobs(n_samples=600, n_features=3, centers=4, cluster_std=0.5, seed=2)
    assert np.all(np.abs(X) < 10 + 0.5 * 6)
    means = np.array([X[y == c].mean(axis=0) for c in range(4)])
    stds = np.array([X[y == c].std(axis=0) for c in range(4)])
    assert np.all(np.abs(means) <= 10.2)
    np.testing.assert_allclose(stds, 0.5, rtol=0.3)
    X0, _ = datasets.blobs(n_samples=8, centers=2, cluster_std=0.0, seed=2)
    assert len(np.unique(X0, axis=0)) == 2  # zero spread: points sit on centres


@pytest.mark.parametrize("n_classes", [2, 3, 5, 10])
@pytest.mark.parametrize("hidden", [1, 4, 32])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_teacher_no_empty_class(n_classes, hidden, seed):
    n = 10 * n_classes
    for n_features in (1, 5):
        _, y = datasets.teacher(n_samples=n, n_features=n_features, n_classes=n_classes,
                                hidden=hidden, seed=seed)
        counts = np.bincount(y, minlength=n_classes)
        assert counts.shape == (n_classes,)
        assert counts.min() >= 1, counts


def test_teacher_balanced_default():
    _, y = datasets.teacher(n_samples=1000, n_classes=4)
    counts = np.bincount(y, minlength=4)
    assert counts.min() >= 0.8 * 250, counts


def _loo_1nn_accuracy(X, y):
    d = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=-1)
    np.fill_diagonal(d, np.inf)
    return float(np.mean(y[np.argmin(d, axis=1)] == y))


def test_teacher_is_learnable():
    X, y = datasets.teacher(n_samples=500, n_features=5, n_classes=2, noise=0.0, seed=0)
    chance = np.bincount(y).max() / len(y)
    acc = _loo_1nn_accuracy(X, y)
    assert acc > chance + 0.25, (acc, chance)
    # control: the same inputs with shuffled labels are not learnable
    y_perm = np.random.default_rng(0).permutation(y)
    assert _loo_1nn_accuracy(X, y_perm) < chance + 0.1
    # heavy label noise makes it harder
    Xn, yn = datasets.teacher(n_samples=500, n_features=5, n_classes=2, noise=2.0, seed=0)
    np.testing.assert_array_equal(X, Xn)  # same inputs, same teacher
    assert _loo_1nn_accuracy(Xn, yn) < acc


# ---------------------------------------------------------------------------
# one_hot
# ---------------------------------------------------------------------------


def test_one_hot_round_trip():
    y = np.array([2, 0, 1, 2, 4], dtype=np.int64)
    Y = datasets.one_hot(y)
    assert Y.shape == (5, 5) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y.argmax(axis=1), y)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    assert set(np.unique(Y).tolist()) == {0.0, 1.0}
    Y7 = datasets.one_hot([0, 1], n_classes=7, dtype=np.float32)
    assert Y7.shape == (2, 7) and Y7.dtype == np.float32
    np.testing.assert_array_equal(Y7[:, 2:], 0)
    Yf = datasets.one_hot(np.array([1.0, 0.0]))
    np.testing.assert_array_equal(Yf, [[0, 1], [1, 0]])


def test_one_hot_from_generator():
    _, y = datasets.spirals(n_samples=30, n_classes=3)
    np.testing.assert_array_equal(datasets.one_hot(y).argmax(axis=1), y)


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        (np.zeros((3, 2), dtype=int), {}, r"y must be a 1-D.*shape \(3, 2\)"),
        (np.int64(3), {}, r"y must be a 1-D"),
        (np.array([0.5, 1.0]), {}, r"non-integer value 0\.5"),
        (np.array([0, np.nan]), {}, r"non-integer"),
        (np.array(["a", "b"]), {}, r"integer class labels.*astype"),
        (np.array([True, False]), {}, r"integer class labels"),
        (np.array([0, -1, 2]), {}, r"y must hold labels >= 0.*-1"),
        (np.array([0, 3]), dict(n_classes=3), r"label 3.*n_classes=3.*n_classes >= 4"),
        (np.array([0, 1]), dict(n_classes=0), r"n_classes must be a positive int or None; got 0"),
        (np.array([], dtype=np.int64), {}, r"n_classes is required"),
    ],
)
def test_one_hot_errors(y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.one_hot(y, **kwargs)


def test_one_hot_empty_with_n_classes():
    assert datasets.one_hot(np.array([], dtype=np.int64), n_classes=3).shape == (0, 3)


# ---------------------------------------------------------------------------
# standardize
# ---------------------------------------------------------------------------


def test_standardize_fit_and_reuse():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[5.0, -3.0, 100.0], scale=[2.0, 0.1, 30.0], size=(200, 3))
    Xs, mean, std = datasets.standardize(X)
    assert Xs.shape == X.shape and Xs.dtype == np.float64 and Xs.flags.c_contiguous
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xs.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(mean, X.mean(axis=0))
    np.testing.assert_allclose(std, X.std(axis=0))
    # applying the fit to new data uses the old statistics, not the new ones
    X_test = X[:10] + 1.0
    Xt, mean2, std2 = datasets.standardize(X_test, mean, std)
    np.testing.assert_allclose(Xt, (X_test - mean) / std)
    np.testing.assert_array_equal(mean2, mean)
    np.testing.assert_array_equal(std2, std)
    # reapplying the fit to the training data reproduces the fit result
    np.testing.assert_allclose(datasets.standardize(X, mean, std)[0], Xs)
    # input is not modified
    assert not np.shares_memory(Xs, X)


def test_standardize_constant_column_only_centred():
    X = np.column_stack([np.full(5, 3.0), np.arange(5.0), np.full(5, 0.1)])
    Xs, mean, std = datasets.standardize(X)
    np.testing.assert_allclose(Xs[:, 0], 0.0)
    np.testing.assert_allclose(Xs[:, 2], 0.0, atol=1e-15)
    assert std[0] == 1.0 and std[2] == 1.0
    assert np.all(np.isfinite(Xs))
    np.testing.assert_allclose(Xs[:, 1].std(), 1.0)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.arange(5.0),), r"X must be a 2-D.*\(5,\)"),
        ((np.ones((3, 2)), np.zeros(2), None), r"mean and std must be given together"),
        ((np.ones((3, 2)), np.zeros(3), np.ones(3)), r"mean must have shape \(2,\)"),
        ((np.ones((3, 2)), np.zeros(2), np.ones(5)), r"std must have shape \(2,\)"),
        ((np.ones((0, 2)),), r"at least one row"),
    ],
)
def test_standardize_errors(args, match):
    with pytest.raises(ValueError, match=match):
        datasets.standardize(*args)


# ---------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", datasets.NAMES)
def test_load_dispatch(name):
    X1, y1 = datasets.load(name, **SMALL[name], seed=4)
    X2, y2 = getattr(datasets, name)(**SMALL[name], seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_load_defaults():
    X, y = datasets.load("moons")
    assert X.shape == (200, 2) and y.shape == (200,)


@pytest.mark.parametrize("bad, error", [("mnist", ValueError), ("Moons", ValueError), ("", ValueError),
                                        (None, TypeError), (3, TypeError)])
def test_load_unknown_name(bad, error):
    with pytest.raises(error) as info:
        datasets.load(bad)
    msg = str(info.value)
    assert repr(bad) in msg
    for name in datasets.NAMES:
        assert name in msg


def test_load_forwards_bad_kwargs():
    with pytest.raises(ValueError, match="noise"):
        datasets.load("spirals", noise=-1.0)


# ---------------------------------------------------------------------------
# argument validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "func, kwargs, match",
    [
        (datasets.xor, dict(n_repeats=0), r"n_repeats must be a positive int; got 0"),
        (datasets.flower, dict(n_samples=0), r"n_samples must be an int >= 2; got 0"),
        (datasets.flower, dict(noise=-0.1), r"noise must be in \[0\.0, inf\).* non-negative; got -0\.1"),
        (datasets.flower, dict(petals=0), r"petals must be a positive int; got 0"),
        (datasets.moons, dict(n_samples=-5), r"n_samples must be an int >= 2; got -5"),
        (datasets.moons, dict(n_samples=10.0), r"n_samples must be an int >= 2; got float 10\.0"),
        (datasets.moons, dict(n_samples=True), r"n_samples must be an int >= 2; got bool True"),
        (datasets.moons, dict(noise=float("nan")), r"noise must be in \[0\.0, inf\).* non-negative; got nan"),
        (datasets.circles, dict(noise=-1), r"noise must be in \[0\.0, inf\).*; got -1"),
        (datasets.circles, dict(factor=1.0), r"factor must be in \(0\.0, 1\.0\); got 1\.0"),
        (datasets.circles, dict(factor=0.0), r"factor must be in \(0\.0, 1\.0\); got 0\.0"),
        (datasets.spirals, dict(n_classes=1), r"n_classes must be an int >= 2; got 1"),
        (datasets.spirals, dict(n_samples=2, n_classes=3), r"n_samples must be an int >= 3; got 2"),
        (datasets.spirals, dict(noise=-0.5), r"noise must be in \[0\.0, inf\).*; got -0\.5"),
        (datasets.blobs, dict(n_samples=0), r"n_samples must be an int >= 3; got 0"),
        (datasets.blobs, dict(n_features=0), r"n_features must be a positive int; got 0"),
        (datasets.blobs, dict(centers=0), r"centers must be a positive int; got 0"),
        (datasets.blobs, dict(cluster_std=-1.0), r"cluster_std must be in \[0\.0, inf\).*; got -1\.0"),
        (datasets.teacher, dict(n_samples=0), r"n_samples must be a positive int; got 0"),
        (datasets.teacher, dict(n_features=0), r"n_features must be a positive int; got 0"),
        (datasets.teacher, dict(n_classes=1), r"n_classes must be an int >= 2; got 1"),
        (datasets.teacher, dict(hidden=0), r"hidden must be a positive int; got 0"),
        (datasets.teacher, dict(noise=-0.01), r"noise must be in \[0\.0, inf\).*; got -0\.01"),
    ],
)
def test_invalid_arguments(func, kwargs, match):
    with pytest.raises(ValueError, match=match):
        func(**kwargs)


@pytest.mark.parametrize("func, kwargs", [
    (datasets.moons, dict(noise="0.1")),
    (datasets.moons, dict(noise=None)),
    (datasets.flower, dict(n_samples="400")),
    (datasets.blobs, dict(seed="0")),
    (datasets.train_test_split, dict(X=np.zeros((5, 2)), y=np.zeros(5), test_size="0.2")),
])
def test_strings_and_none_are_type_errors(func, kwargs):
    with pytest.raises(xpnet.InvalidTypeError, match="must be a") as info:
        func(**kwargs)
    assert not isinstance(info.value, ValueError)


def test_load_refuses_arguments_the_data_set_does_not_take():
    with pytest.raises(xpnet.InvalidArgumentError, match=r"data set 'moons' takes no argument factor; its "
                       r"arguments are n_samples, noise, seed"):
        datasets.load("moons", factor=0.5)


def test_numpy_integer_sizes_accepted():
    X, y = datasets.moons(n_samples=np.int64(10), noise=np.float32(0.1))
    assert X.shape == (10, 2)
