"""scikit-learn estimators backed by xpnet: :class:`MLPClassifier` and :class:`MLPRegressor`.

They follow scikit-learn's estimator API (``fit``, ``partial_fit``,
``predict``, ``predict_proba``, ``score``, ``get_params``/``set_params``,
``clone``, pipelines, grid search) and pass its ``check_estimator`` suite.
Under the hood ``fit`` builds an :class:`xpnet.MLP` and trains it with one
call to :func:`xpnet.train`, so training runs on any array-API backend::

    from xpnet.sklearn import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, random_state=0)
    clf.fit(X, y)                        # NumPy in ...
    clf.predict_proba(X)                 # ... NumPy out

Where the computation happens:

* NumPy (or list, pandas, ...) inputs: on the ``backend`` parameter's
  library (NumPy by default; ``backend="cupy"`` or ``"torch:cuda"`` trains on
  a GPU), with NumPy outputs.
* With ``sklearn.set_config(array_api_dispatch=True)`` (scikit-learn's array
  API mode, which needs SciPy and ``SCIPY_ARRAY_API=1``), arrays of another
  library (CuPy, PyTorch, JAX, array-api-strict) are trained on where they
  live, and ``predict``/``predict_proba`` return arrays of that library on
  that device, as scikit-learn's array API rule asks. Calling ``predict``
  with arrays of another library or device than ``fit`` raises a
  ``ValueError``. Without dispatch such arrays are converted to NumPy.

Differences from :class:`sklearn.neural_network.MLPClassifier`: no ``lbfgs``
solver; ``solver`` takes any xpnet optimizer (``learning_rate``/``power_t``
apply to the SGD ones, as scikit-learn applies them to ``"sgd"`` only);
``alpha`` is PyTorch-style weight decay (``grad += alpha * param`` on every
parameter, biases included) rather than a penalty divided by the batch size;
``early_stopping`` (and ``learning_rate="adaptive"`` with it) monitors the
validation *loss*, unweighted, while ``validation_scores_`` reports the
weighted score; computation is float32 unless ``dtype="float64"``; sparse
input is not accepted.
"""

from __future__ import annotations

try:  # validate_data: scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "xpnet.sklearn needs scikit-learn >= 1.6 "
        f"({exc}); install it with: pip install 'xpnet[sklearn]'"
    ) from None

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
