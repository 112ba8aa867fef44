"""The scikit-learn regressor."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import column_or_1d

from ..backend import to_numpy
from ._arrays import _as_host
from ._base import _BaseMLP


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by xpnet on any array-API backend.

    An identity output layer trained on the squared error (half the mean
    squared error, as in scikit-learn); 1-D targets give 1-D predictions,
    ``(n_samples, n_outputs)`` targets give 2-D predictions.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` is linear regression.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
        Hidden activation.
    solver : str, default="adam"
        An xpnet optimizer (see :class:`MLPClassifier`).
    alpha : float, default=1e-4
        L2 weight decay added to the gradient of every parameter.
    batch_size : int or "auto", default="auto"
        Rows per minibatch; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate mode of the SGD solvers (see :class:`MLPClassifier`).
    learning_rate_init : float, default=1e-3
        Learning rate (the initial one with ``learning_rate="invscaling"`` or ``"adaptive"``).
    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"``.
    max_iter : int, default=200
        Maximum number of epochs for ``fit``.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, shuffles, dropout masks and validation split.
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as an improvement.
    verbose : bool or int, default=False
        Print progress lines.
    warm_start : bool, default=False
        Start ``fit`` from the weights of the previous fit.
    momentum : float, default=0.9
        Momentum for ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the
        validation loss stops improving (the best weights are kept).
    validation_fraction : float, default=0.1
        Share of the training data held out for ``early_stopping``.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's ``betas`` and ``eps``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before ``fit`` stops.
    dropout : float, default=0.0
        Inverted dropout on the hidden layers during training.
    dtype : {"float32", "float64"}, default="float32"
        Floating type of the weights, the computation and the predictions.
    backend : str or None, default=None
        Where to train for NumPy inputs (see :class:`MLPClassifier`).

    Attributes
    ----------
    loss_curve_ : list of float
        Training loss after each epoch.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_loss_curve_ : list of float or None
        Validation loss after each epoch with ``early_stopping``, else None.
    validation_scores_ : list of float or None
        With ``early_stopping``: :math:`R^2` of the held-out validation set
        after each epoch of the last fit (weighted, as ``score``), else None.
    best_validation_score_ : float or None
        The highest of ``validation_scores_`` (None without ``early_stopping``).
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    coefs_, intercepts_ : list of arrays
        Weights and biases of every layer.
    n_features_in_ : int
        Number of features seen during fit.
    n_layers_, n_outputs_ : int
        Layers including input and output; output units.
    out_activation_ : str
        ``"identity"``.

    Examples
    --------
    >>> import numpy as np
    >>> from xpnet.sklearn import MLPRegressor
    >>> X = np.linspace(-3, 3, 400).reshape(-1, 1)
    >>> reg = MLPRegressor((32,), activation="tanh", learning_rate_init=0.01,
    ...                    max_iter=500, random_state=0).fit(X, np.sin(X[:, 0]))
    >>> reg.score(X, np.sin(X[:, 0])) > 0.9
    True
    """

    def _targets(self, y, *, incremental, keep, classes, in_be, X):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if keep and n_out != self.n_outputs_:
            raise ValueError(
                f"y has {n_out} output(s) but {type(self).__name__} was fitted with {self.n_outputs_}"
            )
        return y.astype(np.float64), n_out, "identity", {}

    @staticmethod
    def _score_output(A: np.ndarray, T: np.ndarray, weights: np.ndarray | None) -> float:
        """``score`` (:math:`R^2`) from the network's output ``A`` (host); NaN when it is not finite."""
        if not np.isfinite(A).all():
            return float("nan")
        return float(r2_score(T, A[:, 0] if T.ndim == 1 else A, sample_weight=weights))

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        The optimizer state and the learning-rate mode's state are kept from
        one call to the next (and from the last ``fit``). Early stopping does
        not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as in :meth:`fit`.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Predictions of the estimator's ``dtype``: NumPy, or the input's
            library and device under array API dispatch.
        """
        A = self._net_output(X, "predict")
        return A[:, 0] if self.n_outputs_ == 1 and A.ndim == 2 else A

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination :math:`R^2` of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets (any array library).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            :math:`R^2` as a Python float.
        """
        pred = to_numpy(self.predict(X))
        y = _as_host(y)
        if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1 and pred.ndim == 1:
            pred = pred.reshape(-1, 1)
        return float(r2_score(y, pred, sample_weight=_as_host(sample_weight)))
