"""The multilayer perceptron: forward propagation and backpropagation, by hand.

The math lives in three pure functions over ``xp`` arrays, used both by
:class:`MLP` and by :func:`xpnet.train`:

* :func:`forward` runs the layers ``Z = A_prev @ W + b``, ``A = f(Z)`` and
  returns, per layer, what the backward pass needs;
* :func:`output_delta` is ``dL/dZ`` of the output layer: ``(A - T) / n`` for
  a matched output/loss pair, the chain rule through the activation otherwise;
* :func:`backward` walks the layers in reverse:
  ``dW = A_prev.T @ dZ``, ``db = sum(dZ)``, ``dA_prev = dZ @ W.T``.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Callable, NamedTuple, Sequence

from .activations import Activation, get_activation
from .backend import Backend, array_namespace, dtype_name as _dtype_name, get_backend, host_rng
from .data import as_features, as_targets
from .errors import InvalidArgumentError, InvalidTypeError
from .init import INITIALIZERS, init_params
from .labels import check_classes, decode, encode
from .losses import Loss, get_loss
from .tables import features
from .validation import check_int, check_number

__all__ = ["MLP", "Layer", "forward", "backward", "output_delta", "pairs_of", "flat_of"]


class Layer(NamedTuple):
    """What the backward pass needs from one layer's forward pass."""

    A_prev: Any  #: the layer's input (after the previous layer's dropout)
    #: pre-activation ``A_prev @ W + b``; None for a hidden layer whose activation's
    #: backward does not read it (``Activation.uses_z``), so that it is freed early
    Z: Any
    A: Any  #: activation ``f(Z)`` (before this layer's dropout)


def pairs_of(flat: Sequence[Any]) -> list[tuple[Any, Any]]:
    """``[W1, b1, W2, b2, ...]`` (the optimizer's flat layout) as ``[(W1, b1), (W2, b2), ...]`` (the model's)."""
    return list(zip(flat[0::2], flat[1::2]))


def flat_of(pairs: Sequence[tuple[Any, Any]]) -> list[Any]:
    """``[(W1, b1), ...]`` as ``[W1, b1, ...]``: the inverse of :func:`pairs_of`."""
    return [a for pair in pairs for a in pair]


def forward(params: Sequence[tuple[Any, Any]], X: Any, activations: Sequence[Activation],
            masks: Sequence[Any] | None = None) -> list[Layer]:
    """Run the network on ``X``; return each layer's :class:`Layer` record.

    ``masks[l]`` (optional, hidden layers only) multiplies layer ``l``'s
    activation: inverted dropout with the ``1 / keep`` scale folded in.
    """
    layers = []
    A = X
    top = len(params) - 1
    for l, ((W, b), act) in enumerate(zip(params, activations)):
        Z = A @ W
        Z += b  # into the fresh product: one array fewer (on JAX, Z = Z + b)
        A_out = act.forward(Z)
        layers.append(Layer(A, Z if act.uses_z or l == top else None, A_out))
        A = A_out if masks is None or l >= len(masks) else A_out * masks[l]
    return layers


def output_delta(layer: Layer, T: Any, output: Activation, loss: Loss, w: Any = None) -> Any:
    """``dL/dZ`` of the output layer for targets ``T`` (and normalized row weights ``w``, a column)."""
    units = T.shape[1] if loss.mean_over_units else 1  # mse is a mean over the k outputs too: / (n k)
    if loss.matched_output == output.name:
        return (layer.A - T) / (T.shape[0] * units) if w is None else (layer.A - T) * w / units
    dA = loss.grad(layer.Z, layer.A, T) if w is None else loss.grad(layer.Z, layer.A, T, w)
    return output.backward(dA, layer.Z, layer.A)


