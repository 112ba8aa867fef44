"""Optimizers as pairs of pure functions over lists of ``xp`` arrays.

An :class:`Optimizer` has

* ``init(params) -> state``: the explicit optimizer state (moment buffers,
  step count), kept apart from the parameters;
* ``step(params, grads, state) -> (params, state)``: one update, returning
  new parameters and the new state. Nothing is mutated, so the same code runs
  on immutable arrays (JAX) too;
* ``update(params, grads, state) -> (params, state)``: the same update done in
  place, which is what :func:`xpnet.train` uses. It writes into the arrays of
  ``params`` and ``state`` (and the lists holding them) with the augmented
  assignments ``p -= lr * g``, ``m *= beta1``, ...: NumPy, CuPy, PyTorch and
  array-api-strict arrays are updated in place, with no new parameter-sized
  arrays; on immutable arrays (JAX) Python falls back to ``p = p - lr * g``
  and the returned lists hold new arrays. Use the returned values either way.
  ``grads`` is never written to.

Each rule is written once, in place; ``step`` is ``update`` on copies.

The learning rate lives in the state, ``state["lr"]`` (a host float, the
``lr`` argument at ``init``), and every rule reads it from there at each step:
that is how :func:`xpnet.train` applies a learning-rate schedule (it sets
``state["lr"]`` at the start of each epoch), with no device sync and for every
optimizer alike.

``params`` and ``grads`` are flat lists of arrays in the same order. The
update rules, hyperparameter names and defaults are those of ``torch.optim``
(``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``), so numbers carry over;
``weight_decay`` is the L2 term added to the gradient, except in AdamW where it
is decoupled, as in PyTorch. It applies to every parameter, biases included.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple


from .backend import array_namespace
from .errors import InvalidArgumentError, InvalidTypeError
from .validation import check_bool, check_choice, check_number

__all__ = [
    "Optimizer",
    "OPTIMIZERS",
    "get_optimizer",
    "sgd",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
]


class Optimizer(NamedTuple):
    """An optimizer: ``init(params) -> state``, ``step(params, grads, state)`` and its in-place ``update``.

    A hand-made optimizer may leave ``update`` out (``None``); :func:`xpnet.train`
    then calls ``step``.
    """

    name: str
    init: Callable[[list], dict]
    step: Callable[[list, list, dict], tuple[list, dict]]
    hyperparams: dict
    update: Callable[[list, list, dict], tuple[list, dict]] | None = None


def _lr(value: Any) -> float:
    return check_number("lr", value, low=0.0, low_open=True)


def _fraction(name: str, value: Any, *, high_open: bool = True) -> float:
    """A hyperparameter in [0, 1) (momentum, betas) or [0, 1] (``high_open=False``: alpha, dampening)."""
    return check_number(name, value, low=0.0, high=1.0, high_open=high_open)


def _nonneg(name: str, value: Any) -> float:
    return check_number(name, value, low=0.0)


def _zeros_like(params):
    return [array_namespace(p).zeros_like(p) for p in params]


def _copy(a):
    return array_namespace(a).asarray(a, copy=True)


def _pure(update: Callable) -> Callable:
    """``step`` from ``update``: the in-place rule applied to copies of the parameters and state."""

    def step(params, grads, state):
        own = {k: [_copy(a) for a in v] if isinstance(v, list) else v for k, v in state.items()}
        return update([_copy(p) for p in params], grads, own)

    return step


def _l2(g, p, weight_decay):
    return g + weight_decay * p if weight_decay else g


# -- SGD (with momentum / Nesterov) -------------------------------------------
def sgd(lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
        nesterov: bool = False, weight_decay: float = 0.0) -> Optimizer:
    """Stochastic gradient descent, ``torch.optim.SGD`` semantics.

    With momentum ``mu`` the buffer is ``buf = g`` on the first step and
    ``buf = mu * buf + (1 - dampening) * g`` after; the step uses ``buf``, or
    ``g + mu * buf`` with ``nesterov=True``.
    """
    lr = _lr(lr)
    momentum = _fraction("momentum", momentum)
    dampening = _fraction("dampening", dampening, high_open=False)
    weight_decay = _nonneg("weight_decay", weight_decay)
    nesterov = check_bool("nesterov", nesterov)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise InvalidArgumentError("nesterov=True needs momentum > 0 and dampening = 0")

    def init(params):
        return {"t": 0, "lr": lr, "momentum": _zeros_like(params) if momentum else None}

    def update(params, grads, state):
        t, rate = state["t"] + 1, state.get("lr", lr)
        bufs = state["momentum"]
        for i, g in enumerate(grads):
            g = _l2(g, params[i], weight_decay)
            if momentum:
                if t == 1:
                    bufs[i] = _copy(g)
                else:
                    bufs[i] *= momentum
                    bufs[i] += (1.0 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            params[i] -= rate * g
        return params, {"t": t, "lr": rate, "momentum": bufs}

    hyper = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                 weight_decay=weight_decay)
    return Optimizer("sgd", init, _pure(update), hyper, update)


# -- Adagrad -----------------------------------------------------------------
def adagrad(lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> Optimizer:
    """Adagrad, ``torch.optim.Adagrad`` semantics."""
    lr = _lr(lr)
    lr_decay = _nonneg("lr_decay", lr_decay)
    weight_decay = _nonneg("weight_decay", weight_decay)
    initial_accumulator_value = _nonneg("initial_accumulator_value", initial_accumulator_value)
    eps = _nonneg("eps", eps)

    def init(params):
        return {"t": 0, "lr": lr, "sum": [z + initial_accumulator_value for z in _zeros_like(params)]}

    def update(params, grads, state):
        t, rate = state["t"] + 1, state.get("lr", lr)
        clr = rate / (1.0 + (t - 1) * lr_decay)
        sums = state["sum"]
        for i, g in enumerate(grads):
            xp = array_namespace(g)
            g = _l2(g, params[i], weight_decay)
            sums[i] += g * g
            params[i] -= clr * g / (xp.sqrt(sums[i]) + eps)
        return params, {"t": t, "lr": rate, "sum": sums}

    hyper = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                 initial_accumulator_value=initial_accumulator_value, eps=eps)
    return Optimizer("adagrad", init, _pure(update), hyper, update)


# -- RMSprop -----------------------------------------------------------------
def rmsprop(lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
            momentum: float = 0.0, centered: bool = False) -> Optimizer:
    """RMSprop, ``torch.optim.RMSprop`` semantics (``eps`` outside the square root)."""
    lr = _lr(lr)
    alpha = _fraction("alpha", alpha, high_open=False)
    eps = _nonneg("eps", eps)
    weight_decay = _nonneg("weight_decay", weight_decay)
    momentum = _fraction("momentum", momentum)
    centered = check_bool("centered", centered)

    def init(params):
        return {
            "t": 0,
            "lr": lr,
            "square_avg": _zeros_like(params),
            "grad_avg": _zeros_like(params) if centered else None,
            "momentum": _zeros_like(params) if momentum else None,
        }

    def update(params, grads, state):
        sq, ga, bufs = state["square_avg"], state["grad_avg"], state["momentum"]
        rate = state.get("lr", lr)
        for i, g in enumerate(grads):
            xp = array_namespace(g)
            g = _l2(g, params[i], weight_decay)
            sq[i] *= alpha
            sq[i] += (1.0 - alpha) * g * g
            if centered:
                ga[i] *= alpha
                ga[i] += (1.0 - alpha) * g
                avg = xp.sqrt(sq[i] - ga[i] * ga[i]) + eps
            else:
                avg = xp.sqrt(sq[i]) + eps
            if momentum:
                bufs[i] *= momentum
                bufs[i] += g / avg
                params[i] -= rate * bufs[i]
            else:
                params[i] -= rate * g / avg
        return params, {"t": state["t"] + 1, "lr": rate, "square_avg": sq, "grad_avg": ga, "momentum": bufs}

    hyper = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                 centered=centered)
    return Optimizer("rmsprop", init, _pure(update), hyper, update)


# -- Adam / AdamW ----------------------------------------------------------------
def _adam(name: str, lr, betas, eps, weight_decay, amsgrad, decoupled) -> Optimizer:
    lr = _lr(lr)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise InvalidArgumentError(f"betas must be a pair (beta1, beta2); got {betas!r}")
    beta1 = _fraction("betas[0]", betas[0])
    beta2 = _fraction("betas[1]", betas[1])
    eps = _nonneg("eps", eps)
    weight_decay = _nonneg("weight_decay", weight_decay)
    amsgrad = check_bool("amsgrad", amsgrad)

    def init(params):
        return {
            "t": 0,
            "lr": lr,
            "exp_avg": _zeros_like(params),
            "exp_avg_sq": _zeros_like(params),
            "max_exp_avg_sq": _zeros_like(params) if amsgrad else None,
        }

    def update(params, grads, state):
        t, rate = state["t"] + 1, state.get("lr", lr)
        step_size = rate / (1.0 - beta1**t)
        bias2_sqrt = math.sqrt(1.0 - beta2**t)
        ms, vs, vmaxs = state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"]
        for i, g in enumerate(grads):
            xp = array_namespace(g)
            if decoupled:
                if weight_decay:
                    params[i] *= 1.0 - rate * weight_decay
            else:
                g = _l2(g, params[i], weight_decay)
            ms[i] *= beta1
            ms[i] += (1.0 - beta1) * g
            vs[i] *= beta2
            vs[i] += (1.0 - beta2) * g * g
            v = vs[i]
            if amsgrad:
                vmaxs[i] = v = xp.maximum(vmaxs[i], v)
            denom = xp.sqrt(v) / bias2_sqrt + eps
            params[i] -= step_size * ms[i] / denom
        return params, {"t": t, "lr": rate, "exp_avg": ms, "exp_avg_sq": vs, "max_exp_avg_sq": vmaxs}

    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    return Optimizer(name, init, _pure(update), hyper, update)


def adam(lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
         amsgrad: bool = False) -> Optimizer:
    """Adam, ``torch.optim.Adam`` semantics (``weight_decay`` is L2 added to the gradient)."""
    return _adam("adam", lr, betas, eps, weight_decay, amsgrad, decoupled=False)


def adamw(lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
          amsgrad: bool = False) -> Optimizer:
    """AdamW, ``torch.optim.AdamW`` semantics (decoupled decay ``p *= 1 - lr * weight_decay``)."""
    return _adam("adamw", lr, betas, eps, weight_decay, amsgrad, decoupled=True)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd,
    "momentum": sgd,
    "nesterov": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}

#: Momentum used by ``optimizer="momentum"``/``"nesterov"`` when none is given.
DEFAULT_MOMENTUM = 0.9


def get_optimizer(spec: str | Optimizer = "sgd", lr: float | None = None, momentum: float = 0.0,
                  nesterov: bool = False, weight_decay: float = 0.0, **kwargs: Any) -> Optimizer:
    """Build an optimizer from the arguments :func:`xpnet.train` takes.

    ``"momentum"`` and ``"nesterov"`` are SGD with momentum (``momentum`` if it
    is positive, else 0.9), the latter with ``nesterov=True``. ``lr=None``
    uses the optimizer's ``torch.optim`` default (1e-3 for SGD, Adam and
    AdamW, 1e-2 for Adagrad and RMSprop). ``optimizer="adamw"`` keeps
    PyTorch's default decay of 0.01 when ``weight_decay`` is 0 (AdamW without
    decay is Adam: use ``"adam"``). Extra keyword arguments go to the optimizer (for
    example ``betas`` for Adam, ``alpha`` for RMSprop).
    """
    if isinstance(spec, Optimizer):
        return spec
    if not isinstance(spec, str):
        raise InvalidTypeError(
            f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or an xpnet.optim.Optimizer; "
            f"got {type(spec).__name__}"
        )
    key = check_choice("optimizer", spec, OPTIMIZERS)
    momentum = _fraction("momentum", momentum)
    nesterov = check_bool("nesterov", nesterov)
    if lr is not None:
        kwargs["lr"] = lr
    if weight_decay or key != "adamw":
        kwargs.setdefault("weight_decay", weight_decay)
    if key in ("sgd", "momentum", "nesterov"):
        if key != "sgd" and not momentum:
            momentum = DEFAULT_MOMENTUM
        return sgd(momentum=momentum, nesterov=nesterov or key == "nesterov", **kwargs)
    if momentum or nesterov:
        if key != "rmsprop" or nesterov:
            raise InvalidArgumentError(
                f"momentum/nesterov do not apply to optimizer {spec!r}; use optimizer='momentum', "
                "'nesterov' or 'rmsprop', or leave them at their defaults"
            )
        kwargs["momentum"] = momentum
    try:
        return OPTIMIZERS[key](**kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"bad option for optimizer {spec!r}: {exc}") from None
