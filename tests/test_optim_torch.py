"""xpnet's optimizers against ``torch.optim`` as an independent oracle.

Every optimizer, with every option that changes its update rule, starts from
the same float64 parameters as its ``torch.optim`` counterpart, gets the same
sequence of gradients, and must land on the same parameters after every step.
The in-place ``update`` (what ``xpnet.train`` uses) is checked the same way,
and against ``step`` bit for bit. Also: ``get_optimizer``'s name mapping and
defaults, purity of ``step`` (it never writes into its inputs) and the errors
for bad hyperparameters.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import xpnet
from xpnet import optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (4, 2), (2,), (1, 1)]
N_STEPS = 10
RTOL, ATOL = 1e-10, 1e-13

XPNET = {"sgd": optim.sgd, "adagrad": optim.adagrad, "rmsprop": optim.rmsprop,
         "adam": optim.adam, "adamw": optim.adamw}
TORCH = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
         "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}

# (optimizer, keyword arguments shared verbatim by xpnet and torch.optim)
CASES = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.05, weight_decay=0.2)),
    ("sgd", dict(lr=0.1, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("sgd", dict(lr=0.05, momentum=0.5, dampening=1.0, weight_decay=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("sgd", dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.1)),
    ("adagrad", dict()),
    ("adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("adagrad", dict(lr=0.1, initial_accumulator_value=0.3)),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6)),
    ("rmsprop", dict()),
    ("rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("rmsprop", dict(lr=0.01, centered=True)),
    ("rmsprop", dict(lr=0.01, momentum=0.9)),
    ("rmsprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1)),
    ("rmsprop", dict(lr=0.01, weight_decay=0.3)),
    ("adam", dict()),
    ("adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("adam", dict(lr=0.01, amsgrad=True)),
    ("adam", dict(lr=0.01, weight_decay=0.1)),
    ("adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.5, 0.9))),
    ("adamw", dict()),
    ("adamw", dict(lr=0.01, weight_decay=0.0)),
    ("adamw", dict(lr=0.01, weight_decay=0.3)),
    ("adamw", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("adamw", dict(lr=0.02, weight_decay=0.05, amsgrad=True, betas=(0.7, 0.95), eps=1e-7)),
]


def _case_id(case):
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


def _host_problem(seed=0, n_steps=N_STEPS):
    """Initial parameters and a gradient sequence whose scale varies (so amsgrad's max matters)."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s) for s in SHAPES]
    scales = [1.0, 3.0, 0.1, 0.5, 2.0, 0.01, 1.0, 5.0, 0.2, 1.0, 0.7, 0.05]
    grads = [[scales[k % len(scales)] * rng.standard_normal(s) for s in SHAPES]
             for k in range(n_steps)]
    return params, grads


def _on(backend, arrays):
    f64 = backend.dtype("float64")
    return [backend.asarray(a, f64) for a in arrays]


def _host_copy(a):
    # to_numpy of a CPU torch tensor shares its memory: take a real copy
    return np.array(xpnet.to_numpy(a), copy=True)


def _run_both(backend, xp_opt, torch_cls, torch_kwargs, host_params, host_grads, rule="step"):
    """Step both optimizers through the gradients; compare parameters after every step."""
    params = _on(backend, host_params)
    state = xp_opt.init(params)
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in host_params]
    topt = torch_cls(tparams, **torch_kwargs)
    for k, g in enumerate(host_grads):
        params, state = getattr(xp_opt, rule)(params, _on(backend, g), state)
        for tp, tg in zip(tparams, g):
            tp.grad = torch.tensor(tg, dtype=torch.float64)
        topt.step()
        assert len(params) == len(tparams)
        for i, (p, tp) in enumerate(zip(params, tparams)):
            got = xpnet.to_numpy(p)
            assert got.shape == tuple(tp.shape)
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, tp.detach().numpy(), rtol=RTOL, atol=ATOL,
                                       err_msg=f"param {i} after step {k + 1}")
    return params, state


