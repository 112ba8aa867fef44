"""Optimizers as pairs of pure functions over lists of ``xp`` arrays.

An :class:`Optimizer` has

* ``init(params) -> state``: the explicit optimizer state (moment buffers,
  step count), kept apart from the parameters;
* ``step(params, grads, state) -> (params, state)``: one update, returning
  new parameters and the new state. Nothing is mutated, so the same code runs
  on immutable arrays (JAX) too.

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
    """An optimizer: ``init(params) -> state`` and ``step(params, grads, state)``."""

    name: str
    init: Callable[[list], dict]
    step: Callable[[list, list, dict], tuple[list, dict]]
    hyperparams: dict


def _check(name: str, value: Any, low: float, high: float = math.inf, *, low_open=False, high_open=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    ok_low = value > low if low_open else value >= low
    ok_high = value < high if high_open else value <= high
    if not (ok_low and ok_high and math.isfinite(value)):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise InvalidArgumentError(f"{name} must be in {lo}{low}, {high}{hi}; got {value!r}")
    return float(value)


def _zeros_like(params):
    return [array_namespace(p).zeros_like(p) for p in params]


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
    lr = _check("lr", lr, 0.0, low_open=True)
    momentum = _check("momentum", momentum, 0.0, 1.0)
    dampening = _check("dampening", dampening, 0.0, 1.0, high_open=False)
    weight_decay = _check("weight_decay", weight_decay, 0.0)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise InvalidArgumentError("nesterov=True needs momentum > 0 and dampening = 0")

    def init(params):
        return {"t": 0, "momentum": _zeros_like(params) if momentum else None}

    def step(params, grads, state):
        t = state["t"] + 1
        new_params, new_bufs = [], []
        bufs = state["momentum"] or [None] * len(params)
        for p, g, buf in zip(params, grads, bufs):
            g = _l2(g, p, weight_decay)
            if momentum:
                buf = g if t == 1 else momentum * buf + (1.0 - dampening) * g
                g = g + momentum * buf if nesterov else buf
                new_bufs.append(buf)
            new_params.append(p - lr * g)
        return new_params, {"t": t, "momentum": new_bufs if momentum else None}

    hyper = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                 weight_decay=weight_decay)
    return Optimizer("sgd", init, step, hyper)


# -- Adagrad -----------------------------------------------------------------
def adagrad(lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> Optimizer:
    """Adagrad, ``torch.optim.Adagrad`` semantics."""
    lr = _check("lr", lr, 0.0, low_open=True)
    lr_decay = _check("lr_decay", lr_decay, 0.0)
    weight_decay = _check("weight_decay", weight_decay, 0.0)
    initial_accumulator_value = _check("initial_accumulator_value", initial_accumulator_value, 0.0)
    eps = _check("eps", eps, 0.0)

    def init(params):
        return {"t": 0, "sum": [z + initial_accumulator_value for z in _zeros_like(params)]}

    def step(params, grads, state):
        t = state["t"] + 1
        clr = lr / (1.0 + (t - 1) * lr_decay)
        new_params, sums = [], []
        for p, g, s in zip(params, grads, state["sum"]):
            xp = array_namespace(p)
            g = _l2(g, p, weight_decay)
            s = s + g * g
            new_params.append(p - clr * g / (xp.sqrt(s) + eps))
            sums.append(s)
        return new_params, {"t": t, "sum": sums}

    hyper = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                 initial_accumulator_value=initial_accumulator_value, eps=eps)
    return Optimizer("adagrad", init, step, hyper)


# -- RMSprop -----------------------------------------------------------------
def rmsprop(lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
            momentum: float = 0.0, centered: bool = False) -> Optimizer:
    """RMSprop, ``torch.optim.RMSprop`` semantics (``eps`` outside the square root)."""
    lr = _check("lr", lr, 0.0, low_open=True)
    alpha = _check("alpha", alpha, 0.0, 1.0, high_open=False)
    eps = _check("eps", eps, 0.0)
    weight_decay = _check("weight_decay", weight_decay, 0.0)
    momentum = _check("momentum", momentum, 0.0, 1.0)

    def init(params):
        return {
            "t": 0,
            "square_avg": _zeros_like(params),
            "grad_avg": _zeros_like(params) if centered else None,
            "momentum": _zeros_like(params) if momentum else None,
        }

    def step(params, grads, state):
        new_params, sq_avgs, g_avgs, bufs = [], [], [], []
        for i, (p, g) in enumerate(zip(params, grads)):
            xp = array_namespace(p)
            g = _l2(g, p, weight_decay)
            sq = alpha * state["square_avg"][i] + (1.0 - alpha) * g * g
            sq_avgs.append(sq)
            if centered:
                ga = alpha * state["grad_avg"][i] + (1.0 - alpha) * g
                g_avgs.append(ga)
                avg = xp.sqrt(sq - ga * ga) + eps
            else:
                avg = xp.sqrt(sq) + eps
            if momentum:
                buf = momentum * state["momentum"][i] + g / avg
                bufs.append(buf)
                new_params.append(p - lr * buf)
            else:
                new_params.append(p - lr * g / avg)
        new_state = {
            "t": state["t"] + 1,
            "square_avg": sq_avgs,
            "grad_avg": g_avgs if centered else None,
            "momentum": bufs if momentum else None,
        }
        return new_params, new_state

    hyper = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                 centered=centered)
    return Optimizer("rmsprop", init, step, hyper)


# -- Adam / AdamW ----------------------------------------------------------------
def _adam(name: str, lr, betas, eps, weight_decay, amsgrad, decoupled) -> Optimizer:
    lr = _check("lr", lr, 0.0, low_open=True)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise InvalidArgumentError(f"betas must be a pair (beta1, beta2); got {betas!r}")
    beta1 = _check("betas[0]", betas[0], 0.0, 1.0)
    beta2 = _check("betas[1]", betas[1], 0.0, 1.0)
    eps = _check("eps", eps, 0.0)
    weight_decay = _check("weight_decay", weight_decay, 0.0)

    def init(params):
        return {
            "t": 0,
            "exp_avg": _zeros_like(params),
            "exp_avg_sq": _zeros_like(params),
            "max_exp_avg_sq": _zeros_like(params) if amsgrad else None,
        }

    def step(params, grads, state):
        t = state["t"] + 1
        step_size = lr / (1.0 - beta1**t)
        bias2_sqrt = math.sqrt(1.0 - beta2**t)
        new_params, ms, vs, vmaxs = [], [], [], []
        for i, (p, g) in enumerate(zip(params, grads)):
            xp = array_namespace(p)
            if decoupled:
                p = p * (1.0 - lr * weight_decay) if weight_decay else p
            else:
                g = _l2(g, p, weight_decay)
            m = beta1 * state["exp_avg"][i] + (1.0 - beta1) * g
            v = beta2 * state["exp_avg_sq"][i] + (1.0 - beta2) * g * g
            ms.append(m)
            vs.append(v)
            if amsgrad:
                v = xp.maximum(state["max_exp_avg_sq"][i], v)
                vmaxs.append(v)
            denom = xp.sqrt(v) / bias2_sqrt + eps
            new_params.append(p - step_size * m / denom)
        return new_params, {"t": t, "exp_avg": ms, "exp_avg_sq": vs,
                            "max_exp_avg_sq": vmaxs if amsgrad else None}

    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    return Optimizer(name, init, step, hyper)


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
    key = spec.lower()
    if key not in OPTIMIZERS:
        raise InvalidArgumentError(
            f"unknown optimizer {spec!r}; expected one of {', '.join(OPTIMIZERS)}"
        )
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
