"""The scikit-learn classifier."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ..backend import array_namespace, to_numpy
from ._arrays import _as_host
from ._base import _BaseMLP


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by xpnet on any array-API backend.

    Binary targets get one sigmoid output unit (binary cross-entropy),
    multiclass targets a softmax layer (cross-entropy), multilabel indicator
    matrices one sigmoid unit per label.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` is logistic/softmax regression.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
        Hidden activation (``"logistic"`` is the sigmoid). Weights are drawn
        with He initialization for (leaky) ReLU, Glorot otherwise.
    solver : str, default="adam"
        An xpnet optimizer: ``"adam"``, ``"sgd"``, ``"momentum"``,
        ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adamw"`` (update
        rules of ``torch.optim``). ``"lbfgs"`` is not available.
    alpha : float, default=1e-4
        L2 weight decay added to the gradient of every parameter
        (``weight_decay`` of ``torch.optim``; decoupled for ``"adamw"``).
    batch_size : int or "auto", default="auto"
        Rows per minibatch; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate mode of the SGD solvers (``"sgd"``, ``"momentum"``,
        ``"nesterov"``), with scikit-learn's meaning: ``"constant"`` keeps
        ``learning_rate_init``; ``"invscaling"`` sets it after every epoch to
        ``learning_rate_init / (t_ + 1) ** power_t`` (``t_``: samples seen);
        ``"adaptive"`` divides it by 5 each time the monitored loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs (instead of
        stopping), and stops once it is already at or below 1e-6. Ignored by
        the other solvers (as scikit-learn ignores it for ``"adam"``): they
        use ``learning_rate_init`` throughout.
    learning_rate_init : float, default=1e-3
        Learning rate (the initial one with ``learning_rate="invscaling"`` or ``"adaptive"``).
    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"``.
    max_iter : int, default=200
        Maximum number of epochs for ``fit``.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffles, dropout masks and the
        validation split; an int makes ``fit`` reproducible (also across backends).
    tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as an improvement.
    verbose : bool or int, default=False
        Print progress lines (``True``: about ten; an int ``k``: every ``k`` epochs).
    warm_start : bool, default=False
        Start ``fit`` from the weights of the previous fit instead of new ones.
    momentum : float, default=0.9
        Momentum for ``solver="sgd"`` (and ``"momentum"``/``"nesterov"``).
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver="sgd"`` when ``momentum > 0``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop
        when the validation loss stops improving; the best weights are kept.
    validation_fraction : float, default=0.1
        Share of the training data held out for ``early_stopping``.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's ``betas`` and ``eps``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before ``fit`` stops.
    dropout : float, default=0.0
        Inverted dropout on the hidden layers during training.
    dtype : {"float32", "float64"}, default="float32"
        Floating type of the weights and the computation.
    backend : str or None, default=None
        Where to train for NumPy inputs: ``"numpy"`` (``None``), ``"cupy"``,
        ``"torch"``, ``"torch:cuda"``, ``"jax"``, ``"array_api_strict"``.
        With ``array_api_dispatch`` on, non-NumPy inputs are trained on
        their own library and device.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multilabel targets). Numeric
        labels are an array of the input's library under array API dispatch.
    loss_curve_ : list of float
        Training loss after each epoch, over all fits of a warm start and
        all ``partial_fit`` calls.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_loss_curve_ : list of float or None
        Validation loss after each epoch with ``early_stopping``, else None.
    validation_scores_ : list of float or None
        With ``early_stopping``: the accuracy of the held-out validation set
        after each epoch of the last fit (weighted by its rows' sample
        weights, as ``score`` computes it), else None.
    best_validation_score_ : float or None
        The highest of ``validation_scores_`` (None without ``early_stopping``).
        Early stopping itself watches the validation loss: the weights kept
        are those of the epoch where it last improved by more than ``tol``,
        whose score is in ``validation_scores_`` too, not necessarily the highest.
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    coefs_, intercepts_ : list of arrays
        Weights ``(n_in, n_out)`` and biases of every layer (NumPy, or the
        input's library under array API dispatch).
    n_features_in_ : int
        Number of features seen during fit.
    n_layers_, n_outputs_ : int
        Layers including input and output; output units.
    out_activation_ : str
        ``"logistic"`` or ``"softmax"``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from xpnet.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((32,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _targets(self, y, *, incremental, keep, classes, in_be, X):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        name = type(self).__name__
        if multilabel:
            labels = np.arange(y.shape[1])
            if keep and (not self._multilabel or len(self.classes_) != len(labels)):
                raise ValueError(f"{name} was fitted on other targets; y has {len(labels)} labels now")
            T, n_out, output = y.astype(np.float64), y.shape[1], "sigmoid"
            attrs = {"_y_dtype": y.dtype}
        else:
            attrs = {}
            if keep and self._multilabel:
                raise ValueError(f"{name} was fitted on multilabel targets; y is not multilabel")
            if incremental and keep:
                labels = to_numpy(self.classes_)
            elif incremental:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit "
                        "(all the labels that will ever occur, e.g. np.unique(y_all))."
                    )
                labels = np.unique(np.asarray(_as_host(classes)))
            else:
                labels = np.unique(y)
                if keep and not np.array_equal(to_numpy(self.classes_), labels):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {to_numpy(self.classes_)}, "
                        f"`y` has {labels}"
                    )
            if (incremental and classes is not None and keep
                    and not np.array_equal(np.unique(np.asarray(_as_host(classes))), labels)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on the first call to partial_fit, "
                    f"which was {labels}"
                )
            if len(labels) < 2:
                raise ValueError(
                    f"{name} needs samples of at least 2 classes in the data, but the data "
                    f"contains only 1 class: {labels[0]!r}"
                )
            enc = np.searchsorted(labels, y)
            unknown = (enc >= len(labels)) | (labels[np.minimum(enc, len(labels) - 1)] != y)
            if unknown.any():
                raise ValueError(f"y contains labels not in classes {labels}: {np.unique(y[unknown])}")
            n_out = 1 if len(labels) == 2 else len(labels)
            output = "sigmoid" if n_out == 1 else "softmax"
            T = enc
        if in_be is not None and labels.dtype.kind in "biuf":
            labels = in_be.asarray(labels)
        return T, n_out, output, {**attrs, "classes_": labels, "_multilabel": multilabel}

    @staticmethod
    def _score_output(A: np.ndarray, T: np.ndarray, weights: np.ndarray | None) -> float:
        """``score`` from the network's output ``A`` (host) and the encoded targets ``T``: the
        accuracy of the predicted class indices (0/1 indicators for multilabel) against ``T``,
        which equals the accuracy of the labels; NaN when the output is not finite."""
        if not np.isfinite(A).all():
            return float("nan")
        if T.ndim == 2:
            pred = (A > 0.5).astype(T.dtype)
        else:
            pred = (A[:, 0] > 0.5).astype(T.dtype) if A.shape[1] == 1 else np.argmax(A, axis=1)
        return float(accuracy_score(T, pred, sample_weight=weights))

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        The optimizer state (Adam's moment estimates, SGD's momentum) is
        kept from one call to the next, and from the last ``fit``; pickling
        keeps it too, and so do the learning-rate modes (``"invscaling"``
        counts every sample seen, ``"adaptive"`` its epochs without
        improvement). Early stopping does not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class that can occur; required on the first call (unless
            ``y`` is a multilabel indicator matrix), ignored afterwards
            except for a consistency check.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : array of shape (n_samples, n_classes)
            Rows sum to 1 (for multilabel targets: the probability of each
            label). NumPy, or the input's library and device under array API
            dispatch; of the estimator's ``dtype``.
        """
        return self._proba(self._net_output(X, "predict_proba"))

    def _proba(self, A):
        if self._multilabel or A.shape[1] > 1:
            return A
        xp = array_namespace(A)
        return xp.concat([1.0 - A, A], axis=1)

    def predict(self, X):
        """Predicted class labels for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : array of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_`` (the argmax of ``predict_proba``); 0/1
            indicators for multilabel targets.
        """
        A = self._net_output(X, "predict")
        xp = array_namespace(A)
        if self._multilabel:
            pred = A > 0.5
            return pred.astype(self._y_dtype) if isinstance(A, np.ndarray) else \
                xp.astype(pred, getattr(xp, np.dtype(self._y_dtype).name))
        idx = xp.argmax(self._proba(A), axis=1)
        classes = self.classes_
        if isinstance(idx, np.ndarray):
            return to_numpy(classes)[idx]
        if isinstance(classes, np.ndarray):  # string labels: the labels stay NumPy
            return classes[to_numpy(idx)]
        return xp.take(classes, idx)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y`` (subset accuracy for multilabel).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels (any array library).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy as a Python float.
        """
        pred = to_numpy(self.predict(X))
        return float(accuracy_score(_as_host(y), pred, sample_weight=_as_host(sample_weight)))