def backward(params: Sequence[tuple[Any, Any]], layers: Sequence[Layer], dZ: Any,
             activations: Sequence[Activation], masks: Sequence[Any] | None = None
             ) -> list[tuple[Any, Any]]:
    """Backpropagate the output delta ``dZ``; return ``[(dW, db), ...]`` in layer order."""
    grads: list[tuple[Any, Any]] = [None] * len(params)  # type: ignore[list-item]
    xp = array_namespace(dZ)
    for l in range(len(params) - 1, -1, -1):
        layer = layers[l]
        grads[l] = (layer.A_prev.T @ dZ, xp.sum(dZ, axis=0))
        if l == 0:
            break
        dA = dZ @ params[l][0].T
        if masks is not None and l - 1 < len(masks):
            dA = dA * masks[l - 1]
        below = layers[l - 1]
        dZ = activations[l - 1].backward(dA, below.Z, below.A)
    return grads


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise InvalidTypeError(
            f"sizes must be a list of layer widths like [n_in, hidden, n_out]; got {sizes!r}"
        )
    sizes = list(sizes)
    if len(sizes) < 2:
        raise InvalidArgumentError(
            f"sizes needs at least an input and an output width, e.g. [2, 1]; got {sizes!r}"
        )
    return [check_int(f"sizes[{i}]", s, low=1) for i, s in enumerate(sizes)]


def _on_device(method: Callable) -> Callable:
    """Run a model method with the model's device current (CuPy: ``cupy:1`` computes on GPU 1
    whatever device is current when it is called; free on other libraries)."""

    @functools.wraps(method)
    def on_device(self: "MLP", *args: Any, **kwargs: Any) -> Any:
        with self.backend.activate():
            return method(self, *args, **kwargs)

    return on_device


