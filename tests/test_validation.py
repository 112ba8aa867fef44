"""xpnet.validation: the argument checks every module uses.

The module is checked directly (types, ranges, messages, NumPy scalars), then
through the public functions that use it, so a module that goes back to
hand-written checks (and with them to plain TypeErrors from comparing a string
with a number) is caught.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
from xpnet.errors import (
    DataNotFoundError,
    InvalidArgumentError,
    InvalidKindError,
    InvalidTypeError,
    XpnetError,
)
from xpnet.validation import check_bool, check_choice, check_int, check_number, check_path


def only_type_error(info):
    """The error is an InvalidTypeError and not also a ValueError."""
    assert isinstance(info.value, InvalidTypeError) and not isinstance(info.value, ValueError)


def only_value_error(info):
    assert isinstance(info.value, InvalidArgumentError) and not isinstance(info.value, TypeError)


# ---------------------------------------------------------------------------
# the error classes
# ---------------------------------------------------------------------------


def test_kind_error_is_both_a_type_and_a_value_error():
    for base in (XpnetError, InvalidTypeError, InvalidArgumentError, TypeError, ValueError):
        assert issubclass(InvalidKindError, base)


# ---------------------------------------------------------------------------
# check_int
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3), np.int32(3)])
def test_int_accepts_python_and_numpy_integers(value):
    got = check_int("n", value, low=1)
    assert got == 3 and type(got) is int


@pytest.mark.parametrize("low, high, expected", [
    (1, None, "n must be a positive int; got 0"),
    (0, None, "n must be a non-negative int; got -1"),
    (2, None, "n must be an int >= 2; got -1"),
    (None, 5, "n must be an int <= 5; got 7"),
    (0, 5, "n must be an int in 0 .. 5; got 7"),
])
def test_int_range_messages(low, high, expected):
    bad = int(expected.rsplit(" ", 1)[1])
    with pytest.raises(InvalidArgumentError) as info:
        check_int("n", bad, low=low, high=high)
    assert str(info.value) == expected
    only_value_error(info)


@pytest.mark.parametrize("value, came", [
    (True, "bool True"), (np.True_, "bool True"), (2.0, "float 2.0"), (2.5, "float 2.5"),
    (np.float64(2.0), "float64 2.0"), (np.float32(1.5), "float32 1.5"),
])
def test_int_refuses_bools_and_floats_as_near_misses(value, came):
    with pytest.raises(InvalidKindError) as info:
        check_int("batch_size", value, low=1)
    assert str(info.value) == f"batch_size must be a positive int; got {came}"


@pytest.mark.parametrize("value, came", [
    ("3", "str '3'"), (None, "NoneType None"), ([3], "list [3]"), (3 + 0j, "complex (3+0j)"),
    (np.array([3]), "ndarray [3]"),
])
def test_int_refuses_other_types(value, came):
    with pytest.raises(InvalidTypeError) as info:
        check_int("epochs", value, low=1)
    assert str(info.value) == f"epochs must be a positive int; got {came}"
    only_type_error(info)


def test_int_allow_none():
    assert check_int("seed", None, low=0, allow_none=True) is None
    with pytest.raises(InvalidArgumentError, match=r"^seed must be a non-negative int or None; got -1$"):
        check_int("seed", -1, low=0, allow_none=True)


def test_int_huge_values_stay_exact():
    assert check_int("n", 2**70, low=0) == 2**70
    assert check_int("n", np.uint64(2**64 - 1)) == 2**64 - 1


@settings(max_examples=200, deadline=None)
@given(value=st.integers(-50, 50), low=st.none() | st.integers(-20, 20),
       high=st.none() | st.integers(-20, 20))
def test_int_accepts_exactly_the_range(value, low, high):
    inside = (low is None or value >= low) and (high is None or value <= high)
    try:
        got = check_int("n", value, low=low, high=high)
    except InvalidArgumentError:
        assert not inside
    else:
        assert inside and got == value


# ---------------------------------------------------------------------------
# check_number
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value, want", [
    (0.1, 0.1), (3, 3.0), (np.float64(0.1), 0.1), (np.float32(0.1), 0.1), (np.float16(0.5), 0.5),
    (np.float32(1e-8), 1e-8), (np.int64(2), 2.0), (Fraction(1, 4), 0.25),
])
def test_number_accepts_reals_and_numpy_scalars(value, want):
    got = check_number("lr", value, low=0, low_open=True)
    assert got == want and type(got) is float


def test_number_float32_is_read_as_it_prints():
    # the shortest decimal that rounds to the float32 value, so np.float32(x) means x
    for x in (0.1, 0.3, 1e-3, 0.9, 0.999, 1.2, 3e-4):
        assert check_number("x", np.float32(x)) == x
        assert np.float32(check_number("x", np.float32(x))) == np.float32(x)


@pytest.mark.parametrize("kwargs, value, expected", [
    (dict(low=0, low_open=True), 0, "lr must be in (0.0, inf), i.e. positive; got 0"),
    (dict(low=0, low_open=True), -1e-6, "lr must be in (0.0, inf), i.e. positive; got -1e-06"),
    (dict(low=0), -1, "lr must be in [0.0, inf), i.e. non-negative; got -1"),
    (dict(low=0, high=1, high_open=True), 1.0, "lr must be in [0.0, 1.0); got 1.0"),
    (dict(low=0, high=1, low_open=True, high_open=True), 0.0, "lr must be in (0.0, 1.0); got 0.0"),
    (dict(high=2), 3, "lr must be in (-inf, 2.0]; got 3"),
    (dict(), math.nan, "lr must be finite; got nan"),
    (dict(), -math.inf, "lr must be finite; got -inf"),
    (dict(low=0), math.inf, "lr must be in [0.0, inf), i.e. non-negative; got inf"),
    (dict(low=0, low_open=True), np.float32(-0.5), "lr must be in (0.0, inf), i.e. positive; got -0.5"),
    (dict(), 10**400, "lr must be finite; got " + str(10**400)[:57] + "..., too large"),
])
def test_number_value_errors(kwargs, value, expected):
    with pytest.raises(InvalidArgumentError) as info:
        check_number("lr", value, **kwargs)
    assert str(info.value) == expected
    only_value_error(info)


def test_number_infinity_only_on_request():
    assert check_number("x", math.inf, low=0, finite=False) == math.inf
    with pytest.raises(InvalidArgumentError, match=r"^x must be a number, not NaN; got nan$"):
        check_number("x", math.nan, finite=False)
    with pytest.raises(InvalidArgumentError):
        check_number("x", math.inf, high=1, finite=False)


@pytest.mark.parametrize("value, came", [
    ("0.1", "str '0.1'"), (None, "NoneType None"), (1j, "complex 1j"), ([0.1], "list [0.1]"),
])
def test_number_refuses_other_types(value, came):
    with pytest.raises(InvalidTypeError) as info:
        check_number("min_delta", value, low=0)
    assert str(info.value) == f"min_delta must be a number in [0.0, inf), i.e. non-negative; got {came}"
    only_type_error(info)


@pytest.mark.parametrize("value", [True, False, np.False_])
def test_number_refuses_bools(value):
    with pytest.raises(InvalidKindError, match=r"^lr must be a finite number; got bool (True|False)$"):
        check_number("lr", value)


def test_number_allow_none():
    assert check_number("x", None, low=0, allow_none=True) is None
    expected = r"^x must be a number in \[0.0, inf\), i.e. non-negative \(or None\); got str 'a'$"
    with pytest.raises(InvalidTypeError, match=expected):
        check_number("x", "a", low=0, allow_none=True)


def test_long_values_are_shortened_in_messages():
    with pytest.raises(InvalidTypeError) as info:
        check_number("x", "a" * 500)
    assert len(str(info.value)) < 120 and str(info.value).endswith("...")


@settings(max_examples=300, deadline=None)
@given(value=st.floats(allow_nan=True, allow_infinity=True, width=64),
       low=st.none() | st.floats(-10, 10), high=st.none() | st.floats(-10, 10),
       low_open=st.booleans(), high_open=st.booleans())
def test_number_accepts_exactly_the_interval(value, low, high, low_open, high_open):
    inside = math.isfinite(value)
    if low is not None:
        inside = inside and (value > low if low_open else value >= low)
    if high is not None:
        inside = inside and (value < high if high_open else value <= high)
    try:
        got = check_number("x", value, low=low, high=high, low_open=low_open, high_open=high_open)
    except InvalidArgumentError:
        assert not inside
    else:
        assert inside and got == value


# ---------------------------------------------------------------------------
# check_bool
# ---------------------------------------------------------------------------


def test_bool():
    assert check_bool("shuffle", True) is True
    assert check_bool("shuffle", np.False_) is False
    assert check_bool("use_tqdm", None, allow_none=True) is None
    for bad, came in ((1, "int 1"), (0, "int 0"), ("yes", "str 'yes'"), (None, "NoneType None")):
        with pytest.raises(InvalidKindError) as info:
            check_bool("shuffle", bad)
        assert str(info.value) == f"shuffle must be True or False; got {came}"
    with pytest.raises(InvalidKindError, match=r"^use_tqdm must be True, False or None; got str 'yes'$"):
        check_bool("use_tqdm", "yes", allow_none=True)


# ---------------------------------------------------------------------------
# check_choice
# ---------------------------------------------------------------------------

NAMES = ("relu", "leaky_relu", "tanh")


def test_choice_matches_names_regardless_of_case_and_dashes():
    assert check_choice("activation", "ReLU", NAMES) == "relu"
    assert check_choice("activation", "Leaky-ReLU", NAMES) == "leaky_relu"
    assert check_choice("activation", np.str_("tanh"), NAMES) == "tanh"
    linear = {"linear": "identity"}
    assert check_choice("activation", "Linear", NAMES + ("identity",), aliases=linear) == "identity"
    assert check_choice("kind", "train", {"train": 1, "test": 2}) == "train"


def test_choice_errors_list_the_valid_names():
    with pytest.raises(InvalidArgumentError) as info:
        check_choice("hidden activation", "swish", NAMES)
    assert str(info.value) == "unknown hidden activation 'swish'; expected one of relu, leaky_relu, tanh"
    only_value_error(info)
    with pytest.raises(InvalidTypeError) as info:
        check_choice("optimizer", None, ("sgd", "adam"))
    assert str(info.value) == "optimizer must be one of sgd, adam; got NoneType None"
    only_type_error(info)


def test_choice_can_be_case_sensitive():
    assert check_choice("name", "moons", ("moons",), ignore_case=False) == "moons"
    with pytest.raises(InvalidArgumentError, match="unknown name 'Moons'"):
        check_choice("name", "Moons", ("moons",), ignore_case=False)


# ---------------------------------------------------------------------------
# check_path
# ---------------------------------------------------------------------------


def test_path(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("1,0\n")
    assert check_path("path", str(f)) == f
    assert check_path("path", f) == f
    assert check_path("path", tmp_path / "new.csv", must_exist=False) == tmp_path / "new.csv"
    with pytest.raises(DataNotFoundError, match=r"^CSV file '.*missing.csv' does not exist$") as info:
        check_path("path", tmp_path / "missing.csv", what="CSV file")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(FileNotFoundError, match="is a directory, not a file"):
        check_path("path", tmp_path)


@pytest.mark.parametrize("value, came", [(None, "NoneType None"), (3, "int 3"), (b"a.csv", "bytes b'a.csv'")])
def test_path_type_errors(value, came):
    with pytest.raises(InvalidTypeError) as info:
        check_path("path", value)
    assert str(info.value) == f"path must be a file name (str or os.PathLike); got {came}"


def test_path_empty():
    with pytest.raises(InvalidArgumentError, match="path must name a file; got an empty string"):
        check_path("path", "")


# ---------------------------------------------------------------------------
# the modules that use it
# ---------------------------------------------------------------------------


def _sgd_steps(opt, n=3):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    state = opt.init(params)
    for _ in range(n):
        grads = [rng.standard_normal(p.shape) for p in params]
        params, state = opt.step(params, grads, state)
    return params


@pytest.mark.parametrize("make, numpy_kwargs, python_kwargs", [
    (xpnet.optim.sgd, dict(lr=np.float32(0.1), momentum=np.float32(0.9)), dict(lr=0.1, momentum=0.9)),
    (xpnet.optim.sgd, dict(lr=np.float64(0.1), weight_decay=np.int64(0)), dict(lr=0.1, weight_decay=0)),
    (xpnet.optim.adam,
     dict(lr=np.float32(1e-3), betas=(np.float32(0.9), np.float64(0.999)), eps=np.float32(1e-8)),
     dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)),
    (xpnet.optim.rmsprop, dict(lr=np.float32(0.01), alpha=np.float32(0.99), centered=np.True_),
     dict(lr=0.01, alpha=0.99, centered=True)),
])
def test_optimizers_take_numpy_scalars_and_match_python_numbers(make, numpy_kwargs, python_kwargs):
    a, b = make(**numpy_kwargs), make(**python_kwargs)
    assert a.hyperparams == b.hyperparams
    assert all(type(v) is float for k, v in a.hyperparams.items() if k not in ("betas", "nesterov", "amsgrad",
                                                                               "centered"))
    for pa, pb in zip(_sgd_steps(a), _sgd_steps(b)):
        np.testing.assert_array_equal(pa, pb)


def test_train_with_a_float32_learning_rate_matches_the_python_one():
    X, y = xpnet.datasets.flower(n_samples=40)
    runs = []
    for lr in (np.float32(0.5), 0.5):
        model = xpnet.MLP([2, 4, 1], hidden="tanh", output="sigmoid", dtype="float64", seed=3)
        runs.append(xpnet.train(model, X, y, epochs=5, lr=lr).loss)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("call, cls, says", [
    (lambda: xpnet.optim.sgd(lr="0.1"), InvalidTypeError, "lr must be a number in (0.0, inf)"),
    (lambda: xpnet.optim.sgd(lr=None), InvalidTypeError, "got NoneType None"),
    (lambda: xpnet.optim.sgd(lr=True), InvalidKindError, "got bool True"),
    (lambda: xpnet.optim.sgd(lr=0.1, momentum="0.9"), InvalidTypeError,
     "momentum must be a number in [0.0, 1.0)"),
    (lambda: xpnet.optim.sgd(lr=0.1, nesterov="yes"), InvalidKindError, "nesterov must be True or False"),
    (lambda: xpnet.optim.adam(eps=None), InvalidTypeError, "eps must be a number in [0.0, inf)"),
    (lambda: xpnet.optim.adam(amsgrad=1), InvalidKindError, "amsgrad must be True or False"),
    (lambda: xpnet.optim.adam(betas=(0.9, math.nan)), InvalidArgumentError,
     "betas[1] must be in [0.0, 1.0); got nan"),
    (lambda: xpnet.optim.get_optimizer("momentum", momentum="high"), InvalidTypeError, "momentum"),
    (lambda: xpnet.init.weight_std(None, 2, 3), InvalidTypeError,
     "init must be one of normal, xavier, glorot, he"),
    (lambda: xpnet.activations.get_activation(None), InvalidTypeError, "activation must be one of identity"),
    (lambda: xpnet.losses.get_loss("Hinge", "sigmoid"), InvalidArgumentError, "unknown loss 'Hinge'"),
])
def test_modules_raise_the_typed_errors(call, cls, says):
    with pytest.raises(cls) as info:
        call()
    assert says in str(info.value)
    if cls is InvalidTypeError:
        only_type_error(info)


def test_names_are_matched_regardless_of_case():
    assert xpnet.optim.get_optimizer("ADAM", lr=np.float32(2.0)).hyperparams["lr"] == 2.0
    assert xpnet.init.weight_std("He", 8, 3) == 0.5
    assert xpnet.activations.get_activation("Leaky-ReLU").name == "leaky_relu"


def test_gradcheck_progress_and_plot_arguments():
    from xpnet.progress import Progress

    model = xpnet.MLP([2, 3, 1], dtype="float64")
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(InvalidTypeError, match="eps must be a number in"):
        xpnet.gradcheck(model, X, y, eps="small")
    assert len(xpnet.gradcheck(model, X, y, eps=np.float32(1e-5), max_entries=np.int64(2))) == 2
    with pytest.raises(InvalidKindError, match="max_entries must be a positive int or None; got float 2.0"):
        xpnet.gradcheck(model, X, y, max_entries=2.0)
    with pytest.raises(InvalidTypeError, match="total_epochs must be a positive int; got str '5'"):
        Progress("5")
    with pytest.raises(InvalidTypeError, match="min_interval must be a number in"):
        Progress(5, min_interval=None)
    assert Progress(np.int64(5), min_interval=np.float32(0.5), enabled=False).total == 5
    pytest.importorskip("matplotlib")
    from xpnet import plot

    with pytest.raises(InvalidTypeError, match="resolution must be an int >= 2; got str '10'"):
        plot.decision_grid(model, X, resolution="10")
    with pytest.raises(InvalidTypeError, match="padding must be a number in"):
        plot.decision_grid(model, X, padding=None)
    with pytest.raises(InvalidArgumentError, match="dpi must be in"):
        plot.plot_history({"loss": [1.0]}, dpi=0)
    assert plot.decision_grid(model, X, resolution=np.int64(3), padding=np.float32(0.2))[0].shape == (3, 3)
