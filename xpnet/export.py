"""Export a trained :class:`~xpnet.MLP` to ONNX, for onnxruntime and other ONNX runtimes.

The file computes ``model.forward``: input ``X`` of shape ``[batch, n_in]``
(the batch dimension is dynamic), output ``Y`` of shape ``[batch, n_out]``
(probabilities for sigmoid/softmax outputs), float32 or float64 as the model
is. Each layer is ``MatMul`` + ``Add``, then its activation.

Activations are written with the primitive ops (``Exp``, ``Log``, ``Max``,
``Where``, ...) that every runtime implements for both float types, in the
same formulas xpnet computes, so the exported model gives xpnet's numbers:

* onnxruntime has no float64 kernel for ``Elu``, ``Selu``, ``Softplus``,
  ``LeakyRelu``, ``Erf`` or ``Gelu``, and its ``Sigmoid`` loses the lower tail
  (``sigmoid(-30)`` is off by 1e-3 in float64, ``sigmoid(-18)`` by 100% in
  float32); only ``Relu``, ``Tanh`` and ``Softmax`` are used as such.
* GELU is the erfc series of :func:`xpnet.activations.erfc` spelled out
  (about 90 nodes per GELU layer): the ``Gelu`` op exists only from opset 20,
  and ``Erf`` loses the lower tail (``1 + erf(z)`` cancels).
* ``expm1`` (ELU, SELU) and ``log1p`` (softplus), which ONNX lacks, use
  Kahan's exact forms ``(u - 1) x / log(u)`` and ``log(w) v / (w - 1)``.

The default opset is 17 (what ``torch.onnx.export`` writes by default);
anything from 13 (``Softmax`` over one axis) to the newest the installed
``onnx`` knows is accepted. The IR version is the oldest that supports the
opset, for older runtimes.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np  # host side: the parameters are read once and written into the file

from . import activations as acts
from .backend import dtype_name, to_numpy
from .errors import InvalidArgumentError, InvalidTypeError, MissingDependencyError
from .io import check_builtin_activations, check_writable, write_file
from .model import MLP

__all__ = ["export_onnx", "DEFAULT_OPSET", "MIN_OPSET"]

#: The opset written when ``opset=None``.
DEFAULT_OPSET = 17
#: The oldest opset accepted (``Softmax`` along one axis).
MIN_OPSET = 13


def export_onnx(model: MLP, path: str | os.PathLike, *, opset: int | None = None) -> None:
    """Write ``model`` to ``path`` as an ONNX model that computes ``model.forward``.

    Parameters
    ----------
    model : MLP
        The model, on any backend (its parameters are copied to the host once).
    path : str or os.PathLike
        The file to write, atomically (a temporary file in the same directory,
        then a rename): an existing file is replaced only by a complete one.
    opset : int or None
        The ONNX opset; None is :data:`DEFAULT_OPSET` (17).

    Raises
    ------
    MissingDependencyError
        The ``onnx`` package is not installed (``pip install "xpnet[onnx]"``).
    InvalidArgumentError
        An opset out of range, a custom activation, parameters holding NaN or
        infinity, or a path that cannot be written.
    """
    if not isinstance(model, MLP):
        raise InvalidTypeError(f"model must be an xpnet.MLP; got {type(model).__name__}")
    _check_exportable(model)
    check_writable(path)
    onnx = _import_onnx()
    opset = _check_opset(onnx, opset)
    proto = _build_model(onnx, model, opset)
    onnx.checker.check_model(proto, full_check=True)
    _write_atomically(Path(path), proto.SerializeToString())


# -- checks ----------------------------------------------------------------------
def _import_onnx() -> Any:
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError:
        raise MissingDependencyError(
            'exporting to ONNX needs the onnx package: pip install "xpnet[onnx]" '
            '(or pip install "onnx>=1.15")'
        ) from None
    return onnx


def _check_exportable(model: MLP) -> None:
    check_builtin_activations(model, "exported to ONNX")
    for l, (W, b) in enumerate(model.params):
        if not (np.isfinite(to_numpy(W)).all() and np.isfinite(to_numpy(b)).all()):
            raise InvalidArgumentError(
                f"refusing to export layer {l}: its parameters hold NaN or infinity (training diverged?)"
            )


def _check_opset(onnx: Any, opset: Any) -> int:
    if opset is None:
        return DEFAULT_OPSET
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise InvalidArgumentError(
            f"opset must be an int from {MIN_OPSET} to {newest} (the newest this onnx "
            f"{onnx.__version__} knows) or None for {DEFAULT_OPSET}; got {opset!r}"
        )
    return opset


# -- the graph -----------------------------------------------------------------------
class _Graph:
    """Nodes and initializers under construction; every value is named by ``add``/``const``."""

    def __init__(self, onnx: Any, dtype: np.dtype) -> None:
        self.onnx, self.dtype = onnx, dtype
        self.nodes: list = []
        self.initializers: list = []
        self._consts: dict[float, str] = {}

    def add(self, op: str, *inputs: str, out: str | None = None, **attributes: Any) -> str:
        """Append one node; return the name of its output (``out``, or a fresh one)."""
        out = out or f"{op}_{len(self.nodes)}"
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [out], **attributes))
        return out

    def const(self, value: float) -> str:
        """A scalar of the model's dtype (each value stored once)."""
        name = self._consts.get(value)
        if name is None:
            name = self._consts[value] = f"c{len(self._consts)}"
            self.tensor(name, np.asarray(value, dtype=self.dtype))
        return name

    def tensor(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name


def _build_model(onnx: Any, model: MLP, opset: int) -> Any:
    from . import __version__

    dtype = np.dtype(dtype_name(model.dtype))
    elem = {np.dtype(np.float32): onnx.TensorProto.FLOAT,
            np.dtype(np.float64): onnx.TensorProto.DOUBLE}[dtype]
    g = _Graph(onnx, dtype)
    A = "X"
    for l, ((W, b), act) in enumerate(zip(model.params, model.activations)):
        Z = g.add("Add", g.add("MatMul", A, g.tensor(f"W{l}", to_numpy(W))), g.tensor(f"b{l}", to_numpy(b)))
        A = _ACTIVATION_GRAPHS[act.name](g, Z)
    g.add("Identity", A, out="Y")  # the output gets a node of its own, also for an identity activation
    helper = onnx.helper
    graph = helper.make_graph(
        g.nodes, "xpnet_mlp",
        [helper.make_tensor_value_info("X", elem, ["batch", model.sizes[0]])],
        [helper.make_tensor_value_info("Y", elem, ["batch", model.sizes[-1]])],
        initializer=g.initializers,
        doc_string=repr(model),
    )
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets),
                              producer_name="xpnet", producer_version=__version__)
    helper.set_model_props(proto, {"xpnet_config": json.dumps(model.config())})
    return proto