class MLP:
    """A fully connected network ``n_in -> h1 -> ... -> n_out``.

    Parameters
    ----------
    sizes : list of int
        Layer widths, input first: ``[n_in, h1, ..., n_out]``.
    hidden : str or list of str
        Hidden activation(s): ``"relu"``, ``"leaky_relu"``, ``"tanh"``,
        ``"sigmoid"``, ``"identity"``, ``"softmax"``; one name for every hidden
        layer or one per hidden layer.
    output : str
        Output activation; ``"sigmoid"`` (binary/multi-label), ``"softmax"``
        (classes), ``"identity"`` (regression), or any hidden activation.
    loss : str or None
        ``"binary_cross_entropy"``, ``"cross_entropy"`` or ``"mse"``; ``None``
        picks the loss matched to ``output``.
    init : str
        ``"he"``, ``"xavier"``/``"glorot"`` or ``"normal"`` (std ``init_scale``).
    init_scale : float
        Standard deviation for ``init="normal"`` (0.01, the classic choice).
    seed : int
        Seed of the host generator the initial weights are drawn from; the same
        seed gives the same weights on every backend.
    dtype : str
        ``"float32"`` (default) or ``"float64"``.
    backend : str, module or Backend
        Where the parameters live and the model computes: ``"numpy"``,
        ``"cupy"`` / ``"cupy:1"``, ``"torch"`` / ``"torch:cuda:1"``, ``"jax"``,
        ``"array_api_strict"`` / ``"array_api_strict:device1"``, a namespace,
        or a :class:`xpnet.Backend` (see :func:`xpnet.get_backend`).
    classes : list or None
        The class labels of a classifier (softmax: one per unit; one sigmoid
        unit: 2), text or numbers, kept sorted as scikit-learn's
        ``LabelEncoder`` does. ``y`` then holds these labels and ``predict``
        returns them. ``None`` (default): labels are the indices ``0 .. k-1``,
        unless ``train`` learns text labels from ``y``.

    Attributes
    ----------
    params : list of (W, b)
        ``W`` of shape ``(n_in, n_out)``, ``b`` of shape ``(n_out,)``, on the backend.
    classes : numpy.ndarray or None
        The sorted class labels (read-only), or None.
    """

    def __init__(self, sizes: Sequence[int], hidden: str | Sequence[str] = "relu",
                 output: str = "sigmoid", loss: str | None = None, init: str = "he",
                 init_scale: float = 0.01, seed: int = 0, dtype: str = "float32",
                 backend: Any = "numpy", classes: Any = None) -> None:
        self._configure(sizes, hidden, output, loss, init, init_scale, seed, dtype, backend, classes)
        host = init_params(self.sizes, self.init, self.init_scale, host_rng(seed))
        self._params = [(self.backend.asarray(W, self.dtype), self.backend.asarray(b, self.dtype))
                        for W, b in host]

    def _configure(self, sizes, hidden, output, loss, init, init_scale, seed, dtype, backend,
                   classes=None) -> None:
        """Check and store the architecture (everything but the parameters)."""
        self.sizes = _check_sizes(sizes)
        n_hidden = len(self.sizes) - 2
        if not isinstance(hidden, (str, Activation, list, tuple)):
            raise InvalidTypeError(
                f"hidden must be an activation name or a list of names, one per hidden layer; got {hidden!r}"
            )
        names = [hidden] * n_hidden if isinstance(hidden, (str, Activation)) else list(hidden)
        if len(names) != n_hidden:
            raise InvalidArgumentError(
                f"hidden lists {len(names)} activations but sizes {self.sizes} has "
                f"{n_hidden} hidden layers; pass one name, or one per hidden layer"
            )
        self.hidden = [get_activation(h, "hidden activation") for h in names]
        self.output = get_activation(output, "output activation")
        self.loss_fn = get_loss(loss, self.output.name)
        if not isinstance(init, str) or init.lower() not in INITIALIZERS:
            raise InvalidArgumentError(
                f"unknown init {init!r}; expected one of {', '.join(INITIALIZERS)}"
            )
        init_scale = check_number("init_scale", init_scale, low=0.0, low_open=True)
        self.init, self.init_scale, self.seed = init.lower(), init_scale, seed
        self.backend: Backend = get_backend(backend)
        self.dtype = self.backend.dtype(dtype)
        self.classes = check_classes(classes, self.output.name, self.sizes[-1])

    def config(self) -> dict:
        """The constructor arguments (by name, JSON-ready), without the backend; ``classes`` only when set."""
        config = {"sizes": list(self.sizes), "hidden": [a.name for a in self.hidden],
                  "output": self.output.name, "loss": self.loss_fn.name, "init": self.init,
                  "init_scale": self.init_scale, "seed": self.seed, "dtype": _dtype_name(self.dtype)}
        if self.classes is not None:
            config["classes"] = self.classes.tolist()
        return config

    @classmethod
    def from_config(cls, config: dict, params: Sequence[tuple[Any, Any]], backend: Any = "numpy") -> "MLP":
        """Build a model from :meth:`config` and parameters, without drawing initial weights."""
        model = cls.__new__(cls)
        model._configure(config["sizes"], config["hidden"], config["output"], config["loss"],
                         config["init"], config["init_scale"], config["seed"], config["dtype"], backend,
                         config.get("classes"))
        model._params = []
        return model.set_params(params)

    # -- structure -------------------------------------------------------------
    @property
    def activations(self) -> list[Activation]:
        """The activation of every layer, the output's last."""
        return [*self.hidden, self.output]

    @property
    def params(self) -> list[tuple[Any, Any]]:
        """``[(W, b), ...]`` on the model's backend (the live arrays, not copies)."""
        return list(self._params)

    @property
    def n_params(self) -> int:
        """Number of trainable scalars."""
        return sum(i * o + o for i, o in zip(self.sizes[:-1], self.sizes[1:]))

    def __repr__(self) -> str:
        hidden = sorted({a.name for a in self.hidden})
        return (f"MLP({self.sizes}, hidden={', '.join(hidden) or '-'}, output={self.output.name}, "
                f"loss={self.loss_fn.name}, dtype={_dtype_name(self.dtype)}, backend={self.backend.spec})")

    @_on_device
    def set_params(self, params: Sequence[tuple[Any, Any]]) -> "MLP":
        """Replace the parameters; arrays of any backend are moved and cast to the model's dtype.

        Returns the model, so calls chain.
        """
        params = list(params)
        if len(params) != len(self.sizes) - 1:
            raise InvalidArgumentError(
                f"params has {len(params)} layers but the model has {len(self.sizes) - 1}"
            )
        new = []
        for l, pair in enumerate(params):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InvalidArgumentError(f"params[{l}] must be a pair (W, b)")
            W, b = pair
            want_W, want_b = (self.sizes[l], self.sizes[l + 1]), (self.sizes[l + 1],)
            for name, a, want in ((f"params[{l}][0] (W)", W, want_W), (f"params[{l}][1] (b)", b, want_b)):
                if tuple(getattr(a, "shape", ())) != want:
                    raise InvalidArgumentError(
                        f"{name} must have shape {want}; got {tuple(getattr(a, 'shape', ()))}"
                    )
            new.append((self.backend.asarray(W, self.dtype), self.backend.asarray(b, self.dtype)))
        self._params = new
        return self

    def to(self, backend: Any) -> "MLP":
        """The same model (architecture, dtype, parameters) on another backend.

        Returns ``self`` when it is already there; otherwise a new model whose
        parameters were moved once: with the library's own device transfer
        between devices of one library, through DLPack or the host between libraries.
        """
        target = get_backend(backend)
        if target == self.backend:
            return self
        moved = copy.copy(self)
        moved.backend = target
        moved.dtype = target.dtype(_dtype_name(self.dtype))
        moved._params = [(target.asarray(W, moved.dtype), target.asarray(b, moved.dtype)) for W, b in self._params]
        return moved

    @_on_device
    def astype(self, dtype: str) -> "MLP":
        """A copy of the model with parameters cast to ``dtype`` (``"float32"``/``"float64"``)."""
        new = copy.copy(self)
        new.dtype = self.backend.dtype(dtype)
        xp = self.backend.xp
        new._params = [(xp.astype(W, new.dtype), xp.astype(b, new.dtype)) for W, b in self._params]
        return new

    # -- computing -------------------------------------------------------------
    def _X(self, X: Any) -> Any:
        return as_features(features(X, "X"), self.sizes[0], self.backend, self.dtype)

    def _T(self, y: Any, n: int) -> Any:
        y, _ = encode(y, self.classes, self.output.name, self.sizes[-1])  # labels as class indices
        return as_targets(y, n, self.sizes[-1], self.output.name, self.backend, self.dtype)

    @_on_device
    def forward(self, X: Any) -> Any:
        """Output activations for ``X`` (probabilities for sigmoid/softmax), on the backend."""
        return forward(self._params, self._X(X), self.activations)[-1].A

    @_on_device
    def predict(self, X: Any) -> Any:
        """Predictions for ``X`` on the backend.

        Class labels (int64, shape ``(n,)``) for softmax (argmax) and for a
        single sigmoid unit (threshold 0.5); 0/1 per unit for several sigmoid
        units; the output values for other outputs (regression). A model with
        ``classes`` returns its labels instead, as a NumPy array (on the host,
        whatever the backend).
        """
        A = self.forward(X)
        xp = self.backend.xp
        if self.output.name == "softmax":
            return decode(self.classes, xp.argmax(A, axis=1))
        if self.output.name == "sigmoid":
            labels = xp.astype(A > 0.5, xp.int64)
            return decode(self.classes, labels[:, 0]) if A.shape[1] == 1 else labels
        return A

    @_on_device
    def loss(self, X: Any, y: Any) -> float:
        """Mean loss over the rows of ``(X, y)``, as a Python float."""
        Xd = self._X(X)
        T = self._T(y, Xd.shape[0])  # every check before any computation
        top = forward(self._params, Xd, self.activations)[-1]
        return float(self.loss_fn.value(top.Z, top.A, T))

    @_on_device
    def gradients(self, X: Any, y: Any) -> tuple[float, list[tuple[Any, Any]]]:
        """``(loss, [(dW, db), ...])``: the mean loss and its gradient, same layout as ``params``."""
        Xd = self._X(X)
        T = self._T(y, Xd.shape[0])
        layers = forward(self._params, Xd, self.activations)
        value = self.loss_fn.value(layers[-1].Z, layers[-1].A, T)
        dZ = output_delta(layers[-1], T, self.output, self.loss_fn)
        return float(value), backward(self._params, layers, dZ, self.activations)

    # -- conveniences ------------------------------------------------------------
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities for ``X``, on the backend (as scikit-learn's ``predict_proba``).

        Columns in the order of ``classes`` when the model has them.
        ``(n, 2)`` columns ``[1 - p, p]`` for one sigmoid unit (``1 - p`` is
        computed as ``sigmoid(-z)``, exact also where ``p`` rounds to 1); the
        ``(n, k)`` unit probabilities for several sigmoid units; the softmax rows.

        Raises
        ------
        InvalidArgumentError
            For a regression output (anything but sigmoid or softmax).
        """
        if self.output.name not in ("sigmoid", "softmax"):
            raise InvalidArgumentError(
                f"predict_proba needs a classifier (output 'sigmoid' or 'softmax'); this model's output "
                f"is {self.output.name!r}, a regression: use forward(X) or predict(X) for its values"
            )
        top = forward(self._params, self._X(X), self.activations)[-1]
        if self.output.name == "sigmoid" and top.A.shape[1] == 1:
            return self.backend.xp.concat([self.output.forward(-top.Z), top.A], axis=1)
        return top.A

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for a classifier, R² for regression, as scikit-learn defines them (a Python float).

        Classifiers (sigmoid or softmax output): the fraction of rows predicted
        right (all units right, for several sigmoid units: subset accuracy).
        Regression: the coefficient of determination ``1 - SS_res / SS_tot`` of
        each output, averaged over the outputs (an output whose targets are
        constant scores 1 if predicted exactly, else 0).
        """
        Xd = self._X(X)
        T = self._T(y, Xd.shape[0])  # every check before any computation
        A = forward(self._params, Xd, self.activations)[-1].A
        if self.output.name in ("sigmoid", "softmax"):
            return self._accuracy(A, T)
        return self._r2(A, T)

    def _accuracy(self, A: Any, T: Any) -> float:
        xp = self.backend.xp
        if self.output.name == "softmax":
            hits = xp.argmax(A, axis=1) == xp.argmax(T, axis=1)
        else:  # sigmoid units: labels by the 0.5 threshold, as predict()
            hits = xp.all((A > 0.5) == (T > 0.5), axis=1)
        return int(xp.sum(xp.astype(hits, xp.int64))) / hits.shape[0]  # an exact fraction, as scikit-learn's

    def _r2(self, A: Any, T: Any) -> float:
        xp = self.backend.xp
        residual = xp.sum((T - A) ** 2, axis=0)
        total = xp.sum((T - xp.mean(T, axis=0)) ** 2, axis=0)
        constant = total == 0
        per_output = xp.where(constant, xp.astype(residual == 0, self.dtype),
                              1.0 - residual / xp.where(constant, 1.0, total))
        return float(xp.mean(per_output))

    def summary(self) -> str:
        """A table of the layers: sizes, activation, parameters and bytes, with the totals."""
        itemsize = self.backend.xp.finfo(self.dtype).bits // 8
        device = "" if self.backend.device is None else f" ({self.backend.device})"
        title = (f"MLP {' -> '.join(map(str, self.sizes))}, loss {self.loss_fn.name}, "
                 f"{_dtype_name(self.dtype)} on {self.backend.name}{device}")
        row = "{:>5}  {:<14}  {:<12}  {:>12}  {:>14}".format
        lines = [title, row("layer", "in -> out", "activation", "params", "bytes")]
        for l, (n_in, n_out, act) in enumerate(zip(self.sizes[:-1], self.sizes[1:], self.activations)):
            n = n_in * n_out + n_out
            lines.append(row(l + 1, f"{n_in} -> {n_out}", act.name, f"{n:,}", f"{n * itemsize:,}"))
        lines.append(row("total", "", "", f"{self.n_params:,}", f"{self.n_params * itemsize:,}"))
        return "\n".join(lines)

    def copy(self) -> "MLP":
        """An independent copy: same architecture, backend, device and dtype; parameters copied there."""
        new = copy.copy(self)
        new.sizes, new.hidden = list(self.sizes), list(self.hidden)
        xp = self.backend.xp
        new._params = [(xp.asarray(W, copy=True), xp.asarray(b, copy=True)) for W, b in self._params]
        return new