@pytest.mark.parametrize("rule", ["step", "update"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch_optim(backend, case, rule):
    name, kw = case
    host_params, host_grads = _host_problem(seed=len(kw))
    opt = XPNET[name](**kw)
    params, state = _run_both(backend, opt, TORCH[name], kw, host_params, host_grads, rule)
    assert state["t"] == N_STEPS
    # the parameters must stay on the backend they started on
    assert all(xpnet.backend.backend_of(p) == backend for p in params)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_hyperparams_are_torchs(case):
    """``Optimizer.hyperparams`` equal the matching ``torch.optim`` param_group entries."""
    name, kw = case
    opt = XPNET[name](**kw)
    group = TORCH[name]([torch.zeros(1, dtype=torch.float64)], **kw).param_groups[0]
    assert opt.name == name
    for key, value in opt.hyperparams.items():
        assert key in group, key
        want = tuple(group[key]) if key == "betas" else group[key]
        assert value == want, (key, value, want)


# -- get_optimizer ------------------------------------------------------------
def _torch_default(cls, arg):
    return inspect.signature(cls.__init__).parameters[arg].default


@pytest.mark.parametrize("name", [
    "sgd",
    "adagrad", "rmsprop", "adam", "adamw",
])
def test_lr_none_is_torch_default(name):
    cls = TORCH[name]
    opt = optim.get_optimizer(name, lr=None)
    default = _torch_default(cls, "lr")
    assert default is not inspect.Parameter.empty
    assert opt.hyperparams["lr"] == default


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_other_defaults_are_torchs(name):
    """Every hyperparameter other than lr defaults to torch.optim's default."""
    cls = TORCH[name]
    opt = optim.get_optimizer(name)
    direct = XPNET[name]()
    for key, value in opt.hyperparams.items():
        if key == "lr":
            continue
        want = _torch_default(cls, key)
        want = tuple(want) if key == "betas" else want
        assert value == want, (key, value, want)
        assert direct.hyperparams[key] == want, (key, direct.hyperparams[key], want)


def test_momentum_name_is_sgd_with_momentum_09(backend):
    opt = optim.get_optimizer("momentum", lr=0.1)
    assert opt.name == "sgd"
    assert opt.hyperparams["momentum"] == 0.9 == optim.DEFAULT_MOMENTUM
    assert opt.hyperparams["nesterov"] is False
    assert opt.hyperparams["lr"] == 0.1
    host_params, host_grads = _host_problem(seed=3)
    _run_both(backend, opt, torch.optim.SGD, dict(lr=0.1, momentum=0.9), host_params, host_grads)


def test_nesterov_name_is_sgd_nesterov_09(backend):
    opt = optim.get_optimizer("Nesterov", lr=0.05)
    assert opt.name == "sgd"
    assert opt.hyperparams["momentum"] == 0.9
    assert opt.hyperparams["nesterov"] is True
    host_params, host_grads = _host_problem(seed=4)
    _run_both(backend, opt, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True),
              host_params, host_grads)


def test_get_optimizer_mapping():
    assert optim.get_optimizer("sgd").hyperparams["momentum"] == 0.0
    assert optim.get_optimizer("momentum", momentum=0.5).hyperparams["momentum"] == 0.5
    assert optim.get_optimizer("nesterov", momentum=0.3).hyperparams == dict(
        lr=optim.sgd().hyperparams["lr"], momentum=0.3, dampening=0.0, nesterov=True,
        weight_decay=0.0)
    both = optim.get_optimizer("sgd", momentum=0.8, nesterov=True, weight_decay=0.1)
    assert (both.hyperparams["momentum"], both.hyperparams["nesterov"],
            both.hyperparams["weight_decay"]) == (0.8, True, 0.1)
    assert optim.get_optimizer("RMSprop", momentum=0.5).hyperparams["momentum"] == 0.5
    assert optim.get_optimizer("adam", betas=(0.8, 0.9)).hyperparams["betas"] == (0.8, 0.9)
    assert optim.get_optimizer("rmsprop", alpha=0.9).hyperparams["alpha"] == 0.9
    assert optim.get_optimizer("adam", weight_decay=0.1).hyperparams["weight_decay"] == 0.1
    # AdamW's decoupled decay keeps torch's default of 0.01 unless another value is given
    assert optim.get_optimizer("adamw").hyperparams["weight_decay"] == 0.01
    assert optim.get_optimizer("adamw", weight_decay=0.2).hyperparams["weight_decay"] == 0.2
    assert optim.get_optimizer("adamw", lr=0.01).hyperparams["lr"] == 0.01
    for name in ("sgd", "adagrad", "rmsprop", "adam", "adamw"):
        assert optim.get_optimizer(name.upper()).name == name
    ready = optim.adam(lr=0.5)
    assert optim.get_optimizer(ready) is ready
    assert set(optim.OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                      "adam", "adamw"}


# -- purity -------------------------------------------------------------------
def _state_arrays(state):
    out = []
    for key in sorted(state):
        value = state[key]
        if isinstance(value, list):
            out += [(f"{key}[{i}]", a) for i, a in enumerate(value)]
    return out


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_step_does_not_mutate_inputs(backend, case):
    name, kw = case
    opt = XPNET[name](**kw)
    host_params, host_grads = _host_problem(seed=7, n_steps=3)
    params = _on(backend, host_params)
    state = opt.init(params)
    init_state = [(k, _host_copy(a)) for k, a in _state_arrays(state)]
    for g_host in host_grads:
        grads = _on(backend, g_host)
        before_p = [_host_copy(p) for p in params]
        before_g = [_host_copy(g) for g in grads]
        before_s = [(k, _host_copy(a)) for k, a in _state_arrays(state)]
        t_before = state["t"]
        new_params, new_state = opt.step(params, grads, state)
        assert new_state is not state
        assert state["t"] == t_before and new_state["t"] == t_before + 1
        for i, (p, b) in enumerate(zip(params, before_p)):
            np.testing.assert_array_equal(xpnet.to_numpy(p), b, err_msg=f"params[{i}] mutated")
        for i, (g, b) in enumerate(zip(grads, before_g)):
            np.testing.assert_array_equal(xpnet.to_numpy(g), b, err_msg=f"grads[{i}] mutated")
        after_s = _state_arrays(state)
        assert [k for k, _ in after_s] == [k for k, _ in before_s]
        for (k, a), (_, b) in zip(after_s, before_s):
            np.testing.assert_array_equal(xpnet.to_numpy(a), b, err_msg=f"state {k} mutated")
        params, state = new_params, new_state
        # params changed (no gradient is zero here), so the step did something
        assert any(not np.array_equal(xpnet.to_numpy(p), b) for p, b in zip(params, before_p))
    # the state returned by init is untouched by later steps
    # (init_state was captured before any step; compare with a fresh init)
    fresh = opt.init(_on(backend, host_params))
    for (k, a), (_, b) in zip(_state_arrays(fresh), init_state):
        np.testing.assert_array_equal(xpnet.to_numpy(a), b, err_msg=f"init state {k}")


#: Libraries whose arrays ``update`` must overwrite in place (JAX's are immutable).
MUTABLE = {"numpy", "array_api_strict", "torch", "cupy"}


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_update_is_step_done_in_place(backend, case):
    """``update`` gives ``step``'s numbers bit for bit (float32), writes into the parameter
    and state arrays it is given where the library allows it, and never into the gradients."""
    name, kw = case
    opt = XPNET[name](**kw)
    host_params, host_grads = _host_problem(seed=11, n_steps=4)
    f32 = backend.dtype("float32")
    pure = [backend.asarray(p, f32) for p in host_params]
    fast = [backend.asarray(p, f32) for p in host_params]
    pure_state, fast_state = opt.init(pure), opt.init(fast)
    for k, g_host in enumerate(host_grads):
        grads = [backend.asarray(g, f32) for g in g_host]
        before_g = [_host_copy(g) for g in grads]
        arrays_in = list(fast)
        state_in = {key: list(v) for key, v in fast_state.items() if isinstance(v, list)}
        pure, pure_state = opt.step(pure, grads, pure_state)
        fast, fast_state = opt.update(fast, grads, fast_state)
        for i, (a, b) in enumerate(zip(fast, pure)):
            np.testing.assert_array_equal(xpnet.to_numpy(a), xpnet.to_numpy(b), err_msg=f"param {i}, step {k + 1}")
        for (key, a), (_, b) in zip(_state_arrays(fast_state), _state_arrays(pure_state)):
            np.testing.assert_array_equal(xpnet.to_numpy(a), xpnet.to_numpy(b), err_msg=f"{key}, step {k + 1}")
        for i, (g, b) in enumerate(zip(grads, before_g)):
            np.testing.assert_array_equal(xpnet.to_numpy(g), b, err_msg=f"grads[{i}] written to")
        if backend.name in MUTABLE:
            assert all(a is b for a, b in zip(fast, arrays_in)), "parameters were not updated in place"
            for key, arrays in state_in.items():
                # SGD's first step copies the gradient into the buffer; amsgrad's running max is a new array
                if (k > 0 or key != "momentum") and key != "max_exp_avg_sq":
                    assert all(a is b for a, b in zip(fast_state[key], arrays)), f"{key} not updated in place"
    assert fast_state["t"] == len(host_grads)


def test_init_state_is_zero_or_initial_accumulator(backend):
    params = _on(backend, _host_problem()[0])
    st = optim.adagrad(initial_accumulator_value=0.25).init(params)
    for s, p in zip(st["sum"], params):
        np.testing.assert_array_equal(xpnet.to_numpy(s), np.full(p.shape, 0.25))
    for opt in (optim.adam(amsgrad=True), optim.rmsprop(centered=True, momentum=0.5),
                optim.sgd(momentum=0.9)):
        st = opt.init(params)
        assert st["t"] == 0
        for _, a in _state_arrays(st):
            np.testing.assert_array_equal(xpnet.to_numpy(a), 0.0)


# -- errors -------------------------------------------------------------------
def test_invalid_argument_error_is_a_value_error():
    assert issubclass(xpnet.InvalidArgumentError, ValueError)


def test_unknown_name_lists_valid_ones():
    with pytest.raises(xpnet.InvalidArgumentError) as info:
        optim.get_optimizer("adamax")
    msg = str(info.value)
    assert "adamax" in msg
    for name in optim.OPTIMIZERS:
        assert name in msg


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_negative_lr(name):
    with pytest.raises(ValueError):  # torch rejects it too
        TORCH[name]([torch.zeros(1)], lr=-0.1)
    with pytest.raises(xpnet.InvalidArgumentError, match="lr"):
        XPNET[name](lr=-0.1)
    with pytest.raises(xpnet.InvalidArgumentError, match="lr"):
        optim.get_optimizer(name, lr=-0.1)


@pytest.mark.parametrize("kw", [dict(momentum=0.0), dict(momentum=0.9, dampening=0.1)])
def test_nesterov_needs_momentum_and_no_dampening(kw):
    with pytest.raises(ValueError):  # torch rejects it too
        torch.optim.SGD([torch.zeros(1)], lr=0.1, nesterov=True, **kw)
    with pytest.raises(xpnet.InvalidArgumentError, match="nesterov"):
        optim.sgd(lr=0.1, nesterov=True, **kw)


def test_nesterov_without_momentum_via_get_optimizer():
    with pytest.raises(xpnet.InvalidArgumentError, match="nesterov"):
        optim.get_optimizer("sgd", nesterov=True)


@pytest.mark.parametrize("name", ["adam", "adamw", "adagrad"])
@pytest.mark.parametrize("kw", [dict(momentum=0.9), dict(nesterov=True),
                                dict(momentum=0.9, nesterov=True)])
def test_momentum_does_not_apply(name, kw):
    with pytest.raises(xpnet.InvalidArgumentError, match="momentum"):
        optim.get_optimizer(name, **kw)


def test_rmsprop_rejects_nesterov():
    with pytest.raises(xpnet.InvalidArgumentError, match="nesterov"):
        optim.get_optimizer("rmsprop", momentum=0.9, nesterov=True)


@pytest.mark.parametrize("name, kw", [
    ("sgd", dict(momentum=-0.1)),
    ("sgd", dict(weight_decay=-1.0)),
    ("adagrad", dict(lr_decay=-0.1)),
    ("adagrad", dict(initial_accumulator_value=-1.0)),
    ("adagrad", dict(eps=-1e-10)),
    ("rmsprop", dict(alpha=-0.5)),
    ("rmsprop", dict(momentum=-0.5)),
    ("adam", dict(betas=(1.0, 0.999))),
    ("adam", dict(betas=(0.9, -0.1))),
    ("adamw", dict(eps=-1.0)),
    ("adamw", dict(weight_decay=-0.01)),
])
def test_out_of_range_hyperparameters(name, kw):
    with pytest.raises(ValueError):  # torch rejects each of these too
        TORCH[name]([torch.zeros(1)], **kw)
    with pytest.raises(xpnet.InvalidArgumentError):
        XPNET[name](**kw)


def test_bad_option_and_bad_spec():
    with pytest.raises(xpnet.InvalidArgumentError, match="adam"):
        optim.get_optimizer("adam", alpha=0.9)
    with pytest.raises(xpnet.InvalidTypeError):
        optim.get_optimizer(3)
    with pytest.raises(xpnet.InvalidTypeError):
        optim.sgd(lr="0.1")
    with pytest.raises(xpnet.InvalidArgumentError, match="betas"):
        optim.adam(betas=0.9)