# -- activations, in xpnet's own formulas ---------------------------------------------
def _exp_minus_half_square(g: _Graph, a: str) -> str:
    """``exp(-a**2 / 2)`` with ``a = hi + lo`` split as in :func:`xpnet.activations._exp_minus_square`."""
    scale = g.const(acts._SPLIT_SCALE[g.dtype.itemsize * 8])
    hi = g.add("Div", g.add("Round", g.add("Mul", a, scale)), scale)
    big = g.add("Exp", g.add("Mul", g.const(-0.5), g.add("Mul", hi, hi)))
    small = g.add("Exp", g.add("Mul", g.const(-0.5), g.add("Mul", g.add("Sub", a, hi), g.add("Add", a, hi))))
    return g.add("Mul", big, small)


def _erfcx(g: _Graph, a: str) -> str:
    """``exp(a**2) erfc(a)`` for ``a >= 0``: the Chebyshev series of :func:`xpnet.activations.erfc`."""
    K, cheb = acts._ERFC_K, acts._ERFC_CHEB
    t = g.add("Div", g.add("Sub", a, g.const(K)), g.add("Add", a, g.const(K)))
    two_t = g.add("Mul", g.const(2.0), t)
    b1, b2 = g.const(cheb[-1]), None
    for c in cheb[-2:0:-1]:
        step = g.add("Mul", two_t, b1)
        if b2 is not None:
            step = g.add("Sub", step, b2)
        b1, b2 = g.add("Add", step, g.const(c)), b1
    h = g.add("Add", g.add("Sub", g.add("Mul", t, b1), b2), g.const(cheb[0]))
    return g.add("Mul", h, g.add("Div", g.const(K), g.add("Add", a, g.const(K))))


def _gelu(g: _Graph, z: str) -> str:
    a = g.add("Abs", z)
    density = _exp_minus_half_square(g, a)
    ratio = _erfcx(g, g.add("Mul", a, g.const(math.sqrt(0.5))))
    tail = g.add("Mul", g.add("Mul", g.const(0.5), density), ratio)  # Phi(-|z|) = erfc(|z| / sqrt 2) / 2
    cdf = g.add("Where", _negative(g, z), tail, g.add("Sub", g.const(1.0), tail))
    return g.add("Mul", z, cdf)


def _negative(g: _Graph, z: str) -> str:
    return g.add("Less", z, g.const(0.0))


def _sigmoid(g: _Graph, z: str) -> str:
    """xpnet's sigmoid ``1 / (1 + exp(-max(z, floor)))``, floor ``1 - log(max)`` of the dtype."""
    floor = g.const(1.0 - math.log(float(np.finfo(g.dtype).max)))
    one = g.const(1.0)
    return g.add("Div", one, g.add("Add", one, g.add("Exp", g.add("Neg", g.add("Max", z, floor)))))


def _sigmoid_tails(g: _Graph, z: str) -> str:
    """``sigmoid(z)`` from ``e = exp(-|z|)``, exact in both tails (SiLU's and gelu_tanh's)."""
    e = g.add("Exp", g.add("Neg", g.add("Abs", z)))
    d = g.add("Add", g.const(1.0), e)
    return g.add("Where", _negative(g, z), g.add("Div", e, d), g.add("Div", g.const(1.0), d))


def _expm1_nonpositive(g: _Graph, m: str) -> str:
    """``expm1(m)`` for ``m <= 0`` as ``(u - 1) m / log(u)``, ``u = exp(m)``: exact also near 0 (Kahan).

    ``m`` is first raised to -60, where ``expm1`` is -1 in either float type and ``u`` is not 0.
    """
    m = g.add("Max", m, g.const(-60.0))
    u = g.add("Exp", m)
    ratio = g.add("Div", g.add("Mul", g.add("Sub", u, g.const(1.0)), m), g.add("Log", u))
    return g.add("Where", g.add("Equal", u, g.const(1.0)), m, ratio)


def _log1p_nonnegative(g: _Graph, v: str) -> str:
    """``log1p(v)`` for ``v >= 0`` as ``log(w) v / (w - 1)``, ``w = 1 + v``: exact also near 0."""
    w = g.add("Add", g.const(1.0), v)
    d = g.add("Sub", w, g.const(1.0))
    ratio = g.add("Mul", g.add("Log", w), g.add("Div", v, d))
    return g.add("Where", g.add("Equal", d, g.const(0.0)), v, ratio)


def _elu(g: _Graph, z: str) -> str:
    return g.add("Add", g.add("Relu", z), _expm1_nonpositive(g, g.add("Min", z, g.const(0.0))))


def _selu(g: _Graph, z: str) -> str:
    expm1 = _expm1_nonpositive(g, g.add("Min", z, g.const(0.0)))
    negative = g.add("Mul", g.const(acts._SELU_SCALE_ALPHA), expm1)
    return g.add("Add", g.add("Mul", g.const(acts.SELU_SCALE), g.add("Relu", z)), negative)


def _softplus(g: _Graph, z: str) -> str:
    return g.add("Add", g.add("Relu", z), _log1p_nonnegative(g, g.add("Exp", g.add("Neg", g.add("Abs", z)))))


def _gelu_tanh(g: _Graph, z: str) -> str:
    cube = g.add("Mul", g.add("Mul", z, z), z)
    inner = g.add("Add", z, g.add("Mul", g.const(acts._GELU_TANH_CUBIC), cube))
    u = g.add("Mul", g.const(acts._GELU_TANH_C), inner)
    return g.add("Mul", z, _sigmoid_tails(g, g.add("Mul", g.const(2.0), u)))


_ACTIVATION_GRAPHS: dict[str, Callable[[_Graph, str], str]] = {
    "identity": lambda g, z: z,
    "sigmoid": _sigmoid,
    "tanh": lambda g, z: g.add("Tanh", z),
    "relu": lambda g, z: g.add("Relu", z),
    "leaky_relu": lambda g, z: g.add("Max", z, g.add("Mul", g.const(acts.LEAKY_RELU_SLOPE), z)),
    "softmax": lambda g, z: g.add("Softmax", z, axis=-1),
    "gelu": _gelu,
    "gelu_tanh": _gelu_tanh,
    "elu": _elu,
    "selu": _selu,
    "silu": lambda g, z: g.add("Mul", z, _sigmoid_tails(g, z)),
    "softplus": _softplus,
}


# -- writing ---------------------------------------------------------------------
def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` the way model files are written (temporary file, fsync, rename)."""
    try:
        write_file(path, lambda fh: fh.write(data))
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write path={str(path)!r}: {exc.strerror or exc}") from exc